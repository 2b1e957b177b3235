enum PartitionTablePlaceholder {}
