import Cryptography
import Foundation
import KeyManagement
import TestSupport
import Testing

@Suite struct KeyringTests {
    @Test func versionsCountUpAndTheNewestIsCurrent() throws {
        let directory = try TemporaryDirectory()
        let keyring = KeyringDirectory(path: directory.file("keys"))
        #expect(try keyring.list().isEmpty)
        for expected in 1 ... 3 {
            #expect(try keyring.createVersion(of: "vault", bits: 2048).description == "vault/\(expected)")
        }
        #expect(try keyring.versions(of: "vault") == ["1", "2", "3"])
        #expect(try keyring.resolve(KEKReference(parsing: "vault")).description == "vault/3")
        #expect(try keyring.resolve(KEKReference(parsing: "vault/2")).description == "vault/2")
        #expect(try keyring.list().map(\.name) == ["vault"])
    }

    @Test func keyFilesArePrivateAndPKCS8() throws {
        let directory = try TemporaryDirectory()
        let keyring = KeyringDirectory(path: directory.file("keys"))
        _ = try keyring.createVersion(of: "vault", bits: 2048)
        let path = directory.file("keys/vault/1.pem")
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let pem = try String(contentsOfFile: path, encoding: .utf8)
        #expect(pem.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        // Independent check: openssl reads it as a 2048-bit RSA key.
        let text = try Shell.check("openssl", ["pkey", "-in", path, "-noout", "-text"])
        #expect(text.contains("2048 bit"))
    }

    @Test func versionsOrderNumerically() throws {
        let directory = try TemporaryDirectory()
        let keyring = KeyringDirectory(path: directory.file("keys"))
        for _ in 1 ... 10 { _ = try keyring.createVersion(of: "k", bits: 2048) }
        #expect(try keyring.versions(of: "k").last == "10")
        #expect(try keyring.resolve(KEKReference(parsing: "k")).version == "10")
    }

    @Test func missingNamesAndVersionsAreNamed() throws {
        let directory = try TemporaryDirectory()
        let keyring = try TestKeys.keyring(in: directory, name: "vault", versions: 2)
        #expect {
            try keyring.resolve(KEKReference(parsing: "nope"))
        } throws: { error in
            guard case let KeyError.kekNotFound(name, _) = error else { return false }
            return name == "nope"
        }
        #expect {
            try keyring.resolve(KEKReference(parsing: "vault/7"))
        } throws: { error in
            guard case let KeyError.versionNotFound(kek, available, _) = error else { return false }
            return kek.description == "vault/7" && available == ["1", "2"]
        }
    }

    @Test(arguments: ["../etc", "a/b/c", "", ".x", "x/", "x/.."])
    func hostileIdentifiersAreRejected(_ text: String) {
        #expect(throws: KeyError.self) { try KEKReference(parsing: text) }
    }

    @Test func garbageKeyFileIsReportedWithItsPath() throws {
        let directory = try TemporaryDirectory()
        let keyring = try TestKeys.keyring(in: directory)
        try "not a key".write(toFile: directory.file("keys/backup/1.pem"), atomically: true, encoding: .utf8)
        let dek = try SecretBytes(randomCount: 32)
        #expect {
            try keyring.wrap(dek, with: KEKIdentifier(name: "backup", version: "1"))
        } throws: { error in
            guard case let KeyError.invalidKeyFile(path, _) = error else { return false }
            return path.hasSuffix("keys/backup/1.pem")
        }
    }

    @Test func unwrapAnyTriesEachWrappingInOrder() throws {
        let directory = try TemporaryDirectory()
        let keyring = try TestKeys.keyring(in: directory, name: "a")
        _ = try keyring.createVersion(of: "b", bits: 2048)
        let dek = try SecretBytes(randomCount: 32)
        let a = try KEKIdentifier(name: "a", version: "1")
        let b = try KEKIdentifier(name: "b", version: "1")
        let gone = try KEKIdentifier(name: "gone", version: "4")
        let wrapped = [WrappedKey(kek: gone, algorithm: .rsaOAEPSHA256, bytes: [1, 2, 3]),
                       WrappedKey(kek: b, algorithm: .rsaOAEPSHA256, bytes: try keyring.wrap(dek, with: b))]
        #expect(try keyring.unwrapAny(wrapped).kek == b)
        // None usable: the error lists each KEK and why.
        let hopeless = [WrappedKey(kek: gone, algorithm: .rsaOAEPSHA256, bytes: [1]),
                        WrappedKey(kek: a, algorithm: .rsaOAEPSHA256, bytes: try keyring.wrap(dek, with: b))]
        #expect {
            try keyring.unwrapAny(hopeless)
        } throws: { error in
            let text = "\(error)"
            return text.contains("gone/4") && text.contains("a/1") && text.contains("did not unwrap")
        }
    }
}

@Suite struct KeyringVersionReuseTests {
    @Test func deletedVersionNumbersAreNeverReissued() throws {
        let directory = try TemporaryDirectory()
        let keyring = try TestKeys.keyring(in: directory, name: "vault", versions: 2)
        try FileManager.default.removeItem(atPath: directory.file("keys/vault/2.pem"))
        #expect(try keyring.createVersion(of: "vault", bits: 2048).version == "3")
        try FileManager.default.removeItem(atPath: directory.file("keys/vault/1.pem"))
        try FileManager.default.removeItem(atPath: directory.file("keys/vault/3.pem"))
        #expect(try keyring.createVersion(of: "vault", bits: 2048).version == "4")
        #expect(try keyring.versions(of: "vault") == ["4"])
    }
}
