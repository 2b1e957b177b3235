enum PartitionTableTestsPlaceholder {}
