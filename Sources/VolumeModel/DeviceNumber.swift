/// Device numbers of block and character device nodes, as `NodeAttributes.device` holds them.
public enum DeviceNumber {
    /// glibc's makedev for 64-bit dev_t.
    public static func make(major: UInt32, minor: UInt32) -> UInt64 {
        let major = UInt64(major)
        let minor = UInt64(minor)
        return (major & 0x0000_0FFF) << 8 | (major & 0xFFFF_F000) << 32 | (minor & 0x0000_00FF) | (minor & 0xFFFF_FF00) << 12
    }
}
