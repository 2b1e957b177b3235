enum PlaceholderKeyManagementTests {}
