/// Devices laid out in chunks (striped, RAID 5): a read is split at chunk boundaries and each
/// piece read from where `place` says chunk k of the whole lies.
enum ChunkedRead {
    /// `place(k)` gives the index into `devices` and the byte on it where chunk k starts.
    /// The caller has checked the range, so no position here overflows.
    static func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer, chunkSize: UInt64, devices: [any BlockDevice],
                     place: (UInt64) -> (device: Int, start: UInt64)) throws(DiskReadError) {
        var position = offset
        var done = 0
        while done < buffer.count {
            let chunk = position / chunkSize
            let within = position % chunkSize
            let n = Int(min(UInt64(buffer.count - done), chunkSize - within))
            let (device, start) = place(chunk)
            try devices[device].read(at: start + within, into: UnsafeMutableRawBufferPointer(rebasing: buffer[done ..< done + n]))
            done += n
            position += UInt64(n)
        }
    }
}
