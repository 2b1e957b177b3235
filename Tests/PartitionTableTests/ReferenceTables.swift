import Foundation
import TestSupport

/// A partition as util-linux reads it: the independent truth the parser is checked against.
struct ReferencePartition: Equatable, CustomStringConvertible {
    var number: Int
    var startSector: UInt64
    var sectors: UInt64
    /// MBR type in lower-case hex without leading zeros ("83", "c"), or the GPT type GUID in lower case.
    var type: String
    var uuid: String?
    var name: String?
    var attributes: String?
    var bootable = false

    var description: String { "\(number): \(startSector)+\(sectors) \(type) \(name ?? "")" }
}

struct ReferenceTable {
    var label: String
    var identifier: String
    var partitions: [ReferencePartition]
}

/// `sfdisk --json`, which reads 512-byte sectors only.
enum Sfdisk {
    private struct Dump: Decodable {
        struct Table: Decodable {
            var label: String
            var id: String
            var partitions: [Entry]?
        }
        struct Entry: Decodable {
            var node: String
            var start: UInt64
            var size: UInt64
            var type: String
            var uuid: String?
            var name: String?
            var attrs: String?
            var bootable: Bool?
        }
        var partitiontable: Table
    }

    static func read(_ image: String) throws -> ReferenceTable {
        let json = try Shell.check("sfdisk", ["--json", image])
        let table = try JSONDecoder().decode(Dump.self, from: Data(json.utf8)).partitiontable
        return ReferenceTable(label: table.label, identifier: table.id.lowercased(), partitions: (table.partitions ?? []).map { entry in
            ReferencePartition(
                number: Int(String(entry.node.reversed().prefix { $0.isNumber }.reversed())) ?? -1,
                startSector: entry.start, sectors: entry.size, type: entry.type.lowercased(),
                uuid: entry.uuid?.lowercased(), name: entry.name, attributes: entry.attrs, bootable: entry.bootable ?? false)
        })
    }
}

/// `fdisk -b 4096 -l`, for GPTs written for 4096-byte sectors.
enum Fdisk4K {
    static func read(_ image: String) throws -> [ReferencePartition] {
        let listing = try Shell.check("fdisk", ["-b", "4096", "-l", "-o", "Device,Start,Sectors,Type-UUID,UUID,Name", image])
        return listing.split(separator: "\n").map(String.init).filter { $0.hasPrefix(image) }.map { line in
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true).map(String.init)
            return ReferencePartition(
                number: Int(String(fields[0].reversed().prefix { $0.isNumber }.reversed())) ?? -1,
                startSector: UInt64(fields[1]) ?? 0, sectors: UInt64(fields[2]) ?? 0,
                type: fields[3].lowercased(), uuid: fields[4].lowercased(),
                name: fields.count > 5 ? fields[5].trimmingCharacters(in: .whitespaces) : nil)
        }
    }
}
