import CZlib

/// zlib (RFC 1950) for catalog segments: names and attributes compress well, and zlib is on
/// every system rpfs runs on.
enum Compression {
    static func deflate(_ bytes: [UInt8]) -> [UInt8]? {
        guard !bytes.isEmpty else { return [] }
        var size = compressBound(uLong(bytes.count))
        var output = [UInt8](repeating: 0, count: Int(size))
        let status = output.withUnsafeMutableBufferPointer { target in
            bytes.withUnsafeBufferPointer { source in
                compress2(target.baseAddress, &size, source.baseAddress, uLong(source.count), 6)
            }
        }
        guard status == Z_OK else { return nil }
        return Array(output.prefix(Int(size)))
    }

    /// Inflates `bytes`, which must expand to exactly `count` bytes; nil otherwise. Nothing
    /// deflates to nothing.
    static func inflate(_ bytes: [UInt8], count: Int) -> [UInt8]? {
        guard count > 0 else { return bytes.isEmpty ? [] : nil }
        var output = [UInt8](repeating: 0, count: count)
        var size = uLong(count)
        let status = output.withUnsafeMutableBufferPointer { target in
            bytes.withUnsafeBufferPointer { source in
                uncompress(target.baseAddress, &size, source.baseAddress, uLong(source.count))
            }
        }
        guard status == Z_OK, size == uLong(count) else { return nil }
        return output
    }
}
