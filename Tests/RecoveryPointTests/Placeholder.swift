enum PlaceholderRecoveryPointTests {}
