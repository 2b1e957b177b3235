enum PlaceholderCryptographyTests {}
