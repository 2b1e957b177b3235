#if canImport(Glibc)
import Glibc
#endif
import BlockDevices
import CExt2fs
import Synchronization

/// The `BlockDevice` behind one libext2fs I/O channel, and the last read error it saw.
///
/// libext2fs only sees an `errcode_t`; the error that caused it (a missing chunk, an I/O
/// error, a block past the device) is kept here so the volume can report the real cause and
/// where it was instead of "short read".
final class DeviceChannel: Sendable {
    let device: any BlockDevice
    private let lastError = Mutex<ChannelError?>(nil)

    init(device: any BlockDevice) {
        self.device = device
    }

    func record(_ error: ChannelError) {
        lastError.withLock { $0 = error }
    }

    /// The error recorded since the last call, clearing it.
    func takeError() -> ChannelError? {
        lastError.withLock { error in
            let taken = error
            error = nil
            return taken
        }
    }
}

/// Why a read libext2fs asked for did not happen.
enum ChannelError: Sendable {
    /// The device failed the read of `count` bytes at volume byte `offset`.
    case read(DiskReadError, offset: UInt64, count: Int)
    /// Block `block` of `blockSize` bytes lies past 2^64 bytes: no device holds it.
    case unaddressable(block: UInt64, blockSize: Int64)
}

/// A libext2fs `io_manager` whose channels read from a `BlockDevice` and refuse every write.
///
/// libext2fs opens a channel by name only (`manager->open(name, flags, &channel)`), so a
/// volume registers its device under a name unique to that open, opens, and unregisters:
/// the channel keeps its own reference to the device for as long as libext2fs holds it.
/// Nothing is ever written: every write entry point returns `EXT2_ET_RO_FILSYS`.
enum BlockDeviceIOManager {
    /// Devices waiting to be opened by name; an entry lives only for one `ext2fs_open2` call.
    private static let pending = Mutex<(next: UInt64, devices: [String: DeviceChannel])>((0, [:]))

    /// Registers `channel` under a fresh name, runs `body` with that name, then unregisters.
    static func withRegisteredName<T, E: Error>(for channel: DeviceChannel, _ body: (String) throws(E) -> T) throws(E) -> T {
        let name = pending.withLock { state in
            state.next &+= 1
            // No '?' in the name: ext2fs_open2 would treat what follows as I/O options.
            let name = "rpfs-blockdevice-\(state.next)"
            state.devices[name] = channel
            return name
        }
        defer { _ = pending.withLock { $0.devices.removeValue(forKey: name) } }
        return try body(name)
    }

    fileprivate static func claim(_ name: String) -> DeviceChannel? {
        pending.withLock { $0.devices[name] }
    }

    /// The manager structure libext2fs calls through; allocated once, never freed.
    nonisolated(unsafe) static let manager: io_manager = {
        let manager = UnsafeMutablePointer<struct_io_manager>.allocate(capacity: 1)
        manager.initialize(to: struct_io_manager())
        manager.pointee.magic = EXT2_ET_MAGIC_IO_MANAGER
        manager.pointee.name = UnsafePointer(strdup("rpfs BlockDevice I/O manager"))
        manager.pointee.open = channelOpen
        manager.pointee.close = channelClose
        manager.pointee.set_blksize = channelSetBlockSize
        manager.pointee.read_blk = { channel, block, count, data in
            channelRead(channel, UInt64(block), count, data)
        }
        manager.pointee.read_blk64 = { channel, block, count, data in
            channelRead(channel, UInt64(block), count, data)
        }
        manager.pointee.write_blk = { _, _, _, _ in EXT2_ET_RO_FILSYS }
        manager.pointee.write_blk64 = { _, _, _, _ in EXT2_ET_RO_FILSYS }
        manager.pointee.write_byte = { _, _, _, _ in EXT2_ET_RO_FILSYS }
        manager.pointee.discard = { _, _, _ in EXT2_ET_RO_FILSYS }
        manager.pointee.zeroout = { _, _, _ in EXT2_ET_RO_FILSYS }
        manager.pointee.flush = { _ in 0 }
        manager.pointee.set_option = { _, _, _ in EXT2_ET_INVALID_ARGUMENT }
        return manager
    }()
}

