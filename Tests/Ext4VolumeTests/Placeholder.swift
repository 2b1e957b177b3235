enum Ext4VolumeTestsPlaceholder {}
