import Cryptography

/// RSA-OAEP encoding with SHA-256 and MGF1-SHA-256, empty label (RFC 8017 §7.1), for tokens
/// that do the RSA operation but not OAEP with SHA-256 (SoftHSM 2.6 accepts only SHA-1 for
/// CKM_RSA_PKCS_OAEP). The private-key operation still happens on the token, with
/// CKM_RSA_X_509; only the padding is checked here, in constant time, with one failure for
/// every kind of bad padding (no Manger-style oracle).
enum PKCS11OAEP {
    static let hashLength = 32
    /// SHA-256 of the empty label.
    static let labelHash: [UInt8] = SHA256.hash([])

    /// The encoded message EM for `message` under a `k`-byte modulus, or nil when it does not fit.
    /// The caller wipes the result once it is encrypted.
    static func encode(_ message: UnsafeRawBufferPointer, modulusBytes k: Int) throws(KeyError) -> [UInt8]? {
        guard message.count <= k - 2 * hashLength - 2 else { return nil }
        var seed: [UInt8]
        do {
            seed = try Random.bytes(hashLength)
        } catch {
            throw .provider("no random bytes for RSA-OAEP: \(error)")
        }
        defer { seed.withUnsafeMutableBytes { SecretBytes.wipe($0) } }
        let dbLength = k - hashLength - 1
        var db = [UInt8](repeating: 0, count: dbLength)
        defer { db.withUnsafeMutableBytes { SecretBytes.wipe($0) } }
        for index in 0 ..< hashLength { db[index] = labelHash[index] }
        db[dbLength - message.count - 1] = 0x01
        for index in 0 ..< message.count { db[dbLength - message.count + index] = message[index] }
        var dbMask = mgf1(seed, count: dbLength)
        defer { dbMask.withUnsafeMutableBytes { SecretBytes.wipe($0) } }
        for index in 0 ..< dbLength { db[index] ^= dbMask[index] }
        var seedMask = mgf1(db, count: hashLength)
        defer { seedMask.withUnsafeMutableBytes { SecretBytes.wipe($0) } }
        var encoded = [UInt8](repeating: 0, count: k)
        for index in 0 ..< hashLength { encoded[1 + index] = seed[index] ^ seedMask[index] }
        for index in 0 ..< dbLength { encoded[1 + hashLength + index] = db[index] }
        return encoded
    }

    /// The message inside `encoded` (k bytes), or nil when the padding is wrong.
    static func decode(_ encoded: UnsafeRawBufferPointer) -> SecretBytes? {
        let k = encoded.count
        guard k >= 2 * hashLength + 2 else { return nil }
        let dbLength = k - hashLength - 1
        let maskedSeed = Array(encoded[1 ... hashLength])
        var maskedDB = Array(encoded[(1 + hashLength)...])
        defer { maskedDB.withUnsafeMutableBytes { SecretBytes.wipe($0) } }
        var seed = mgf1(maskedDB, count: hashLength)
        defer { seed.withUnsafeMutableBytes { SecretBytes.wipe($0) } }
        for index in 0 ..< hashLength { seed[index] ^= maskedSeed[index] }
        var db = mgf1(seed, count: dbLength)
        defer { db.withUnsafeMutableBytes { SecretBytes.wipe($0) } }
        for index in 0 ..< dbLength { db[index] ^= maskedDB[index] }

        // Constant time: every byte is looked at whatever the padding holds.
        var bad: UInt8 = encoded[0]
        for index in 0 ..< hashLength { bad |= db[index] ^ labelHash[index] }
        var found: UInt8 = 0 // 0xFF once the 0x01 separator has been seen
        var start = 0
        for index in hashLength ..< dbLength {
            let byte = db[index]
            let isOne = isZero(byte ^ 0x01)
            let isZeroByte = isZero(byte)
            let first = isOne & ~found
            start = select(first, index, start)
            // Before the separator only zeros may appear.
            bad |= ~found & ~isOne & ~isZeroByte
            found |= isOne
        }
        bad |= ~found
        guard bad == 0 else { return nil }
        let messageStart = start + 1
        return db.withUnsafeBytes { SecretBytes(copying: UnsafeRawBufferPointer(rebasing: $0[messageStart...])) }
    }

    /// 0xFF when `byte` is zero, else 0x00, without a branch.
    private static func isZero(_ byte: UInt8) -> UInt8 {
        let wide = UInt32(byte)
        return UInt8(truncatingIfNeeded: ((wide &- 1) >> 8) & 0xFF)
    }

    private static func select(_ mask: UInt8, _ a: Int, _ b: Int) -> Int {
        let wide = Int(Int8(bitPattern: mask)) // 0 or -1
        return (a & wide) | (b & ~wide)
    }

    static func mgf1(_ seed: [UInt8], count: Int) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(count + hashLength)
        var counter: UInt32 = 0
        var input = seed + [0, 0, 0, 0]
        defer { input.withUnsafeMutableBytes { SecretBytes.wipe($0) } }
        while output.count < count {
            input[seed.count] = UInt8(truncatingIfNeeded: counter >> 24)
            input[seed.count + 1] = UInt8(truncatingIfNeeded: counter >> 16)
            input[seed.count + 2] = UInt8(truncatingIfNeeded: counter >> 8)
            input[seed.count + 3] = UInt8(truncatingIfNeeded: counter)
            output += SHA256.hash(input)
            counter += 1
        }
        output.removeLast(output.count - count)
        return output
    }
}

/// SHA-256 (FIPS 180-4), only for OAEP padding; straight-line code, no data-dependent branches.
enum SHA256 {
    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    static func hash(_ message: [UInt8]) -> [UInt8] {
        var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
        var padded = message + [0x80]
        while padded.count % 64 != 56 { padded.append(0) }
        let bits = UInt64(message.count) * 8
        for shift in stride(from: 56, through: 0, by: -8) { padded.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
        defer { padded.withUnsafeMutableBytes { SecretBytes.wipe($0) } }
        var w = [UInt32](repeating: 0, count: 64)
        defer { w.withUnsafeMutableBytes { SecretBytes.wipe($0) } }
        for block in stride(from: 0, to: padded.count, by: 64) {
            for t in 0 ..< 16 {
                let i = block + t * 4
                w[t] = UInt32(padded[i]) << 24 | UInt32(padded[i + 1]) << 16 | UInt32(padded[i + 2]) << 8 | UInt32(padded[i + 3])
            }
            for t in 16 ..< 64 {
                let s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)
                let s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)
                w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
            }
            var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7]
            for t in 0 ..< 64 {
                let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                let choose = (e & f) ^ (~e & g)
                let t1 = hh &+ s1 &+ choose &+ k[t] &+ w[t]
                let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                let majority = (a & b) ^ (a & c) ^ (b & c)
                let t2 = s0 &+ majority
                hh = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ t2
            }
            h[0] &+= a; h[1] &+= b; h[2] &+= c; h[3] &+= d; h[4] &+= e; h[5] &+= f; h[6] &+= g; h[7] &+= hh
        }
        return h.flatMap { word in [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: word >> UInt32($0)) } }
    }

    private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
}
