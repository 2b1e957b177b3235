import LVM
import TestSupport
import Testing

/// The metadata text parser on hostile input: every outcome is a value or an `LVMError`,
/// never a crash or a hang.
@Suite struct ConfigTextTests {
    private func parse(_ text: String) throws(LVMError) -> ConfigSection {
        try ConfigSection.parse(Array(text.utf8))
    }

    @Test func theFormatLVMWrites() throws {
        let section = try parse("""
        # comment
        vg0 {
        id = "abc"
        seqno = 3
        status = ["READ", "WRITE"]
        empty = []
        escaped = "a\\"b\\\\c"  # trailing comment
        negative = -1
        inner { x = 1 }
        }
        contents = "Text Format Volume Group"
        """)
        let group = try #require(section.sections.first)
        #expect(group.name == "vg0")
        #expect(group.section["id"] == .string("abc"))
        #expect(group.section["seqno"] == .integer(3))
        #expect(group.section["status"] == .array([.string("READ"), .string("WRITE")]))
        #expect(group.section["empty"] == .array([]))
        #expect(group.section["escaped"] == .string("a\"b\\c"))
        #expect(group.section["negative"] == .integer(-1))
        #expect(section["contents"] == .string("Text Format Volume Group"))
    }

    @Test(arguments: [
        ("vg {", "not closed"), ("}", "without a section"), ("a = ", "missing value"), ("a = \"x", "not closed"),
        ("a = [1, 2", "not closed"), ("a = [[1]]", "expected a number"), ("a = 1.5", "floating-point"),
        ("a = 99999999999999999999", "out of range"), ("a b", "expected '='"), ("= 1", "unexpected character"),
        ("a = \"x\ny\"", "not closed on its line"),
    ])
    func malformedTextIsAnErrorWithALine(text: String, reason: String) {
        do {
            _ = try parse(text)
            Issue.record("parsed: \(text)")
        } catch let .metadata(message, line) {
            #expect(message.contains(reason), "\(message)")
            #expect(line != nil)
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func stringsMustBeUTF8() {
        #expect(throws: LVMError.self) { try ConfigSection.parse(Array("a = \"".utf8) + [0xFF] + Array("\"".utf8)) }
    }

    @Test func nestingDeeperThanTheBoundIsRefused() {
        let deep = String(repeating: "a {\n", count: 100_000) + String(repeating: "}\n", count: 100_000)
        #expect(throws: LVMError.self) { try parse(deep) }
        let allowed = String(repeating: "a {\n", count: ConfigSection.maxDepth) + String(repeating: "}\n", count: ConfigSection.maxDepth)
        #expect(throws: Never.self) { try parse(allowed) }
    }

    @Test func hugeInputsAreBounded() {
        let long = "a = [" + Array(repeating: "1", count: ConfigSection.maxArrayLength + 1).joined(separator: ",") + "]"
        #expect(throws: LVMError.self) { try parse(long) }
        #expect(throws: LVMError.self) { try ConfigSection.parse([UInt8](repeating: 0x20, count: (16 << 20) + 1)) }
    }

    @Test func randomBytesAndMutationsNeverCrash() throws {
        var random = SeededBytes(seed: 99)
        let sample = Array("""
        vg { id = "aaaaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaaaa" seqno = 1 extent_size = 8192
        physical_volumes { pv0 { id = "bbbbbb-bbbb-bbbb-bbbb-bbbb-bbbb-bbbbbb" pe_start = 2048 pe_count = 10 } }
        logical_volumes { lv { id = "cccccc-cccc-cccc-cccc-cccc-cccc-cccccc" status = ["VISIBLE"] segment1 { start_extent = 0 extent_count = 1 type = "striped"
        stripe_count = 1 stripes = ["pv0", 0] } } } }
        """.utf8)
        #expect(throws: Never.self) { try VolumeGroupMetadata(sample) }
        for round in 0 ..< 3000 {
            var bytes = sample
            for _ in 0 ..< 1 + round % 4 {
                bytes[random.int(below: bytes.count)] = UInt8(truncatingIfNeeded: random.next())
            }
            if round % 10 == 0 { bytes = random.bytes(random.int(below: 300)) }
            do {
                _ = try VolumeGroupMetadata(bytes)
            } catch {
                #expect(!"\(error)".isEmpty)
            }
        }
    }
}
