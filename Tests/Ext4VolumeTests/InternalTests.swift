import BlockDevices
import CExt2fs
@testable import Ext4Volume
import Testing
import VolumeModel

/// The pieces that decode on-disk fields, on hand-made bytes with known answers.
@Suite struct InternalTests {
    /// A 256-byte inode with the given fields (offsets of struct ext2_inode_large).
    static func inode(mode: UInt16 = 0o100644, flags: UInt32 = 0, blocksLow: UInt32 = 0, blocksHigh: UInt16 = 0,
                      extraSize: UInt16 = 32, size: Int = 256, fields: [(Int, UInt32)] = []) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: size)
        func put32(_ value: UInt32, at offset: Int) {
            for index in 0 ..< 4 where offset + index < bytes.count { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index)) }
        }
        func put16(_ value: UInt16, at offset: Int) { put32(UInt32(value), at: offset); if offset + 2 < bytes.count { bytes[offset + 2] = 0; bytes[offset + 3] = 0 } }
        put16(mode, at: 0x00)
        put16(1, at: 0x1A)
        put32(blocksLow, at: 0x1C)
        put32(flags, at: 0x20)
        put16(blocksHigh, at: 0x74)
        if size > 128 { put16(extraSize, at: 0x80) }
        for (offset, value) in fields { put32(value, at: offset) }
        return bytes
    }

    @Test func timestampDecoding() {
        #expect(Inode.timestamp(0x6040_6ABF, extra: nil) == Timestamp(seconds: 0x6040_6ABF, nanoseconds: 0))
        #expect(Inode.timestamp(0xFFFF_FFFF, extra: nil) == Timestamp(seconds: -1, nanoseconds: 0))
        #expect(Inode.timestamp(0xFFFF_FFFF, extra: 1) == Timestamp(seconds: (1 << 32) - 1, nanoseconds: 0))
        #expect(Inode.timestamp(0, extra: 2 | 999_999_999 << 2) == Timestamp(seconds: 2 << 32, nanoseconds: 999_999_999))
        #expect(Inode.timestamp(0, extra: 0xFFFF_FFFC).nanoseconds == 999_999_999, "out-of-range nanoseconds are clamped")
    }

    @Test func ownersSizesAndTimesFromRawInode() throws {
        let bytes = Self.inode(fields: [(0x02, 0x1170), (0x78, 0x0001), (0x18, 0x3880), (0x7A, 0x0001),
                                        (0x04, 0x0000_0010), (0x6C, 0x0000_0002), (0x10, 100), (0x88, 7 << 2),
                                        (0x90, 50), (0x94, 1 | 3 << 2)])
        let inode = try Inode(volume: "v", number: 12, bytes: bytes, blockSize: 4096, hugeFiles: true)
        #expect(inode.uid == 70000)
        #expect(inode.gid == 80000)
        #expect(inode.size == 2 << 32 | 0x10)
        #expect(inode.modified == Timestamp(seconds: 100, nanoseconds: 7))
        #expect(inode.created == Timestamp(seconds: 50 + (1 << 32), nanoseconds: 3))
        #expect(inode.kind == .regular)
        #expect(inode.attributes(kind: .regular).permissions == 0o644)
    }

    @Test func extraFieldsOnlyWhereExtraSizeReaches() throws {
        // i_extra_isize 12 covers ctime_extra and mtime_extra, not atime_extra nor crtime.
        let bytes = Self.inode(extraSize: 12, fields: [(0x88, 9 << 2), (0x8C, 9 << 2), (0x90, 5)])
        let inode = try Inode(volume: "v", number: 12, bytes: bytes, blockSize: 4096, hugeFiles: false)
        #expect(inode.modified.nanoseconds == 9)
        #expect(inode.accessed.nanoseconds == 0)
        #expect(inode.created == nil)
        // Larger than the inode, or not a multiple of 4: the kernel refuses such inodes.
        for bad: UInt16 in [200, 6] {
            #expect(throws: VolumeError.self) { try Inode(volume: "v", number: 12, bytes: Self.inode(extraSize: bad), blockSize: 4096, hugeFiles: false) }
        }
        let small = try Inode(volume: "v", number: 12, bytes: Self.inode(size: 128), blockSize: 4096, hugeFiles: false)
        #expect(small.created == nil)
    }

    @Test func blockCountUnits() throws {
        // No huge_file: 32 bits of 512-byte sectors.
        #expect(try Inode(volume: "v", number: 1, bytes: Self.inode(blocksLow: 8, blocksHigh: 1), blockSize: 4096, hugeFiles: false).sectors == 8)
        // huge_file: 48 bits of sectors.
        #expect(try Inode(volume: "v", number: 1, bytes: Self.inode(blocksLow: 8, blocksHigh: 1), blockSize: 4096, hugeFiles: true).sectors == 1 << 32 | 8)
        // huge_file and EXT4_HUGE_FILE_FL: filesystem blocks.
        let huge = try Inode(volume: "v", number: 1, bytes: Self.inode(flags: 0x4_0000, blocksLow: 8, blocksHigh: 1), blockSize: 4096, hugeFiles: true)
        #expect(huge.sectors == (1 << 32 | 8) * 8)
        #expect(huge.attributes(kind: .regular).allocatedBytes == (1 << 32 | 8) * 4096)
    }

    @Test func deviceNumbers() throws {
        func device(_ word0: UInt32, _ word1: UInt32) throws -> UInt64 {
            try Inode(volume: "v", number: 1, bytes: Self.inode(mode: 0o20644, fields: [(0x28, word0), (0x2C, word1)]),
                      blockSize: 4096, hugeFiles: false).deviceNumber
        }
        #expect(try device(0x0405, 0) == FeatureTests.makedev(4, 5))
        #expect(try device(0, 0x0001_2C07) == FeatureTests.makedev(300, 7))
        #expect(try device(0, 0x0FD1_03E8) == FeatureTests.makedev(259, 65000))
        #expect(DeviceNumber.make(major: 0x12345, minor: 0x6789A) == FeatureTests.makedev(0x12345, 0x6789A))
    }

    @Test func posixACLConversion() throws {
        // ext4 on-disk: version 1; USER_OBJ rw-, USER 1234 rwx, GROUP_OBJ r--, MASK rwx, OTHER r--.
        let disk: [UInt8] = [1, 0, 0, 0, 1, 0, 6, 0, 2, 0, 7, 0, 0xD2, 4, 0, 0, 4, 0, 4, 0, 0x10, 0, 7, 0, 0x20, 0, 4, 0]
        let xattr: [UInt8] = [2, 0, 0, 0, 1, 0, 6, 0, 255, 255, 255, 255, 2, 0, 7, 0, 0xD2, 4, 0, 0,
                              4, 0, 4, 0, 255, 255, 255, 255, 0x10, 0, 7, 0, 255, 255, 255, 255, 0x20, 0, 4, 0, 255, 255, 255, 255]
        #expect(try Ext4ACL.xattrValue(fromDisk: disk, volume: "v", structure: "inode 1", name: "system.posix_acl_access") == xattr)
        #expect(try Ext4ACL.xattrValue(fromDisk: xattr, volume: "v", structure: "inode 1", name: "system.posix_acl_access") == xattr, "already converted")
        #expect(try Ext4ACL.xattrValue(fromDisk: [1, 0, 0, 0], volume: "v", structure: "inode 1", name: "system.posix_acl_access") == [2, 0, 0, 0])
        for bad: [UInt8] in [[], [3, 0, 0, 0], [1, 0, 0, 0, 0x40, 0, 7, 0], [1, 0, 0, 0, 2, 0, 7, 0, 1], [1, 0, 0, 0, 1]] {
            #expect(throws: VolumeError.self) { try Ext4ACL.xattrValue(fromDisk: bad, volume: "v", structure: "inode 1", name: "system.posix_acl_access") }
        }
    }

    @Test func listedAttributeNames() {
        for name in ["user.x", "trusted.t", "security.selinux", "system.posix_acl_access", "system.posix_acl_default"] {
            #expect(Ext4Volume.isListed(name))
        }
        for name in ["system.data", "c", "system.richacl", "gnu.x", "lustre.lov", ""] {
            #expect(!Ext4Volume.isListed(name), "\(name)")
        }
    }

    @Test func runCollectorChecks() throws {
        var collector = RunCollector(inode: 5, blockCount: 1000, firstDataBlock: 1, volume: "v")
        try collector.add(logical: 0, physical: 10, count: 4, initialized: true)
        try collector.add(logical: 4, physical: 14, count: 4, initialized: true)
        try collector.add(logical: 8, physical: 18, count: 2, initialized: false)
        try collector.add(logical: 20, physical: 100, count: 1, initialized: true)
        #expect(collector.runs == [Run(logical: 0, physical: 10, count: 8, initialized: true),
                                   Run(logical: 8, physical: 18, count: 2, initialized: false),
                                   Run(logical: 20, physical: 100, count: 1, initialized: true)])
        #expect(throws: VolumeError.self) { try collector.add(logical: 20, physical: 200, count: 1, initialized: true) }
        #expect(throws: VolumeError.self) { try collector.add(logical: 30, physical: 200, count: 0, initialized: true) }
        #expect(throws: VolumeError.self) { try collector.add(logical: 30, physical: 999, count: 2, initialized: true) }
        #expect(throws: VolumeError.self) { try collector.add(logical: 30, physical: 0, count: 1, initialized: true) }
        #expect(throws: VolumeError.self) { try collector.add(logical: 30, physical: UInt64.max, count: 2, initialized: true) }
        #expect(throws: VolumeError.self) { try collector.add(logical: (1 << 32) - 1, physical: 5, count: 2, initialized: true) }
    }

    @Test func featureNamesAndFlavour() throws {
        #expect(Feature.names(compat: 0x4 | 0x8000_0000, incompat: 0x2 | 0x40 | 0x4_0000_0, readOnlyCompat: 0x400 | 0x20_0000)
            == ["has_journal", "FEATURE_C31", "filetype", "extent", "FEATURE_I22", "metadata_csum", "FEATURE_R21"])
        var superblock = [UInt8](repeating: 0, count: 1024)
        superblock[0x4C] = 1
        superblock[0x5C] = 0x04
        #expect(try Superblock(superblock).flavour == .ext3)
        superblock[0x60] = 0x40
        #expect(try Superblock(superblock).flavour == .ext4)
        superblock[0x5C] = 0
        superblock[0x60] = 0x02
        #expect(try Superblock(superblock).flavour == .ext2)
        superblock[0x68] = 0xAB
        #expect(try Superblock(superblock).info.uuid == "ab000000-0000-0000-0000-000000000000")
    }

    @Test func namesInMessages() {
        #expect(Ext4Volume.escaped([0x61, 0x00, 0x2F, 0xFF, 0x27, 0x5C]) == "'a\\x00/\\xff\\x27\\x5c'")
    }

    /// The I/O manager never writes: opening for writing and every write entry point fail.
    @Test func ioManagerRefusesWrites() throws {
        let manager = BlockDeviceIOManager.manager
        let channel = DeviceChannel(device: MemoryDevice(bytes: [UInt8](repeating: 7, count: 8192)))
        var opened: io_channel?
        let writable = BlockDeviceIOManager.withRegisteredName(for: channel) { name in
            manager.pointee.open(name, IO_FLAG_RW, &opened)
        }
        #expect(writable == EXT2_ET_RO_FILSYS)
        #expect(opened == nil)
        let code = BlockDeviceIOManager.withRegisteredName(for: channel) { name in manager.pointee.open(name, 0, &opened) }
        #expect(code == 0)
        let io = try #require(opened)
        var buffer = [UInt8](repeating: 0, count: 2048)
        #expect(manager.pointee.set_blksize(io, 1024) == 0)
        #expect(buffer.withUnsafeMutableBytes { manager.pointee.read_blk64(io, 1, 2, $0.baseAddress) } == 0)
        #expect(buffer.allSatisfy { $0 == 7 })
        #expect(buffer.withUnsafeMutableBytes { manager.pointee.read_blk64(io, 7, 2, $0.baseAddress) } == EXT2_ET_SHORT_READ, "past the end")
        #expect(buffer.allSatisfy { $0 == 0 }, "a failed read leaves zeros, not stale bytes")
        #expect(channel.takeError() != nil)
        #expect(buffer.withUnsafeBytes { manager.pointee.write_blk64(io, 1, 1, $0.baseAddress) } == EXT2_ET_RO_FILSYS)
        #expect(buffer.withUnsafeBytes { manager.pointee.write_blk(io, 1, 1, $0.baseAddress) } == EXT2_ET_RO_FILSYS)
        #expect(buffer.withUnsafeBytes { manager.pointee.write_byte(io, 0, 1, $0.baseAddress) } == EXT2_ET_RO_FILSYS)
        #expect(manager.pointee.discard(io, 0, 1) == EXT2_ET_RO_FILSYS)
        #expect(manager.pointee.zeroout(io, 0, 1) == EXT2_ET_RO_FILSYS)
        // An unknown name opens nothing.
        #expect(manager.pointee.open("rpfs-not-registered", 0, &opened) == EXT2_ET_BAD_DEVICE_NAME)
        #expect(manager.pointee.close(io) == 0)
    }
}
