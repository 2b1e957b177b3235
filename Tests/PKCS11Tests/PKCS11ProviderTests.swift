import Cryptography
import Foundation
import KeyManagement
import TestSupport
import Testing

@Suite struct PKCS11ProviderTests {
    /// A token holding the keyring's `backup/1` and `backup/2`, imported from their PEM files.
    private func tokenWithKeyring(versions: Int = 2) throws -> (hsm: SoftHSM, keyring: KeyringDirectory) {
        let hsm = try SoftHSM()
        let keyring = try TestKeys.keyring(in: hsm.directory, name: "backup", versions: versions)
        for version in 1 ... versions {
            try hsm.importKey(hsm.directory.file("keys/backup/\(version).pem"), label: "backup/\(version)", id: String(format: "%02x", version))
        }
        return (hsm, keyring)
    }

    private func same(_ a: SecretBytes, _ b: SecretBytes) -> Bool {
        a.withUnsafeBytes { x in b.withUnsafeBytes { y in Array(x) == Array(y) } }
    }

    @Test func tokenAndKeyringOpenEachOthersWrappings() throws {
        let (hsm, keyring) = try tokenWithKeyring()
        let token = try hsm.provider()
        #expect(token.description.contains("'rpfs-test'"))
        #expect(try token.versions(of: "backup") == ["1", "2"])
        #expect(try token.resolve(KEKReference(parsing: "backup")).description == "backup/2")
        #expect(try token.list().map(\.name) == ["backup"])
        for version in ["1", "2"] {
            let kek = try KEKIdentifier(name: "backup", version: version)
            let dek = try SecretBytes(randomCount: 32)
            // Keyring wraps with the PEM, the token unwraps inside itself.
            #expect(same(try token.unwrap(keyring.wrap(dek, with: kek), with: kek), dek))
            // The token wraps with its public key, the keyring's PEM opens it.
            let wrapped = try token.wrap(dek, with: kek)
            #expect(wrapped.count == 256)
            #expect(same(try keyring.unwrap(wrapped, with: kek), dek))
        }
    }

