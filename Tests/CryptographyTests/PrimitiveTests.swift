import ByteParsing
import Cryptography
import FoundationEssentials
import Testing

private func hex(_ text: String) -> [UInt8] { Hex.decode(text) ?? [] }

private func secret(_ bytes: [UInt8]) -> SecretBytes {
    bytes.withUnsafeBytes { SecretBytes(copying: $0) }
}

@Suite struct PrimitiveTests {
    @Test func hkdfMatchesRFC5869TestCase1() throws {
        let okm = try KeyDerivation.hkdfSHA256(secret: secret([UInt8](repeating: 0x0B, count: 22)),
                                               salt: hex("000102030405060708090a0b0c"),
                                               info: hex("f0f1f2f3f4f5f6f7f8f9"), count: 42)
        okm.withUnsafeBytes {
            #expect(Hex.encode($0) == "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
        }
    }

    @Test func hmacMatchesRFC4231TestCase1() throws {
        let mac = try Array("Hi There".utf8).withUnsafeBytes {
            try KeyDerivation.hmacSHA256(key: secret([UInt8](repeating: 0x0B, count: 20)), message: $0)
        }
        #expect(Hex.encode(mac) == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
    }

    @Test func gcmRoundTripAndTamperDetection() throws {
        let key = try SecretBytes(randomCount: 32)
        let nonce = try Random.bytes(12)
        let message = Array("the customer's file".utf8)
        let (ciphertext, tag) = try AES256GCM.seal(key: key, nonce: nonce, aad: [1, 2, 3], plaintext: message)
        #expect(ciphertext != message)
        #expect(try AES256GCM.open(key: key, nonce: nonce, aad: [1, 2, 3], ciphertext: ciphertext, tag: tag) == message)

        var badTag = tag
        badTag[0] ^= 1
        var badCiphertext = ciphertext
        badCiphertext[3] ^= 1
        for (aad, ct, t) in [([1, 2, 4], ciphertext, tag), ([1, 2, 3], badCiphertext, tag), ([1, 2, 3], ciphertext, badTag)] as [([UInt8], [UInt8], [UInt8])] {
            #expect(throws: CryptoError.authenticationFailed) {
                try AES256GCM.open(key: key, nonce: nonce, aad: aad, ciphertext: ct, tag: t)
            }
        }
    }

    @Test func failedOpenLeavesNoPlaintextInTheBuffer() throws {
        let key = try SecretBytes(randomCount: 32)
        let nonce = try Random.bytes(12)
        let message = [UInt8](repeating: 0x41, count: 4096)
        var (ciphertext, tag) = try AES256GCM.seal(key: key, nonce: nonce, aad: [], plaintext: message)
        tag[15] ^= 0x80
        let result = ciphertext.withUnsafeMutableBytes { buffer in
            Result { () throws(CryptoError) in
                try AES256GCM.open(key: key, nonce: nonce, aad: [], ciphertext: UnsafeRawBufferPointer(buffer), tag: tag, into: buffer)
            }
        }
        #expect(throws: CryptoError.authenticationFailed) { try result.get() }
        #expect(ciphertext.allSatisfy { $0 == 0 })
    }

    @Test func gcmRejectsBadParameters() throws {
        let key = try SecretBytes(randomCount: 16)
        #expect(throws: CryptoError.self) { try AES256GCM.seal(key: key, nonce: [UInt8](repeating: 0, count: 12), aad: [], plaintext: [1]) }
        let good = try SecretBytes(randomCount: 32)
        #expect(throws: CryptoError.self) { try AES256GCM.seal(key: good, nonce: [0], aad: [], plaintext: [1]) }
    }

    @Test(arguments: [2048, 3072])
    func rsaWrapUnwrapRoundTrip(bits: Int) throws {
        let key = try RSAKey.generate(bits: bits)
        #expect(key.bits == bits)
        let dek = try SecretBytes(randomCount: 32)
        let wrapped = try key.wrap(dek)
        #expect(wrapped.count == bits / 8)
        let reloaded = try RSAKey.privateKey(pem: try key.privateKeyPEM())
        let unwrapped = try reloaded.unwrap(wrapped)
        let same = dek.withUnsafeBytes { a in unwrapped.withUnsafeBytes { b in Array(a) == Array(b) } }
        #expect(same)
    }

    @Test func rsaUnwrapWithTheWrongKeyFails() throws {
        let right = try RSAKey.generate(bits: 2048)
        let wrong = try RSAKey.generate(bits: 2048)
        let wrapped = try right.wrap(try SecretBytes(randomCount: 32))
        #expect(throws: CryptoError.unwrapFailed) { try wrong.unwrap(wrapped) }
        var damaged = wrapped
        damaged[10] ^= 1
        #expect(throws: CryptoError.unwrapFailed) { try right.unwrap(damaged) }
        #expect(throws: CryptoError.unwrapFailed) { try right.unwrap([1, 2, 3]) }
    }

    @Test func rejectsKeysRpfsDoesNotAccept() throws {
        #expect(throws: CryptoError.self) { try RSAKey.generate(bits: 1024) }
        #expect(throws: CryptoError.self) { try RSAKey.privateKey(pem: Array("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".utf8)) }
        #expect(throws: CryptoError.self) { try RSAKey.privateKey(pem: []) }
    }

    /// Keys live in OpenSSL's secure heap: locked in RAM, so they never reach swap. The kernel
    /// is the outside witness: the process's locked memory (VmLck) holds the whole arena.
    @Test func secretsAreLockedInMemory() throws {
        let keys = try (0 ..< 64).map { _ in try SecretBytes(randomCount: 32) } + [secret(Array(repeating: 7, count: 600)), secret([])]
        #expect(keys.allSatisfy { $0.isLockedInMemory })
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmLck:") })
        let kilobytes = try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
        #expect(kilobytes >= 256, "VmLck \(kilobytes) kB")
        // Contents are intact in the arena.
        #expect(secret([1, 2, 3]).withUnsafeBytes { Array($0) } == [1, 2, 3])
    }
}
