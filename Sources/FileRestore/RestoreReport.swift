/// What a restore did, file by file: the machine-readable proof of a run. The schema is
/// versioned and documented in docs/RESTORE.md; fields are only ever added within a version.
/// Its JSON keys are the snake_case forms of the property names (`dryRun` is `dry_run`), as
/// the CLI's JSON encoder writes them.
public struct RestoreReport: Codable, Sendable {
    public static let schemaName = "rpfs-restore-report"
    /// 2: keys are snake_case (version 1 wrote them in camelCase).
    public static let schemaVersion = 2

    public enum Status: String, Codable, Sendable {
        /// Written (or, with --dry-run, would be).
        case restored, planned
        /// Left alone: it existed (--on-conflict skip), was already restored (--resume), or cannot
        /// exist outside a running system (a socket).
        case skipped
        case failed
    }

    public struct Record: Codable, Sendable {
        /// Path in the point.
        public var path: String
        /// Path written, relative to the destination directory.
        public var destination: String
        public var kind: String
        public var size: UInt64
        /// SHA-256 of the file's contents as written (regular files), as `sha256sum` prints it.
        public var sha256: String?
        public var status: Status
        public var reason: String?
        /// With --verify: whether the bytes read back from the destination's disk matched.
        public var verified: Bool?
        /// NTFS: the Windows owner ("S-1-5-21-...-1001") and the whole security descriptor in
        /// SDDL; absent on other volumes.
        public var ownerSid: String?
        public var sddl: String?
    }

    public struct Totals: Codable, Sendable {
        public var files = 0
        public var restored = 0
        public var skipped = 0
        public var failed = 0
        public var directories = 0
        /// Size of the regular files restored, hard links once (with --dry-run: to be restored).
        public var bytes: UInt64 = 0
        public var elapsedSeconds = 0.0
        public var bytesPerSecond = 0.0
    }

    public var schema = schemaName
    public var version = schemaVersion
    public var point: String
    public var destination: String
    public var dryRun: Bool
    public var started: String
    public var files: [Record] = []
    /// Plan patterns that matched nothing.
    public var unmatched: [String] = []
    public var totals = Totals()
    /// Things not restored exactly (an xattr the destination refused), one sentence each.
    public var notes: [String] = []

    /// Everything asked for is there: no failures, no pattern without a match.
    public var isComplete: Bool { totals.failed == 0 && unmatched.isEmpty }

    mutating func add(_ record: Record) {
        files.append(record)
        totals.files += 1
        switch record.status {
        case .restored, .planned: totals.restored += 1
        case .skipped: totals.skipped += 1
        case .failed: totals.failed += 1
        }
    }
}
