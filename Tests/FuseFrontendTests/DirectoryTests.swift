#if canImport(Glibc)
import Glibc
#endif
import CFuse3
@testable import FuseFrontend
import PointTestSupport
import TestSupport
import Testing
import VolumeModel

/// readdir and readdirplus pages, and how they resume.
@Suite struct DirectoryTests {
    /// Every name once, ".", ".." first, over pages of several sizes, each page within its size.
    @Test(arguments: [false, true]) func pagesNameEveryEntryOnce(plus: Bool) throws {
        let harness = try Harness.shared()
        let many = try harness.number("many")
        let expected = try Source.names(harness.source("many")).sorted()
        #expect(expected.count == TreePoint.manyEntries)
        for size in [200, 1000, 4096, 65536] {
            let pages = try harness.list(many, size: size, plus: plus)
            for page in pages {
                #expect(page.reduce(0) { $0 + DirectoryPage.recordSize(nameLength: $1.name.count, plus: plus) } <= size)
            }
            let names = pages.flatMap { $0.map(\.text) }
            #expect(Array(names.prefix(2)) == [".", ".."], "size \(size)")
            #expect(names.dropFirst(2).sorted() == expected, "size \(size)")
            #expect(pages.flatMap { $0.map(\.nextOffset) } == Array(1 ... expected.count + 2), "size \(size)")
            if size == 200 { #expect(pages.count > 10) }
        }
    }

    @Test func entriesCarryTheirNodeAndTypeAndPlusTheirAttributes() throws {
        let harness = try Harness.shared()
        let srv = try harness.number("srv")
        for plus in [false, true] {
            let entries = try harness.list(srv, size: 65536, plus: plus).flatMap { $0 }
            for record in entries.dropFirst(2) {
                let relative = "srv/\(record.text)"
                let number = try harness.number(relative)
                let original = try Source.lstat(harness.source(relative))
                #expect(record.entry.attributes.st_ino == ino_t(number), "\(relative)")
                #expect(record.entry.attributes.st_mode & S_IFMT == original.st_mode & S_IFMT, "\(relative)")
                if plus {
                    #expect(record.entry.node == number && record.entry.timeout == PointFilesystem.cacheTimeout, "\(relative)")
                    #expect(record.entry.attributes.st_mode == original.st_mode && record.entry.attributes.st_size == original.st_size, "\(relative)")
                } else {
                    #expect(record.entry.node == 0)
                }
            }
            // "." and "..": the directory's number, no entry for the kernel to keep.
            for dot in entries.prefix(2) {
                #expect(dot.entry.node == 0 && dot.entry.attributes.st_ino == ino_t(srv) && dot.entry.attributes.st_mode == S_IFDIR)
            }
        }
    }

    /// A request at any offset continues the listing exactly where that offset points.
    @Test func anyOffsetResumesTheListing() throws {
        let harness = try Harness.shared()
        let many = try harness.number("many")
        let whole = try harness.list(many, size: 1 << 20, plus: false).flatMap { $0 }.map(\.text)
        guard case let .open(handle?, _) = harness.filesystem.opendir(many) else { throw TestFailure("opendir") }
        defer { _ = harness.filesystem.releasedir(handle: handle) }
        for offset in [0, 1, 2, 3, 150, whole.count - 1, whole.count, whole.count + 5] {
            guard case let .directoryPage(page) = harness.filesystem.readdir(many, handle: handle, size: 1 << 20, offset: off_t(offset), plus: true)
            else { throw TestFailure("readdir at \(offset)") }
            #expect(page.entries.map(\.text) == Array(whole.dropFirst(offset)), "offset \(offset)")
        }
        #expect(harness.filesystem.readdir(many, handle: handle + 1000, size: 4096, offset: 0, plus: false).errno == EBADF)
    }

    /// What the adapter packs is what the page says, record by record, in the kernel's
    /// layout (fuse_kernel.h: fuse_entry_out, then fuse_dirent), and it fills the page's size.
    @Test(arguments: [false, true]) func packedPagesHoldThePagesRecords(plus: Bool) throws {
        let harness = try Harness.shared()
        let many = try harness.number("many")
        guard case let .open(handle?, _) = harness.filesystem.opendir(many) else { throw TestFailure("opendir") }
        defer { _ = harness.filesystem.releasedir(handle: handle) }
        for offset in [0, 117] {
            guard case let .directoryPage(page) = harness.filesystem.readdir(many, handle: handle, size: 4096, offset: off_t(offset), plus: plus)
            else { throw TestFailure("readdir") }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: page.size, alignment: 8)
            defer { buffer.deallocate() }
            // libfuse packs without looking at the request.
            let used = FuseAdapter.pack(page, into: buffer.baseAddress!.assumingMemoryBound(to: CChar.self), for: nil)
            let bytes = UnsafeRawBufferPointer(rebasing: buffer[0 ..< used])
            #expect(page.size - used < DirectoryPage.recordSize(nameLength: FileName.maxLength, plus: plus), "the page is full")
            var position = 0
            for record in page.entries {
                let entry = plus ? position : 0
                let dirent = position + (plus ? 128 : 0)
                let nameLength = Int(bytes.loadUnaligned(fromByteOffset: dirent + 16, as: UInt32.self))
                #expect(bytes.loadUnaligned(fromByteOffset: dirent, as: UInt64.self) == UInt64(record.entry.attributes.st_ino))
                #expect(bytes.loadUnaligned(fromByteOffset: dirent + 8, as: UInt64.self) == UInt64(record.nextOffset))
                #expect(bytes.loadUnaligned(fromByteOffset: dirent + 20, as: UInt32.self) == UInt32(record.entry.attributes.st_mode & S_IFMT) >> 12)
                #expect(Array(bytes[dirent + 24 ..< dirent + 24 + nameLength]) == record.name)
                if plus {
                    #expect(bytes.loadUnaligned(fromByteOffset: entry, as: UInt64.self) == record.entry.node)
                    #expect(bytes.loadUnaligned(fromByteOffset: entry + 16, as: UInt64.self) == UInt64(record.entry.timeout))
                    #expect(bytes.loadUnaligned(fromByteOffset: entry + 48, as: UInt64.self) == UInt64(record.entry.attributes.st_size))
                    #expect(bytes.loadUnaligned(fromByteOffset: entry + 100, as: UInt32.self) == record.entry.attributes.st_mode)
                }
                position += DirectoryPage.recordSize(nameLength: nameLength, plus: plus)
            }
            #expect(position == used)
        }
    }

    /// The record sizes pages are measured with are libfuse's own.
    @Test func recordSizesAreLibfuses() {
        var attributes = stat()
        var parameters = fuse_entry_param()
        for length in [1, 2, 7, 8, 9, 100, 255] {
            let name = [CChar](repeating: 0x61, count: length) + [0]
            #expect(DirectoryPage.recordSize(nameLength: length, plus: false) == fuse_add_direntry(nil, nil, 0, name, &attributes, 0))
            #expect(DirectoryPage.recordSize(nameLength: length, plus: true) == fuse_add_direntry_plus(nil, nil, 0, name, &parameters, 0))
        }
    }
}
