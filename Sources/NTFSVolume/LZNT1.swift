import ByteParsing

/// LZNT1, the compression of NTFS compressed files: a sequence of chunks that each expand to
/// at most 4096 bytes. A chunk header (u16) holds the stored length minus 3 in its low 12
/// bits and a "compressed" flag in bit 15; header 0 ends the stream. Compressed chunks are
/// groups of a flag byte and eight items: a literal byte (flag bit 0) or a 16-bit
/// back-reference (bit 1) whose offset/length split depends on the position in the chunk.
enum LZNT1 {
    static let chunkSize = 4096

    /// Decompresses `input` into at most `limit` bytes. Never reads or copies out of bounds:
    /// a reference before the start of its chunk is corruption.
    static func decompress(_ input: [UInt8], limit: Int, origin: UInt64) throws(ByteParsingError) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(limit)
        var position = 0
        while position + 2 <= input.count, output.count < limit {
            let header = UInt16(input[position]) | UInt16(input[position + 1]) << 8
            if header == 0 { break }
            let stored = Int(header & 0x0FFF) + 1
            let chunkStart = position + 2
            guard stored <= input.count - chunkStart else {
                throw .truncated(what: "LZNT1 chunk", at: origin + UInt64(position), needed: stored, available: input.count - chunkStart)
            }
            let chunk = input[chunkStart ..< chunkStart + stored]
            if header & 0x8000 == 0 {
                // Stored uncompressed (always a full 4096-byte chunk when written by NTFS).
                output.append(contentsOf: chunk.prefix(limit - output.count))
            } else {
                try expand(chunk, into: &output, limit: limit, origin: origin + UInt64(chunkStart))
            }
            position = chunkStart + stored
        }
        return output
    }

    private static func expand(_ chunk: ArraySlice<UInt8>, into output: inout [UInt8], limit: Int, origin: UInt64) throws(ByteParsingError) {
        let outputStart = output.count
        var index = chunk.startIndex
        while index < chunk.endIndex {
            let flags = chunk[index]
            index += 1
            for bit in 0 ..< 8 {
                guard index < chunk.endIndex else { return }
                let written = output.count - outputStart
                guard written < chunkSize, output.count < limit else { return }
                if flags & (1 << bit) == 0 {
                    output.append(chunk[index])
                    index += 1
                    continue
                }
                guard index + 1 < chunk.endIndex else {
                    throw .truncated(what: "LZNT1 back-reference", at: origin + UInt64(index - chunk.startIndex), needed: 2, available: 1)
                }
                let token = Int(chunk[index]) | Int(chunk[index + 1]) << 8
                index += 2
                // The further into the chunk, the more bits go to the offset (4 to 12).
                var offsetBits = 4
                var span = written - 1
                while span >= 0x10 {
                    offsetBits += 1
                    span >>= 1
                }
                let lengthBits = 16 - offsetBits
                let length = (token & ((1 << lengthBits) - 1)) + 3
                let distance = (token >> lengthBits) + 1
                guard written > 0, distance <= written else {
                    throw .invalid(what: "LZNT1 back-reference", at: origin + UInt64(index - 2 - chunk.startIndex),
                                   reason: "offset \(distance) reaches before the chunk start (\(written) bytes written)")
                }
                let count = min(length, chunkSize - written, limit - output.count)
                // Byte by byte: the source may overlap what is being written (runs).
                var source = output.count - distance
                for _ in 0 ..< count {
                    output.append(output[source])
                    source += 1
                }
            }
        }
    }
}
