/// One readdir or readdirplus reply: the entries that fit the kernel's buffer, in order.
/// Offsets: 0 ".", 1 "..", then the listing's entry i at i + 2; each entry carries the
/// offset the next request resumes from.
struct DirectoryPage {
    struct Entry {
        let name: [UInt8]
        /// Where the listing continues after this entry.
        let nextOffset: Int
        /// For readdir only the inode number and type bits count; readdirplus sends it whole.
        let entry: FuseEntry
    }

    let plus: Bool
    /// The kernel's buffer size the entries fit in.
    let size: Int
    let entries: [Entry]

    /// Bytes one record takes in the reply (fuse_kernel.h: FUSE_DIRENT_SIZE and
    /// FUSE_DIRENTPLUS_SIZE): a 24-byte fuse_dirent header, after readdirplus's 128-byte
    /// fuse_entry_out, then the name, padded to 8 bytes.
    static func recordSize(nameLength: Int, plus: Bool) -> Int {
        let header = plus ? 128 + 24 : 24
        return (header + nameLength + 7) & ~7
    }
}
