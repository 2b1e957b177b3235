enum PlaceholderCLITests {}