    @Test func rotationKeepsOldPointsOpenAndWrongVersionFails() throws {
        let (hsm, keyring) = try tokenWithKeyring()
        let token = try hsm.provider()
        let v1 = try KEKIdentifier(name: "backup", version: "1")
        let v2 = try KEKIdentifier(name: "backup", version: "2")
        let dek = try SecretBytes(randomCount: 32)
        let old = try keyring.wrap(dek, with: v1)
        // A point made before rotation lists v1 (gone elsewhere) and opens with v1 on the token.
        let opened = try token.unwrapAny([WrappedKey(kek: v1, algorithm: .rsaOAEPSHA256, bytes: old)])
        #expect(opened.kek == v1 && same(opened.dek, dek))
        // Rewrap under the newest version, as `rewrap` does.
        let rewrapped = try token.wrap(opened.dek, with: token.resolve(KEKReference(parsing: "backup")))
        #expect(same(try keyring.unwrap(rewrapped, with: v2), dek))
        // The wrong version does not open it: unwrapFailed, not a crash or garbage.
        #expect {
            try token.unwrap(old, with: v2)
        } throws: { error in
            guard case let KeyError.unwrapFailed(kek) = error else { return false }
            return kek == v2
        }
        #expect(throws: KeyError.self) { try token.unwrap([1, 2, 3], with: v1) }
        // A ciphertext at or above the modulus (as one under another key may be) is unwrapFailed too.
        #expect {
            try token.unwrap([UInt8](repeating: 0xFF, count: 256), with: v1)
        } throws: { error in
            guard case KeyError.unwrapFailed = error else { return false }
            return true
        }
        // Any flipped bit anywhere in the wrapped DEK is one and the same failure.
        for position in [0, 1, 40, 128, 255] {
            var damaged = old
            damaged[position] ^= 0x01
            #expect {
                try token.unwrap(damaged, with: v1)
            } throws: { error in
                guard case KeyError.unwrapFailed = error else { return false }
                return true
            }
        }
        // SoftHSM 2.6 refuses CKM_RSA_PKCS_OAEP with SHA-256: the provider says how it unwraps.
        #expect(token.unwrapMechanism.contains("on the token"))
    }

    @Test func missingVersionsAndNamesAreNamed() throws {
        let (hsm, _) = try tokenWithKeyring()
        let token = try hsm.provider()
        let dek = try SecretBytes(randomCount: 32)
        #expect {
            try token.unwrap([UInt8](repeating: 1, count: 256), with: KEKIdentifier(name: "backup", version: "7"))
        } throws: { error in
            guard case let KeyError.versionNotFound(kek, available, provider) = error else { return false }
            return kek.description == "backup/7" && available == ["1", "2"] && provider.contains("rpfs-test")
                && "\(error)".contains("versions 1, 2")
        }
        #expect {
            try token.resolve(KEKReference(parsing: "backup/3"))
        } throws: { error in
            guard case let KeyError.versionNotFound(_, available, _) = error else { return false }
            return available == ["1", "2"]
        }
        #expect {
            try token.wrap(dek, with: KEKIdentifier(name: "vault", version: "1"))
        } throws: { error in
            guard case let KeyError.kekNotFound(name, provider) = error else { return false }
            return name == "vault" && provider.contains("rpfs-test")
        }
        #expect {
            try token.versions(of: "vault")
        } throws: { error in
            guard case KeyError.kekNotFound = error else { return false }
            return true
        }
    }

    @Test func wrongPINIsAClearError() throws {
        let hsm = try SoftHSM()
        let wrong = try hsm.directory.write("wrong-pin", Array("0000\n".utf8))
        #expect {
            try hsm.provider(pinFile: wrong)
        } throws: { error in
            let text = "\(error)"
            return text.contains("incorrect") && text.contains(wrong) && text.contains("rpfs-test") && !text.contains("0000\n")
        }
        #expect {
            try hsm.provider(pinFile: hsm.directory.file("no-such-pin"))
        } throws: { error in
            "\(error)".contains("no-such-pin")
        }
        // The right PIN still works: one wrong attempt did not lock the token.
        _ = try hsm.provider()
    }

    @Test func wrongTokenAndModuleAreClearErrors() throws {
        let hsm = try SoftHSM()
        #expect {
            try hsm.provider(token: "other")
        } throws: { error in
            let text = "\(error)"
            return text.contains("'other'") && text.contains("no such token") && text.contains("'rpfs-test'")
        }
        #expect {
            try PKCS11Provider(module: hsm.directory.file("missing.so"), tokenLabel: "rpfs-test", pinFile: hsm.pinFile)
        } throws: { error in
            "\(error)".contains("cannot load PKCS#11 module")
        }
        #expect {
            try PKCS11Provider(module: "/lib/x86_64-linux-gnu/libc.so.6", tokenLabel: "rpfs-test", pinFile: hsm.pinFile)
        } throws: { error in
            "\(error)".contains("not a PKCS#11 module") || "\(error)".contains("cannot load")
        }
    }

    @Test func privateKeysStayOnTheToken() throws {
        let (hsm, _) = try tokenWithKeyring(versions: 1)
        let token = try hsm.provider()
        let made = try token.createVersion(of: "backup", bits: 2048)
        #expect(made.description == "backup/2")
        for kek in [try KEKIdentifier(name: "backup", version: "1"), made] {
            let protection = try token.protection(of: kek)
            #expect(protection.bits == 2048)
            #expect(protection.sensitive)
            #expect(!protection.extractable)
            #expect(!protection.secretReadable)
        }
        #expect(try token.protection(of: made).neverExtractable)
        // Independently, pkcs11-tool's view of the generated key.
        let listing = try hsm.pkcs11Tool(["--list-objects", "--type", "privkey"])
        #expect(listing.contains("never extractable"))
    }

    @Test func versionsMadeOnTheTokenCountUpAndAreNeverReissued() throws {
        let hsm = try SoftHSM()
        let token = try hsm.provider()
        #expect(try token.createVersion(of: "vault", bits: 2048).description == "vault/1")
        #expect(try token.createVersion(of: "vault", bits: 2048).description == "vault/2")
        #expect(try token.versions(of: "vault") == ["1", "2"])
        let kek = try KEKIdentifier(name: "vault", version: "2")
        let dek = try SecretBytes(randomCount: 32)
        #expect(same(try token.unwrap(token.wrap(dek, with: kek), with: kek), dek))
        // Delete version 2 outside rpfs; the next version is still 3.
        try hsm.pkcs11Tool(["--delete-object", "--type", "privkey", "--label", "vault/2"])
        try hsm.pkcs11Tool(["--delete-object", "--type", "pubkey", "--label", "vault/2"])
        #expect(try token.versions(of: "vault") == ["1"])
        #expect(try token.createVersion(of: "vault", bits: 2048).version == "3")
        // pkcs11-tool sees what rpfs made: an RSA pair per version, labelled NAME/VERSION.
        let listing = try hsm.pkcs11Tool(["--list-objects"])
        #expect(listing.contains("vault/3") && listing.contains("vault/1") && !listing.contains("vault/2"))
        #expect(throws: KeyError.self) { try token.createVersion(of: "../x", bits: 2048) }
        #expect(throws: KeyError.self) { try token.createVersion(of: "x", bits: 1024) }
    }

    @Test func wrapWorksWithOnlyThePrivateKeyAndRefusesAMismatchedPublicKey() throws {
        let (hsm, keyring) = try tokenWithKeyring()
        let v1 = try KEKIdentifier(name: "backup", version: "1")
        let dek = try SecretBytes(randomCount: 32)
        // No public key object: the token builds one for the session from the private key.
        try hsm.pkcs11Tool(["--delete-object", "--type", "pubkey", "--label", "backup/1"])
        do {
            let token = try hsm.provider()
            #expect(same(try keyring.unwrap(token.wrap(dek, with: v1), with: v1), dek))
        }
        // A public key labelled backup/1 that belongs to another key pair (backup/2's).
        let otherPublic = hsm.directory.file("other.der")
        try Shell.check("openssl", ["pkey", "-in", hsm.directory.file("keys/backup/2.pem"), "-pubout", "-outform", "DER", "-out", otherPublic])
        try hsm.pkcs11Tool(["--write-object", otherPublic, "--type", "pubkey", "--label", "backup/1", "--id", "01"])
        let token = try hsm.provider()
        #expect {
            try token.wrap(dek, with: v1)
        } throws: { error in
            "\(error)".contains("does not match its private key")
        }
    }

    @Test func oneProviderServesManyThreads() throws {
        let (hsm, keyring) = try tokenWithKeyring(versions: 1)
        let token = try hsm.provider()
        // A second provider on the same module and token shares its initialisation.
        let second = try hsm.provider()
        let kek = try KEKIdentifier(name: "backup", version: "1")
        let dek = try SecretBytes(randomCount: 32)
        let wrapped = try keyring.wrap(dek, with: kek)
        let failures = Counter()
        DispatchQueue.concurrentPerform(iterations: 16) { index in
            let provider = index.isMultiple(of: 2) ? token : second
            do {
                let back = try provider.unwrap(wrapped, with: kek)
                if !same(back, dek) { failures.add() }
            } catch {
                failures.add()
            }
        }
        #expect(failures.value == 0)
        _ = second
        #expect(try token.versions(of: "backup") == ["1"])
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
