import BlockDevices
import Foundation
import KeyManagement
import PointDisk
import RecoveryPoint
import TestSupport
import Testing

@Suite struct KeyRotationTests {
    @Test func rewrapToNewVersionThenDeleteTheOldOne() throws {
        let fixture = try PointFixture()
        #expect(try fixture.open().kek.description == "backup/1")
        let v2 = try fixture.keyring.createVersion(of: "backup", bits: 2048)
        let chunksBefore = try fixture.chunkFiles().sorted()

        let (from, to) = try Rewrap.rewrap(fixture.id, in: fixture.store, provider: fixture.keyring,
                                           to: try KEKReference(parsing: "backup"), keepExisting: false)
        #expect(from.description == "backup/1")
        #expect(to == v2)
        #expect(try fixture.chunkFiles().sorted() == chunksBefore)

        try FileManager.default.removeItem(atPath: fixture.directory.file("keys/backup/1.pem"))
        let point = try fixture.open()
        #expect(point.kek == v2)
        #expect(point.header.wrappedKeys.map(\.kek) == [v2])
        #expect(try RecoveryPointDisk.disks(of: point)[0].readAll() == fixture.image)
    }

    @Test func pointFromBeforeRotationNeedsItsVersionAndSaysSo() throws {
        let fixture = try PointFixture()
        _ = try fixture.keyring.createVersion(of: "backup", bits: 2048)
        try FileManager.default.removeItem(atPath: fixture.directory.file("keys/backup/1.pem"))
        do {
            _ = try fixture.open()
            Issue.record("opened without its KEK version")
        } catch let RecoveryPointError.key(error, point) {
            #expect(point == fixture.id)
            guard case let .versionNotFound(kek, available, _) = error else {
                Issue.record("expected versionNotFound, got \(error)")
                return
            }
            #expect(kek.description == "backup/1")
            #expect(available == ["2"])
            #expect("\(error)".contains("before a key rotation"))
        }
    }

    @Test func keepExistingLetsEitherKeyOpenThePoint() throws {
        let fixture = try PointFixture()
        _ = try fixture.keyring.createVersion(of: "other", bits: 2048)
        _ = try Rewrap.rewrap(fixture.id, in: fixture.store, provider: fixture.keyring,
                              to: try KEKReference(parsing: "other/1"), keepExisting: true)
        #expect(try fixture.open().header.wrappedKeys.map(\.kek.description) == ["backup/1", "other/1"])
        try FileManager.default.removeItem(atPath: fixture.directory.file("keys/backup"))
        #expect(try fixture.open().kek.description == "other/1")
    }

    @Test func wrongKeyUnderTheRightNameFailsToUnwrap() throws {
        let fixture = try PointFixture()
        // Replace backup/1 with an unrelated key stored under the same name and version.
        let elsewhere = try TemporaryDirectory()
        let impostor = try TestKeys.keyring(in: elsewhere)
        try FileManager.default.removeItem(atPath: fixture.directory.file("keys/backup/1.pem"))
        try FileManager.default.copyItem(atPath: elsewhere.file("keys/backup/1.pem"), toPath: fixture.directory.file("keys/backup/1.pem"))
        _ = impostor
        do {
            _ = try fixture.open()
            Issue.record("opened with the wrong key")
        } catch let RecoveryPointError.key(error, _) {
            guard case .unwrapFailed = error else {
                Issue.record("expected unwrapFailed, got \(error)")
                return
            }
        }
    }

    @Test func missingKEKNameIsAKeyError() throws {
        let fixture = try PointFixture()
        try FileManager.default.removeItem(atPath: fixture.directory.file("keys/backup"))
        #expect {
            try fixture.open()
        } throws: { error in
            // A missing name is reported with the version the point needs.
            guard case let RecoveryPointError.key(.noUsableKEK(needed, failures), _) = error,
                  needed.map(\.description) == ["backup/1"], case .kekNotFound? = failures.first else { return false }
            return true
        }
    }
}
