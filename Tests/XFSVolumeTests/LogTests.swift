import Foundation
import TestSupport
import Testing
import VolumeModel
import XFSVolume

/// The log is never replayed; whether it is clean is found and said. xfs_logprint, xfsprogs'
/// own log reader, is the oracle for the state; the kernel's norecovery mount for the files.
@Suite(.timeLimit(.minutes(3))) struct LogTests {
    static func logprintState(_ image: String) throws -> String {
        let output = try Shell.run("xfs_logprint", ["-t", image]).stdout
        guard let line = output.split(separator: "\n").first(where: { $0.contains("state:") }) else { throw TestFailure("xfs_logprint: \(output)") }
        return line.contains("<CLEAN>") ? "clean" : line.contains("<DIRTY>") ? "dirty" : String(line)
    }

    @Test func cleanAfterUnmount() throws {
        let directory = try TemporaryDirectory("rpfs-xfs-log")
        let image = try XFSImageBuilder.make(in: directory, size: 24 << 20, fill: "import os, sys; open(os.path.join(sys.argv[1], 'f'), 'w').write('x')")
        #expect(try Self.logprintState(image) == "clean")
        let volume = try openVolume(image)
        #expect(volume.info.log == .clean && volume.notes.isEmpty)
    }

    /// A filesystem shut down without writing its log back (as a crash leaves it): files
    /// made after the last freeze may be missing from the metadata on disk; rpfs shows what
    /// the kernel's norecovery mount shows and says the log is not clean.
    @Test func notCleanAfterShutdown() throws {
        let directory = try TemporaryDirectory("rpfs-xfs-log")
        let fill = #"""
        import os, subprocess, sys
        m = sys.argv[1]
        os.mkdir(os.path.join(m, 'synced'))
        for i in range(50): open(os.path.join(m, 'synced', 'f%d' % i), 'w').write('s' * i)
        # A freeze writes the metadata back in place: these files survive without the log.
        subprocess.check_call(['xfs_freeze', '-f', m]); subprocess.check_call(['xfs_freeze', '-u', m])
        for i in range(50): open(os.path.join(m, 'late-%d' % i), 'w').write('l')
        subprocess.check_call(['xfs_io', '-x', '-c', 'shutdown -f', m])
        """#
        let image = try XFSImageBuilder.make(in: directory, size: 24 << 20, fill: fill)
        #expect(try Self.logprintState(image) == "dirty")
        let volume = try openVolume(image)
        #expect(volume.info.log == .notClean)
        #expect(volume.notes.first?.contains("not clean") == true)
        try expectSameTree(volume, image, in: directory)
    }
}
