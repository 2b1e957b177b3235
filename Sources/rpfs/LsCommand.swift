import ArgumentParser
import ByteParsing
import PointNamespace
import VolumeModel

struct LsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List files in a point: POINT lists its disks, POINT:/disk0 its volumes, POINT:/disk0/part1/etc a directory.")

    @Argument(help: ArgumentHelp("POINT or POINT:PATH (PATH absolute, default /).", valueName: "POINT[:PATH]"))
    var target: String

    @Flag(name: .short, help: "Long format: mode, links, owner, group, size, mtime, name, symlink target.")
    var long = false

    @Flag(name: .customShort("R"), help: "List subdirectories recursively.")
    var recursive = false

    @Flag(help: "Print JSON (the schema is in rpfs(1), JSON OUTPUT).")
    var json = false

    @Flag(help: "Also list each file's named streams (NTFS alternate data streams) with their sizes.")
    var streams = false

    @OptionGroup var access: FileAccessOptions

    func run() throws {
        let (point, path) = PointPath.split(target)
        let namespace = try access.open(point)
        let node = try namespace.resolve(path)
        var listing = Listing(namespace: namespace, streams: streams, security: json)
        try listing.walk(node, path: path, recursive: recursive)
        if json {
            try JSONOutput.print(listing.records.map(\.json))
        } else {
            listing.printText(long: long, headers: recursive)
        }
        if !listing.failures.isEmpty {
            throw CommandError(status: .error, description: "\(listing.failures.count) director\(listing.failures.count == 1 ? "y" : "ies") could not be listed")
        }
    }
}

/// `POINT:PATH` as users type it; a missing path means the root.
enum PointPath {
    static func split(_ text: String) -> (point: String, path: String) {
        guard let colon = text.firstIndex(of: ":") else { return (text, "/") }
        let path = String(text[text.index(after: colon)...])
        return (String(text[..<colon]), path.isEmpty ? "/" : path)
    }
}

/// Collects what `ls` shows: one record per entry, grouped by directory.
struct Listing {
    struct Record {
        let directory: String
        let name: FileName
        let attributes: NodeAttributes
        let target: [UInt8]?
        /// Named streams, when asked for.
        let streams: [NamedStream]?
        /// NTFS: the Windows security descriptor, when asked for.
        let security: SecurityDescriptor?

        var path: String { PointNamespace.join(directory, name) }

        var json: EntryJSON {
            EntryJSON(path: path, name: name.description, nameHex: String(validating: name.bytes, as: UTF8.self) == nil ? Hex.encode(name.bytes) : nil,
                      kind: attributes.kind.rawValue, mode: Int(attributes.permissions), uid: attributes.uid, gid: attributes.gid,
                      size: attributes.size, allocated: attributes.allocatedBytes, links: attributes.linkCount, inode: attributes.node,
                      atime: TimeFormat.rfc3339(attributes.accessed), mtime: TimeFormat.rfc3339(attributes.modified), ctime: TimeFormat.rfc3339(attributes.changed),
                      crtime: attributes.created.map(TimeFormat.rfc3339), target: target.map { String(decoding: $0, as: UTF8.self) },
                      streams: streams?.map { StreamJSON(name: $0.name, size: $0.size, xattr: $0.isExtendedAttribute ? "user.ntfs.stream.\($0.name)" : nil) },
                      ownerSid: security?.ownerSID, sddl: security.map(SDDL.render))
        }
    }

    let namespace: PointNamespace
    let streams: Bool
    let security: Bool
    private(set) var records: [Record] = []
    private(set) var directories: [String] = []
    private(set) var failures: [String] = []

    init(namespace: PointNamespace, streams: Bool, security: Bool) {
        self.namespace = namespace
        self.streams = streams
        self.security = security
    }

    mutating func walk(_ node: PointNamespace.Node, path: String, recursive: Bool) throws {
        let entries: [PointNamespace.Entry]
        do {
            entries = try namespace.list(node, path: path)
        } catch .notADirectory, .volume(_, .notADirectory) {
            // ls of a file shows the file itself.
            let parent = path.split(separator: "/").dropLast().joined(separator: "/")
            let name = try FileName(validating: String(path.split(separator: "/").last ?? ""))
            records.append(try record(node, directory: "/" + parent, name: name, kind: nil))
            return
        } catch .volumeUnavailable(let volume, let reason) where !directories.isEmpty {
            // A swap or unknown partition met on the way down is what the point holds, not a failure.
            Terminal.note("\(volume): \(reason)")
            return
        } catch {
            // The top directory failing is the command failing; below it, report and go on.
            guard !directories.isEmpty else { throw error }
            Terminal.error("\(error)")
            failures.append(path)
            return
        }
        directories.append(path)
        var subdirectories: [(PointNamespace.Node, String)] = []
        for entry in entries.sorted(by: { $0.name < $1.name }) {
            records.append(try record(entry.node, directory: path, name: entry.name, kind: entry.kind))
            if recursive, entry.kind == .directory { subdirectories.append((entry.node, PointNamespace.join(path, entry.name))) }
        }
        for (child, childPath) in subdirectories {
            try walk(child, path: childPath, recursive: true)
        }
    }

