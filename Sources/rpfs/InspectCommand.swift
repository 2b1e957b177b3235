import ArgumentParser
import KeyManagement
import PointNamespace
import RecoveryPoint

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a point: disks, partitions, volumes and key state; checks that its metadata authenticates.",
        discussion: "Works on points that ls, cp, restore and mount refuse, and says why they refuse them.")

    @Argument(help: ArgumentHelp("Point id, or a unique prefix of it.", valueName: "POINT"))
    var point: String

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var keyringOptions: KeyringOptions

    @Flag(help: "Print JSON (the schema is in rpfs(1), JSON OUTPUT).")
    var json = false

    func run() throws {
        let store = try storeOptions.open()
        let id = try store.resolvePoint(point)
        let header = try OpenedPoint.header(id, in: store)
        let provider = try keyringOptions.provider()
        let states = header.wrappedKeys.map { key -> String? in
            do throws(KeyError) {
                return try provider.versions(of: key.kek.name).contains(key.kek.version) ? "available" : "missing"
            } catch .kekNotFound {
                return "missing"
            } catch {
                return "\(error)"
            }
        }
        var report = PointReport(header, keyStates: states)
        do throws(Refusal) {
            try GuestEncryptionPolicy.check(header)
        } catch {
            report.refusal = error.description
        }
        // Whatever fails below, show what is known first: that is what a user needs to decide.
        var failure: (any Error)?
        do {
            let opened = try OpenedPoint.open(id, in: store, provider: provider)
            report.unwrappedWith = opened.kek.description
            report.metadata = "authenticated"
            let inventory = PointInventory.survey(opened)
            for (index, disk) in inventory.disks.enumerated() {
                report.disks[index].layout = LayoutReport(disk, in: inventory)
            }
            report.volumeGroups = inventory.groups.map { VolumeGroupReport($0, in: inventory) }
            report.diskGroups = inventory.diskGroups.map { DiskGroupReport($0, in: inventory) }
            if report.refusal == nil {
                do throws(Refusal) {
                    _ = try GuestEncryptionPolicy.encryptedVolumes(in: inventory, skip: false)
                } catch {
                    report.refusal = error.description
                }
            }
        } catch {
            failure = error
            report.metadata = "not verified"
        }
        if json {
            try JSONOutput.print(report)
        } else {
            printText(report)
        }
        if let failure { throw failure }
    }

    private func printText(_ report: PointReport) {
        Terminal.print("point        \(report.id)")
        Terminal.print("created      \(report.created)")
        Terminal.print("name         \(report.name)")
        Terminal.print("parent       \(report.parent ?? "none")")
        Terminal.print("guest enc.   \(report.guestEncryption)")
        for key in report.wrappedKeys {
            Terminal.print("wrapped DEK  \(key.kek) (\(key.algorithm)): \(key.state ?? "unknown")")
        }
        Terminal.print("unwrapped    \(report.unwrappedWith.map { "with \($0)" } ?? "no")")
        Terminal.print("metadata     \(report.metadata ?? "not verified")")
        for disk in report.disks {
            let stored = UInt64(disk.chunkSize) * disk.storedChunks
            Terminal.print("disk \(disk.name)   \(ByteCount.format(disk.size)) (\(disk.size) bytes), chunk \(ByteCount.format(UInt64(disk.chunkSize))), "
                + "\(disk.storedChunks)/\(disk.chunks) chunks stored (about \(ByteCount.format(min(stored, disk.size)))), "
                + "\(disk.chunks - disk.storedChunks) holes")
            if let layout = disk.layout { printLayout(layout) }
        }
        for group in report.volumeGroups ?? [] { printGroup(group) }
        for group in report.diskGroups ?? [] { printDiskGroup(group) }
        if let refusal = report.refusal {
            Terminal.print("refused      \(refusal)")
        }
    }

    private func printGroup(_ group: VolumeGroupReport) {
        Terminal.print("volume group \(group.name)  uuid \(group.uuid)  at \(group.path), seqno \(group.seqno), "
            + "extent \(ByteCount.format(group.extentSize))")
        for pv in group.physicalVolumes {
            Terminal.print("  PV \(pv.uuid)  \(pv.path ?? "missing: not in this point")  \(pv.extents) extents")
        }
        for note in group.notes { Terminal.print("  note: \(note)") }
        for volume in group.logicalVolumes {
            var words = [volume.type, ByteCount.format(volume.size), volume.volume.kindName]
            if let label = volume.volume.label { words.append("label \"\(label)\"") }
            if let uuid = volume.volume.uuid { words.append("uuid \(uuid)") }
            words.append(volume.volume.reason.map { "\(volume.volume.state): \($0)" } ?? volume.volume.state)
            Terminal.print("  \(volume.volume.path)  \(words.joined(separator: "  "))")
            for segment in volume.segments {
                let stripes = segment.stripeSize > 0 ? ", stripe \(ByteCount.format(segment.stripeSize))" : ""
                Terminal.print("    extents \(segment.startExtent)+\(segment.extents) \(segment.type)\(stripes) on \(segment.areas.joined(separator: " "))")
            }
        }
    }

    private func printDiskGroup(_ group: DiskGroupReport) {
        Terminal.print("disk group   \(group.name)  guid \(group.guid), sequence \(group.sequence)")
        for disk in group.disks {
            Terminal.print("  disk \(disk.name)  \(disk.guid)  \(disk.path ?? "missing: not in this point")")
        }
        for note in group.notes { Terminal.print("  note: \(note)") }
        for volume in group.volumes {
            var words = [volume.type ?? "unknown layout", ByteCount.format(volume.size), volume.volume.kindName]
            if volume.chunkSize > 0 { words.insert("stripe \(ByteCount.format(volume.chunkSize))", at: 1) }
            if let label = volume.volume.label { words.append("label \"\(label)\"") }
            words.append(volume.volume.reason.map { "\(volume.volume.state): \($0)" } ?? volume.volume.state)
            Terminal.print("  \(volume.volume.path) (\(volume.name))  \(words.joined(separator: "  "))")
            for extent in volume.extents {
                let place = volume.type == "mirrored" ? "plex \(extent.plex)" : volume.chunkSize > 0 ? "column \(extent.column)" : "at sector \(extent.volumeOffset)"
                Terminal.print("    \(extent.name)  \(place)  on \(extent.disk ?? "an unknown disk") sectors \(extent.start)+\(extent.size)")
            }
        }
    }

    private func printLayout(_ layout: LayoutReport) {
        if let error = layout.partitionTableError {
            Terminal.print("  partition table unreadable: \(error)")
        }
        if let table = layout.partitionTable {
            var words = [table.scheme == "none" ? "none (the whole disk is one volume)" : table.scheme.uppercased()]
            if table.scheme != "none" { words.append("\(table.sectorSize)-byte sectors") }
            if let header = table.header { words.append("\(header) header") }
            if let identifier = table.identifier { words.append("id \(identifier)") }
            Terminal.print("  partition table  \(words.joined(separator: ", "))")
            for anomaly in table.anomalies { Terminal.print("  anomaly: \(anomaly)") }
        }
        for volume in layout.volumes {
            var words: [String] = []
            if let partition = volume.partition {
                words.append("start \(partition.start)")
                words.append(partition.typeName ?? "type \(partition.type)")
                if let name = partition.name, !name.isEmpty { words.append("\"\(name)\"") }
                if let attributes = partition.attributes { words.append("[\(attributes)]") }
            }
            words.append(ByteCount.format(volume.size))
            words.append(volume.kindName)
            if let label = volume.label { words.append("label \"\(label)\"") }
            if let uuid = volume.uuid { words.append("uuid \(uuid)") }
            words.append(volume.reason.map { "\(volume.state): \($0)" } ?? volume.state)
            Terminal.print("  \(volume.path)  \(words.joined(separator: "  "))")
            if let detail = volume.detail { Terminal.print("    \(detail)") }
        }
    }
}
