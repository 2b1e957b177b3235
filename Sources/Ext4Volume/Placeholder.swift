enum Ext4VolumePlaceholder {}
