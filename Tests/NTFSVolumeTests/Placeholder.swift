enum NTFSVolumeTestsPlaceholder {}
