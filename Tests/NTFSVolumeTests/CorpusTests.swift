import Foundation
@testable import NTFSVolume
import TestSupport
import Testing
import VolumeModel

/// ColinFinck/ntfs's testfs1 (mkntfs, 512-byte clusters): facts from its README and the
/// committed `fls -r -p` listing.
@Suite struct CorpusTests {
    @Test func colinFinckTestfs1() throws {
        let directory = try TemporaryDirectory("rpfs-ntfs-corpus")
        let image = try directory.fixture("ntfs", "colinfinck-testfs1.img")
        let volume = try openVolume(image, name: "testfs1")
        #expect(volume.info.label == "mylabel")
        #expect(volume.info.clusterSize == 512)

        #expect(try volume.contents(volume.node(at: "empty-file")) == [])
        #expect(try volume.contents(volume.node(at: "file-with-12345")) == Array("12345".utf8))
        #expect(try volume.contents(volume.node(at: "1000-bytes-file")) == Array(String(repeating: "12345", count: 200).utf8))
        let sparse = try volume.node(at: "sparse-file")
        let bytes = try volume.contents(sparse)
        #expect(Array(bytes.prefix(5)) == Array("12345".utf8))
        #expect(Array(bytes[500_000 ..< 500_005]) == Array("11111".utf8))
        #expect(bytes[5 ..< 500_000].allSatisfy { $0 == 0 })
        let modified = try volume.attributes(of: volume.node(at: "empty-file")).modified
        // 2021-01-01 13:37 (local time of its author; within a day of UTC).
        #expect(abs(modified.seconds - 1_609_508_220) < 86400)

        // The committed listing: every allocated path with its record number.
        let listing = try String(contentsOfFile: "\(repositoryRoot)/fixtures/ntfs/colinfinck-testfs1.fls.txt", encoding: .utf8)
        var expected: [String: UInt64] = [:]
        for line in listing.split(separator: "\n") {
            let parts = line.split(separator: "\t")
            guard parts.count == 2, !line.hasPrefix("V/V"), !line.contains("*"), !parts[1].hasPrefix("$") else { continue }
            let address = parts[0].split(separator: " ")[1].split(separator: "-")[0]
            expected[String(parts[1])] = UInt64(address.trimmingCharacters(in: CharacterSet(charactersIn: ":")))
        }
        let tree = try volume.tree()
        #expect(tree.mapValues(\.node) == expected)
        #expect(tree.keys.filter { $0.hasPrefix("many_subdirs/") }.count == 512)
        for (path, entry) in tree where entry.kind == .regular {
            #expect(try volume.contents(entry.node) == (try SleuthKit.icat(image, String(entry.node))), "\(path)")
        }
    }
}

/// Other cluster sizes: 512 bytes (file records span two clusters) and 64 KiB (index
/// records smaller than a cluster, so index VCNs count 512-byte blocks).
@Suite(.timeLimit(.minutes(2))) struct ClusterSizeTests {
    @Test(arguments: [512, 65536])
    func clusterSize(_ cluster: Int) throws {
        let directory = try TemporaryDirectory("rpfs-ntfs-cluster")
        let source = directory.file("src")
        let script = """
        M="$1"; S="\(source)"; mkdir -p "$S"
        printf small > "$M/small"
        head -c 200000 /dev/urandom > "$S/large"; cp "$S/large" "$M/large"
        for i in $(seq 1 30); do
          head -c 3000 /dev/urandom | tee -a "$S/fragA" >> "$M/fragA"
          head -c 70000 /dev/urandom | tee -a "$S/fragB" >> "$M/fragB"
        done
        truncate -s 3000000 "$M/sparse"; printf x | dd of="$M/sparse" bs=1 seek=2000000 conv=notrunc status=none
        mkdir "$M/dir"; for i in $(seq 1 700); do printf "$i" > "$M/dir/entry-$i"; done
        """
        let image = try NTFSImageBuilder.make(in: directory, size: 48 << 20, cluster: cluster, fill: script)
        let volume = try openVolume(image)
        #expect(volume.info.clusterSize == UInt32(cluster))
        let tree = try volume.tree()
        let fls = try SleuthKit.fls(image)
        #expect(tree.mapValues(\.node) == fls.mapValues(\.inode))
        for name in ["large", "fragA", "fragB"] {
            let expected = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(source)/\(name)")))
            #expect(try volume.contents(volume.node(at: name)) == expected, "\(name)")
        }
        #expect(try volume.contents(volume.node(at: "dir/entry-699")) == Array("699".utf8))
        let sparse = try volume.contents(volume.node(at: "sparse"))
        #expect(sparse.count == 3_000_000 && sparse[2_000_000] == UInt8(ascii: "x") && sparse.filter { $0 != 0 }.count == 1)
    }

    /// ntfs-3g keeps appends contiguous while it can: a full volume with every other cluster
    /// freed forces a file into many runs.
    @Test func fragmentedFile() throws {
        let directory = try TemporaryDirectory("rpfs-ntfs-fragments")
        let source = directory.file("frag")
        let script = """
        M="$1"; mkdir "$M/pad"; i=0
        while head -c 4096 /dev/zero > "$M/pad/p$i" 2>/dev/null; do i=$((i+1)); done
        rm -f "$M/pad/p$i"
        for j in $(seq 0 2 $((i-1))); do rm "$M/pad/p$j"; done
        head -c $(( (i / 2 - 20) * 4096 )) /dev/urandom > "\(source)"; cp "\(source)" "$M/frag"
        """
        let image = try NTFSImageBuilder.make(in: directory, size: 8 << 20, cluster: 4096, fill: script)
        let volume = try openVolume(image)
        let node = try volume.node(at: "frag")
        let runs = try volume.file(node).data.map { stream in
            if case let .runs(map) = stream.storage { map.runs.count } else { 0 }
        } ?? 0
        #expect(runs > 20)
        #expect(try volume.contents(node) == [UInt8](try Data(contentsOf: URL(fileURLWithPath: source))))
        #expect(try volume.contents(node) == (try SleuthKit.icat(image, String(node))))
    }
}