private let channelOpen: @convention(c) (UnsafePointer<CChar>?, Int32, UnsafeMutablePointer<io_channel?>?) -> errcode_t = { name, flags, result in
    guard let name, let result else { return EXT2_ET_INVALID_ARGUMENT }
    if flags & IO_FLAG_RW != 0 { return EXT2_ET_RO_FILSYS }
    guard let device = BlockDeviceIOManager.claim(String(cString: name)) else { return EXT2_ET_BAD_DEVICE_NAME }
    guard let channel = calloc(1, MemoryLayout<struct_io_channel>.size)?
        .bindMemory(to: struct_io_channel.self, capacity: 1),
        let nameCopy = strdup(name)
    else { return EXT2_ET_NO_MEMORY }
    channel.pointee.magic = EXT2_ET_MAGIC_IO_CHANNEL
    channel.pointee.manager = BlockDeviceIOManager.manager
    channel.pointee.name = nameCopy
    channel.pointee.block_size = 1024
    channel.pointee.refcount = 1
    channel.pointee.flags = 0
    channel.pointee.align = 0
    channel.pointee.private_data = Unmanaged.passRetained(device).toOpaque()
    result.pointee = channel
    return 0
}

private let channelClose: @convention(c) (io_channel?) -> errcode_t = { channel in
    guard let channel, channel.pointee.magic == EXT2_ET_MAGIC_IO_CHANNEL else { return EXT2_ET_MAGIC_IO_CHANNEL }
    channel.pointee.refcount -= 1
    if channel.pointee.refcount > 0 { return 0 }
    if let device = channel.pointee.private_data {
        Unmanaged<DeviceChannel>.fromOpaque(device).release()
    }
    free(channel.pointee.name)
    channel.pointee.magic = 0
    free(channel)
    return 0
}

private let channelSetBlockSize: @convention(c) (io_channel?, Int32) -> errcode_t = { channel, size in
    guard let channel, channel.pointee.magic == EXT2_ET_MAGIC_IO_CHANNEL else { return EXT2_ET_MAGIC_IO_CHANNEL }
    guard size > 0 else { return EXT2_ET_INVALID_ARGUMENT }
    channel.pointee.block_size = size
    return 0
}

/// libext2fs read convention: a positive `count` is that many blocks of the channel's block
/// size, a negative one is that many bytes; `block` is in units of the block size either way.
private func channelRead(_ channel: io_channel?, _ block: UInt64, _ count: Int32, _ data: UnsafeMutableRawPointer?) -> errcode_t {
    guard let channel, channel.pointee.magic == EXT2_ET_MAGIC_IO_CHANNEL,
          let opaque = channel.pointee.private_data
    else { return EXT2_ET_MAGIC_IO_CHANNEL }
    let device = Unmanaged<DeviceChannel>.fromOpaque(opaque).takeUnretainedValue()
    let blockSize = Int64(channel.pointee.block_size)
    let byteCount: Int64 = count < 0 ? -Int64(count) : Int64(count) * blockSize
    guard byteCount >= 0, let length = Int(exactly: byteCount) else { return EXT2_ET_INVALID_ARGUMENT }
    if length == 0 { return 0 }
    guard let data else { return EXT2_ET_INVALID_ARGUMENT }
    let (offset, overflow) = block.multipliedReportingOverflow(by: UInt64(blockSize))
    let buffer = UnsafeMutableRawBufferPointer(start: data, count: length)
    guard !overflow else {
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        device.record(.unaddressable(block: block, blockSize: blockSize))
        return EXT2_ET_SHORT_READ
    }
    do {
        try device.device.read(at: offset, into: buffer)
        return 0
    } catch {
        // As unix_io does on a short read: the caller gets zeros, never stale bytes.
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        device.record(.read(error, offset: offset, count: length))
        switch error {
        case .outOfRange: return EXT2_ET_SHORT_READ
        case .source, .io: return errcode_t(EIO)
        }
    }
}
