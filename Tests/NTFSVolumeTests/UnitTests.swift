import ByteParsing
@testable import NTFSVolume
import Testing
import VolumeModel

@Suite struct UnitTests {
    @Test func dataRunsWithSparseAndNegativeOffsets() throws {
        // 0x21: 1-byte length 0x10, 2-byte LCN 0x1000; 0x01: hole of 8; 0x11 length 4, delta -0x10.
        let bytes: [UInt8] = [0x21, 0x10, 0x00, 0x10, 0x01, 0x08, 0x11, 0x04, 0xF0, 0x00]
        let runs = try DataRuns.parse(bytes, origin: 0, lowest: VCN(0), highest: VCN(27), clusterCount: 1 << 20)
        #expect(runs == [DataRun(vcn: VCN(0), length: 16, lcn: LCN(0x1000)), DataRun(vcn: VCN(16), length: 8, lcn: nil),
                         DataRun(vcn: VCN(24), length: 4, lcn: LCN(0xFF0))])
    }

    @Test func hostileDataRuns() {
        // Past the volume.
        #expect(throws: ByteParsingError.self) {
            try DataRuns.parse([0x31, 0x10, 0xFF, 0xFF, 0x7F, 0x00], origin: 0, lowest: VCN(0), highest: VCN(15), clusterCount: 100)
        }
        // Negative LCN.
        #expect(throws: ByteParsingError.self) {
            try DataRuns.parse([0x11, 0x10, 0xF0, 0x00], origin: 0, lowest: VCN(0), highest: VCN(15), clusterCount: 100)
        }
        // VCN overflow.
        #expect(throws: ByteParsingError.self) {
            try DataRuns.parse([0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x00], origin: 0, lowest: VCN(UInt64.max - 2), highest: VCN(0), clusterCount: 100)
        }
        // Length field of 9 bytes, and runs that disagree with the header's VCN range.
        #expect(throws: ByteParsingError.self) { try DataRuns.parse([0x19, 0x01], origin: 0, lowest: VCN(0), highest: VCN(0), clusterCount: 100) }
        #expect(throws: ByteParsingError.self) { try DataRuns.parse([0x11, 0x02, 0x05, 0x00], origin: 0, lowest: VCN(0), highest: VCN(9), clusterCount: 100) }
    }

    @Test func lznt1() throws {
        // "abc" literals then a back-reference (offset 3, length 6): "abcabcabc".
        // Flag byte 0b1000: items 0-2 literal, item 3 a token; at position 3 the split is 4/12.
        let token: UInt16 = (2 << 12) | (6 - 3)
        let chunk: [UInt8] = [0x08, 0x61, 0x62, 0x63, UInt8(token & 0xFF), UInt8(token >> 8)]
        let header = UInt16(chunk.count - 1) | 0xB000
        let stream = [UInt8(header & 0xFF), UInt8(header >> 8)] + chunk + [0, 0]
        #expect(try LZNT1.decompress(stream, limit: 4096, origin: 0) == Array("abcabcabc".utf8))
        // A reference before the chunk start is corruption, not a crash.
        let bad: [UInt8] = [0x04, 0xB0, 0x01, 0x00, 0x10, 0x00, 0x00]
        #expect(throws: ByteParsingError.self) { try LZNT1.decompress(bad, limit: 4096, origin: 0) }
    }

    @Test func times() {
        #expect(NTFSTime.timestamp(116_444_736_000_000_000) == Timestamp(seconds: 0, nanoseconds: 0))
        #expect(NTFSTime.timestamp(116_444_736_000_000_001) == Timestamp(seconds: 0, nanoseconds: 100))
        #expect(NTFSTime.timestamp(116_444_735_999_999_999) == Timestamp(seconds: -1, nanoseconds: 999_999_900))
        _ = NTFSTime.timestamp(Int64.min)
        _ = NTFSTime.timestamp(Int64.max)
    }

    @Test func unpairedSurrogatesBecomeReplacementCharacters() throws {
        let units: [UInt16] = [0x61, 0xD800, 0x62]
        #expect(try FileName(validating: UTF16Text.utf8(units)).description == "a\u{FFFD}b")
    }

    @Test func updateSequence() throws {
        var record = [UInt8](repeating: 0, count: 1024)
        record[4] = 0x30; record[6] = 3
        record[0x30] = 0x07; record[0x32] = 0xAA; record[0x34] = 0xBB
        record[510] = 0x07; record[1022] = 0x07
        try UpdateSequence.apply(&record, origin: 0, what: "test")
        #expect(record[510] == 0xAA && record[1022] == 0xBB)
        record[510] = 0x07; record[1022] = 0x08
        #expect(throws: ByteParsingError.self) { try UpdateSequence.apply(&record, origin: 0, what: "test") }
    }
}
