enum NTFSVolumePlaceholder {}
