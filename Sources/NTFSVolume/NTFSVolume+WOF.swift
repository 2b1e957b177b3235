import ByteParsing
import VolumeModel

/// Reading a regular file's data: its unnamed $DATA, decompressed from WofCompressedData, or
/// a cloud placeholder's $DATA when all of it is here; files whose data is elsewhere (other
/// reparse points) are refused, never read as the stub.
extension NTFSVolume {
    enum FileContent {
        case stream(DataStream)
        case wof(WofFile)
    }

    /// Where a file with a non-link reparse point keeps its data: WOF's file provider and
    /// hydrated cloud files here, anything else (deduplication, cloud placeholders, WIMBoot,
    /// HSM) outside rpfs's reach.
    func reparseContent(_ file: NTFSFile, _ reparse: ReparsePoint) throws(VolumeError) -> FileContent {
        let what = "\(name): record \(file.number)"
        if reparse.tag & ReparseTags.cloudFamilyMask == ReparseTags.cloud, let data = hydratedData(file) { return .stream(data) }
        guard reparse.tag == ReparsePoint.wof else {
            throw .unsupported("\(what) is a reparse point with \(ReparseTags.describe(reparse.tag)): its own data is a stub, so rpfs does not read it")
        }
        guard let header = reparse.wof, header.version == 1 else {
            throw .unsupported("\(what) has reparse tag 0x80000017 (WOF) with a header rpfs does not know")
        }
        guard header.provider == 2 else {
            let which = header.provider == 1 ? "a WIM-backed file (WIMBoot, WOF provider 1): its data is in a WIM image outside this volume"
                : "WOF provider \(header.provider), which rpfs does not know"
            throw .unsupported("\(what) is \(which)")
        }
        guard header.providerVersion == 1, let algorithm = WofFile.Algorithm(rawValue: header.algorithm) else {
            throw .unsupported("\(what) is WOF-compressed with file provider version \(header.providerVersion), algorithm \(header.algorithm), which rpfs does not know")
        }
        guard let stream = file.wofStream else {
            throw corrupt("MFT record \(file.number)", "WOF-compressed (\(algorithm.name)) but without a WofCompressedData stream")
        }
        guard !stream.isEncrypted else {
            throw .refused("\(what): its WofCompressedData stream is encrypted with EFS; on disk it is ciphertext")
        }
        let wof = WofFile(algorithm: algorithm, size: file.data?.dataSize ?? 0, stream: stream)
        guard wof.tableSize <= stream.dataSize else {
            throw corrupt("MFT record \(file.number) WofCompressedData",
                          "\(stream.dataSize) bytes cannot hold the \(wof.tableSize)-byte table of \(wof.chunkCount) chunks")
        }
        return .wof(wof)
    }

    /// A cloud files placeholder's $DATA when all of it is here ("always keep on this device",
    /// or downloaded and not yet freed): Windows then clears OFFLINE and RECALL_ON_DATA_ACCESS,
    /// and the stream has no holes. A placeholder missing any part is nil.
    private func hydratedData(_ file: NTFSFile) -> DataStream? {
        guard file.fileAttributes & (FileAttributes.offline | FileAttributes.recallOnDataAccess) == 0, !file.isEncrypted else { return nil }
        let data = file.data ?? .empty
        return dataRanges(of: data) == (data.dataSize == 0 ? [] : [0 ..< data.dataSize]) ? data : nil
    }

    /// Decompresses the chunks under [offset, offset + buffer.count): the table entries and
    /// the compressed chunks are each read at once, every chunk checked to lie inside the
    /// stream and to be no larger than its data.
    func read(_ wof: WofFile, record: UInt64, at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(VolumeError) -> Int {
        guard offset < wof.size, buffer.count > 0 else { return 0 }
        let end = offset + min(UInt64(buffer.count), wof.size - offset)
        let chunkSize = wof.algorithm.chunkSize
        let first = offset / chunkSize
        let last = (end - 1) / chunkSize
        let context = "MFT record \(record) WofCompressedData"
        let table = wof.tableEntries(first: first, last: last)
        var entries: [UInt8] = []
        if let table { entries = try readBytes(wof.stream, at: table.lowerBound, count: Int(table.count), context) }
        let bounds: [UInt64]
        do {
            bounds = try wof.bounds(first: first, last: last, entries: entries, origin: table?.lowerBound ?? 0)
        } catch {
            throw corrupt(context, "\(error)")
        }
        guard let firstBound = bounds.first, let lastBound = bounds.last else { return 0 }
        let compressed = try readBytes(wof.stream, at: wof.tableSize + firstBound, count: Int(lastBound - firstBound), context)
        guard compressed.count == Int(lastBound - firstBound) else { throw corrupt(context, "the stream ends inside chunk \(last)") }
        guard let library = Wimlib.shared, let decompressor = Wimlib.Decompressor(library, wof.algorithm.format, blockSize: Int(chunkSize)) else {
            throw .unsupported("\(name): record \(record) is WOF-compressed (\(wof.algorithm.name)); reading it needs wimlib's \(Wimlib.library) (Debian's libwim15), which did not load")
        }
        var written = 0
        for chunk in first ... last {
            let index = Int(chunk - first)
            let piece = Array(compressed[Int(bounds[index] - firstBound) ..< Int(bounds[index + 1] - firstBound)])
            let plainSize = Int(wof.plainSize(chunk))
            let plain: [UInt8]
            if piece.count == plainSize {
                plain = piece
            } else if !piece.isEmpty, let expanded = decompressor.decompress(piece, size: plainSize) {
                plain = expanded
            } else {
                throw corrupt(context, "chunk \(chunk): \(piece.count) bytes do not decompress (\(wof.algorithm.name)) to \(plainSize)")
            }
            let chunkStart = chunk * chunkSize
            let from = Int(max(offset, chunkStart) - chunkStart)
            let to = Int(min(end, chunkStart + UInt64(plainSize)) - chunkStart)
            plain.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(rebasing: buffer[written ..< written + to - from])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[from ..< to]))
            }
            written += to - from
        }
        return written
    }
}
