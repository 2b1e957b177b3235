enum PlaceholderByteParsingTests {}