    private func record(_ node: PointNamespace.Node, directory: String, name: FileName, kind: NodeKind?) throws -> Record {
        let path = PointNamespace.join(directory, name)
        let attributes = try namespace.attributes(node, path: path)
        let target = attributes.kind == .symlink ? try namespace.withVolume(node, path: path) { volume, inner throws(VolumeError) in try volume.symlinkTarget(of: inner) } : nil
        let named = streams && attributes.kind == .regular
            ? try namespace.withVolume(node, path: path) { volume, inner throws(VolumeError) in try volume.namedStreams(of: inner) } : nil
        let descriptor = security ? try namespace.securityDescriptor(node, path: path) : nil
        return Record(directory: directory, name: name, attributes: attributes, target: target, streams: named, security: descriptor)
    }

    func printText(long: Bool, headers: Bool) {
        var first = true
        for directory in directories {
            if headers {
                if !first { Terminal.print("") }
                Terminal.print("\(directory):")
            }
            first = false
            for record in records where record.directory == directory {
                Terminal.print(long ? LongFormat.line(record) : record.name.description)
                printStreams(record)
            }
        }
        for record in records where !directories.contains(record.directory) {
            Terminal.print(long ? LongFormat.line(record) : record.path)
            printStreams(record)
        }
    }

    /// One line per named stream, under its file: "    :Zone.Identifier  26 bytes".
    private func printStreams(_ record: Record) {
        for stream in record.streams ?? [] {
            let carried = stream.isExtendedAttribute ? "" : " (not an xattr: too large or encrypted; copy FILE:\(stream.name) instead)"
            Terminal.print("    :\(stream.name)  \(stream.size) bytes\(carried)")
        }
    }
}

/// `ls -l` columns: mode, links, owner, group, size, mtime, name [-> target]. Owners are
/// numeric: names from the guest's /etc/passwd mean nothing on this machine.
enum LongFormat {
    static func line(_ record: Listing.Record) -> String {
        let attributes = record.attributes
        let target = record.target.map { " -> \(String(decoding: $0, as: UTF8.self))" } ?? ""
        return "\(mode(attributes)) \(pad(attributes.linkCount, 3)) \(pad(attributes.uid, 5)) \(pad(attributes.gid, 5)) "
            + "\(pad(attributes.size, 12)) \(TimeFormat.minutes(attributes.modified)) \(record.name)\(target)"
    }

    static func mode(_ attributes: NodeAttributes) -> String {
        let type: Character = switch attributes.kind {
        case .regular: "-"
        case .directory: "d"
        case .symlink: "l"
        case .blockDevice: "b"
        case .characterDevice: "c"
        case .fifo: "p"
        case .socket: "s"
        }
        let bits = attributes.permissions
        var text = [type]
        for (shift, special, specialChar) in [(6, UInt16(0o4000), Character("s")), (3, 0o2000, "s"), (0, 0o1000, "t")] {
            let triple = bits >> UInt16(shift)
            text.append(triple & 4 != 0 ? "r" : "-")
            text.append(triple & 2 != 0 ? "w" : "-")
            let execute = triple & 1 != 0
            if bits & special != 0 {
                text.append(execute ? specialChar : Character(specialChar.uppercased()))
            } else {
                text.append(execute ? "x" : "-")
            }
        }
        return String(text)
    }

    private static func pad(_ value: some BinaryInteger, _ width: Int) -> String {
        let text = "\(value)"
        return String(repeating: " ", count: max(0, width - text.count)) + text
    }
}

/// The JSON shape of one `rpfs ls --json` entry (documented in rpfs(1), JSON OUTPUT).
struct EntryJSON: Encodable {
    let path: String
    /// The name as UTF-8 text (invalid bytes shown as U+FFFD) ...
    let name: String
    /// ... and its exact bytes in hex, present only when the name is not valid UTF-8.
    let nameHex: String?
    let kind: String
    /// Permission bits (07777) as a number.
    let mode: Int
    let uid: UInt32
    let gid: UInt32
    let size: UInt64
    let allocated: UInt64
    let links: UInt32
    let inode: UInt64
    let atime: String
    let mtime: String
    let ctime: String
    let crtime: String?
    let target: String?
    /// With --streams: the file's named streams.
    let streams: [StreamJSON]?
    /// NTFS: the Windows owner SID and the security descriptor in SDDL.
    let ownerSid: String?
    let sddl: String?
}

struct StreamJSON: Encodable {
    let name: String
    let size: UInt64
    /// The extended attribute carrying it (for getfattr, cp and restore), if one can.
    let xattr: String?
}
