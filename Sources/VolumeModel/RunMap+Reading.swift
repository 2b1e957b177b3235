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
                    throw .corrupt("\(volume): \(what): no run maps byte \(position)")
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
                try Self.read(device, at: physical * unitSize + (position - run.logical * unitSize), into: piece,
                              volume: volume, what: what)
            } else {
                piece.initializeMemory(as: UInt8.self, repeating: 0)
            }
            position = pieceEnd
            index += 1
        }
    }

    /// Reads stored data at volume byte `offset`: a read outside the device means the map
    /// points outside the volume, which is corruption; other failures are the device's.
    public static func read(_ device: any BlockDevice, at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer,
                            volume: String, what: String) throws(VolumeError) {
        do {
            try device.read(at: offset, into: buffer)
        } catch {
            switch error {
            case .outOfRange:
                throw .corrupt("\(volume): \(what): data at volume byte \(offset) (\(buffer.count) bytes) lies outside the volume (\(error))")
            case .source, .io:
                throw .device(error)
            }
        }
    }
}
