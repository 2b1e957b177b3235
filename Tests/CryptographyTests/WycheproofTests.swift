import ByteParsing
import Cryptography
import Foundation
import TestSupport
import Testing

/// Published vectors (C2SP/wycheproof, Apache-2.0; see fixtures/crypto/README.md), run
/// through the same functions the chunk and key paths use.
private struct AESVector: Decodable {
    let tcId: Int
    let comment: String
    let key, iv, aad, msg, ct, tag, result: String
}

private struct RSAVectors: Decodable {
    struct Test: Decodable {
        let tcId: Int
        let comment: String
        let msg, ct, label, result: String
    }

    let privateKeyPem: String
    let tests: [Test]
}

private func load<T: Decodable>(_ name: String, as _: T.Type) throws -> T {
    let data = try Data(contentsOf: URL(fileURLWithPath: "\(repositoryRoot)/fixtures/crypto/\(name)"))
    return try JSONDecoder().decode(T.self, from: data)
}

private func bytes(_ hex: String) throws -> [UInt8] {
    try #require(Hex.decode(hex), "bad hex in vector file")
}

private struct AESFile: Decodable { let tests: [AESVector] }

@Suite struct WycheproofTests {
    @Test func aes256GCMVectors() throws {
        let vectors = try load("wycheproof-aes256-gcm.json", as: AESFile.self).tests
        #expect(vectors.count >= 40)
        for vector in vectors {
            let key = try bytes(vector.key).withUnsafeBytes { SecretBytes(copying: $0) }
            let iv = try bytes(vector.iv)
            let aad = try bytes(vector.aad)
            let message = try bytes(vector.msg)
            let ciphertext = try bytes(vector.ct)
            let tag = try bytes(vector.tag)
            let opened = Result { () throws(CryptoError) in try AES256GCM.open(key: key, nonce: iv, aad: aad, ciphertext: ciphertext, tag: tag) }
            if vector.result == "valid" {
                #expect(try opened.get() == message, "tcId \(vector.tcId) \(vector.comment)")
                let sealed = try AES256GCM.seal(key: key, nonce: iv, aad: aad, plaintext: message)
                #expect(sealed.ciphertext == ciphertext && sealed.tag == tag, "tcId \(vector.tcId)")
            } else {
                #expect(throws: CryptoError.authenticationFailed, "tcId \(vector.tcId) \(vector.comment)") { try opened.get() }
            }
        }
    }

    @Test func rsaOAEPSHA256Vectors() throws {
        let file = try load("wycheproof-rsa-oaep-sha256.json", as: RSAVectors.self)
        let key = try RSAKey.privateKey(pem: Array(file.privateKeyPem.utf8))
        #expect(key.bits == 2048)
        var valid = 0
        for vector in file.tests {
            let ciphertext = try bytes(vector.ct)
            let label = try bytes(vector.label)
            let outcome = Result { () throws(CryptoError) in try key.unwrap(ciphertext, label: label) }
            if vector.result == "valid" {
                let secret = try outcome.get()
                #expect(secret.withUnsafeBytes { Array($0) } == (try bytes(vector.msg)), "tcId \(vector.tcId) \(vector.comment)")
                valid += 1
            } else {
                #expect(throws: CryptoError.unwrapFailed, "tcId \(vector.tcId) \(vector.comment)") { try outcome.get() }
            }
        }
        #expect(valid > 10)
    }
}
