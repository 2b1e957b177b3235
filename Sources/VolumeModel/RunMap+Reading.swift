import BlockDevices

extension RunMap {
    /// Fills `buffer` with the logical bytes from `offset`: one device read per stored run,
    /// zeros for unwritten runs and for units no run covers when `unmapped` is `.zeros`.
    /// The caller keeps `offset + buffer.count` within the file (a file size, below 2^64).
    /// Errors name `volume` and `what` (the file or stream the map belongs to).
    public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer, from device: any BlockDevice,
                     volume: String, what: String) throws(VolumeError) {
        let end = offset + UInt64(buffer.count)
        var position = offset
        var index = firstRun(endingAfter: offset / unitSize)
        while position < end {
            let slice = Int(position - offset)
            guard index < runs.count, runs[index].logical * unitSize <= position else {
                guard unmapped == .zeros else {
                    throw .corrupt(volume: volume, structure: what, problem: "no run maps byte \(position)")
                }
                let holeEnd = index < runs.count ? min(end, runs[index].logical * unitSize) : end
                UnsafeMutableRawBufferPointer(rebasing: buffer[slice ..< slice + Int(holeEnd - position)])
                    .initializeMemory(as: UInt8.self, repeating: 0)
                position = holeEnd
                continue
            }
            let run = runs[index]
            let pieceEnd = min(end, run.end * unitSize)
            let piece = UnsafeMutableRawBufferPointer(rebasing: buffer[slice ..< slice + Int(pieceEnd - position)])
            if let physical = run.physical {
                try VolumeRead.read(device, at: physical * unitSize + (position - run.logical * unitSize), into: piece,
                                    volume: volume, purpose: what)
            } else {
                piece.initializeMemory(as: UInt8.self, repeating: 0)
            }
            position = pieceEnd
            index += 1
        }
    }
}
