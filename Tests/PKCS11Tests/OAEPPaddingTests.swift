import Cryptography
import Foundation
@testable import KeyManagement
import TestSupport
import Testing

/// The host-side OAEP padding used when a token does raw RSA only.
@Suite struct OAEPPaddingTests {
    @Test func sha256MatchesKnownAnswers() {
        let hex = { (bytes: [UInt8]) in bytes.map { String(format: "%02x", $0) }.joined() }
        #expect(hex(SHA256.hash([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hex(SHA256.hash(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1") // two blocks
    }

    @Test func encodeAndDecodeRoundTripAndRejectDamage() throws {
        let dek = try SecretBytes(randomCount: 32)
        let encoded = try #require(try dek.withUnsafeBytes { (raw) throws(KeyError) in try PKCS11OAEP.encode(raw, modulusBytes: 256) })
        #expect(encoded.count == 256 && encoded[0] == 0)
        let back = try #require(encoded.withUnsafeBytes { PKCS11OAEP.decode($0) })
        #expect(back.withUnsafeBytes { Array($0) } == dek.withUnsafeBytes { Array($0) })
        for position in [0, 1, 33, 100, 255] {
            var damaged = encoded
            damaged[position] ^= 0x80
            #expect(damaged.withUnsafeBytes { PKCS11OAEP.decode($0) } == nil)
        }
        // Too long for the modulus: refused rather than truncated.
        let big = [UInt8](repeating: 1, count: 256 - 2 * 32 - 1)
        #expect(try big.withUnsafeBytes { (raw) throws(KeyError) in try PKCS11OAEP.encode(raw, modulusBytes: 256) } == nil)
    }
}
