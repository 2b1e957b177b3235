#if canImport(Glibc)
import Glibc
#endif
import CPKCS11
import Cryptography
import POSIXFiles
import Synchronization

/// KEKs as RSA key pairs on a PKCS#11 token (an HSM, a smart card, SoftHSM).
///
/// The KEK `NAME/VERSION` is the RSA private key (`CKO_PRIVATE_KEY`, `CKK_RSA`) whose
/// `CKA_LABEL` is exactly `NAME/VERSION`; its public key carries the same label. Unwrapping
/// is RSA-OAEP (SHA-256, MGF1-SHA-256, empty label) done by the token with `C_Decrypt`: the
/// private key never leaves it. Wrapping encrypts with the public key object (or, when the
/// token holds only the private key, with a session object built from its public modulus and
/// exponent) and is checked by unwrapping the result on the token before it is returned.
///
/// Every PKCS#11 call on a module goes through one lock. Providers that name the same module
/// share one loaded, initialised copy of it; the last one to go finalises and unloads it.
public final class PKCS11Provider: KeyProvider, @unchecked Sendable {
    // @unchecked: the stored properties are immutable; the session and the module's state are
    // only touched while holding `module.lock`.
    public let modulePath: String
    public let tokenLabel: String
    private let module: PKCS11Module
    private let slot: CK_SLOT_ID
    private let session: CK_SESSION_HANDLE
    private let readWrite: Bool

    public static let defaultBits = 3072
    /// A PIN file holds one line; anything larger is not a PIN file.
    private static let maxPINFileSize = 4096
    /// Application tag on the data objects that remember the highest version issued per name.
    static let counterApplication = "rpfs"
    static func counterLabel(_ name: String) -> String { "rpfs-last-version:\(name)" }

    public var description: String { "PKCS#11 token '\(tokenLabel)' (module \(modulePath))" }

    /// Loads `module`, finds the token labelled `tokenLabel` and logs in as the user with the
    /// PIN in `pinFile` (one line; a trailing newline is ignored; the PIN is wiped after login).
    public init(module path: String, tokenLabel: String, pinFile: String) throws(KeyError) {
        let where_ = "PKCS#11 token '\(tokenLabel)' (module \(path))"
        var pin = try Self.readPIN(pinFile, for: where_)
        defer { pin.withUnsafeMutableBytes { SecretBytes.wipe($0) } }
        let module = try PKCS11Module.acquire(path)
        do throws(KeyError) {
            let opened = try module.lock.withLock { _ throws(KeyError) in
                try Self.open(module, tokenLabel: tokenLabel, pin: pin, pinFile: pinFile, where: where_)
            }
            self.slot = opened.slot
            self.session = opened.session
            self.readWrite = opened.readWrite
        } catch {
            PKCS11Module.release(module)
            throw error
        }
        self.module = module
        self.modulePath = path
        self.tokenLabel = tokenLabel
    }

    deinit {
        module.lock.withLock { _ in
            let calls = module.functions.pointee
            module.logins[slot, default: 1] -= 1
            // Login state is per token for the whole process: log out only when no other
            // provider on this module still uses the token.
            if module.logins[slot] == 0 {
                module.logins[slot] = nil
                _ = calls.C_Logout?(session)
            }
            _ = calls.C_CloseSession?(session)
        }
        PKCS11Module.release(module)
    }

    // MARK: KeyProvider

    public func versions(of name: String) throws(KeyError) -> [String] {
        guard KEKIdentifier.isValidComponent(name) else { throw .invalidIdentifier(name, reason: "bad KEK name") }
        return try locked { () throws(KeyError) in
            let found = try versionsLocked(of: name, classes: [CKO_PRIVATE_KEY])
            guard !found.isEmpty else { throw .kekNotFound(name: name, provider: description) }
            return found
        }
    }

    /// Every KEK name on the token with its versions, oldest first (for `rpfs keys`).
    public func list() throws(KeyError) -> [(name: String, versions: [String])] {
        try locked { () throws(KeyError) in
            var byName: [String: Set<String>] = [:]
            for label in try labelsLocked(classes: [CKO_PRIVATE_KEY]) {
                guard let kek = Self.parseLabel(label) else { continue }
                byName[kek.name, default: []].insert(kek.version)
            }
            return byName.sorted { $0.key < $1.key }.map { ($0.key, $0.value.sorted(by: KEKIdentifier.versionPrecedes)) }
        }
    }

    public func unwrap(_ wrapped: [UInt8], with kek: KEKIdentifier) throws(KeyError) -> SecretBytes {
        try locked { () throws(KeyError) in
            let key = try privateKeyLocked(kek)
            return try decryptLocked(wrapped, key: key, kek: kek)
        }
    }

    public func wrap(_ dek: SecretBytes, with kek: KEKIdentifier) throws(KeyError) -> [UInt8] {
        try locked { () throws(KeyError) in
            let privateKey = try privateKeyLocked(kek)
            let publicKeys = try findLocked([.ulong(CKA_CLASS, CKO_PUBLIC_KEY), .ulong(CKA_KEY_TYPE, CKK_RSA), .text(CKA_LABEL, kek.description)])
            guard publicKeys.count <= 1 else {
                throw .provider("\(description) has \(publicKeys.count) public keys labelled '\(kek)'; labels must be unique")
            }
            var temporary: CK_OBJECT_HANDLE?
            defer { if let temporary { _ = module.functions.pointee.C_DestroyObject?(session, temporary) } }
            let publicKey: CK_OBJECT_HANDLE
            if let only = publicKeys.first {
                publicKey = only
            } else {
                // Only the private key is on the token: its modulus and exponent are public
                // attributes, so build a session public key (never stored on the token).
                guard let modulus = try attributeLocked(privateKey, CKA_MODULUS),
                      let exponent = try attributeLocked(privateKey, CKA_PUBLIC_EXPONENT) else {
                    throw .provider("\(description) has no public key labelled '\(kek)' and its private key does not show its modulus")
                }
                let made = try createObjectLocked([
                    .ulong(CKA_CLASS, CKO_PUBLIC_KEY), .ulong(CKA_KEY_TYPE, CKK_RSA), .bool(CKA_TOKEN, false),
                    .bool(CKA_ENCRYPT, true), .bytes(CKA_MODULUS, modulus), .bytes(CKA_PUBLIC_EXPONENT, exponent),
                ], what: "building a session public key for '\(kek)'")
                temporary = made
                publicKey = made
            }
            if let modulus = try attributeLocked(publicKey, CKA_MODULUS), Self.significantBits(modulus) < 2048 {
                throw .provider("\(description): key '\(kek)' is RSA-\(Self.significantBits(modulus)); rpfs wraps only under RSA-2048 or larger")
            }
            let wrapped = try encryptLocked(dek, key: publicKey, kek: kek)
            // A public key that does not match its private key would make points that never
            // open again: check the round trip before anything is written with this wrapping.
            let back: SecretBytes
            do throws(KeyError) {
                back = try decryptLocked(wrapped, key: privateKey, kek: kek)
            } catch .unwrapFailed {
                throw .provider("\(description): the public key labelled '\(kek)' does not match its private key; refusing to wrap")
            }
            guard Self.equal(back, dek) else {
                throw .provider("\(description): the public key labelled '\(kek)' does not match its private key; refusing to wrap")
            }
            return wrapped
        }
    }

    /// Generates the next version of `name` on the token: an RSA key pair whose private half
    /// is sensitive and never extractable. The version is one past the highest ever issued
    /// (remembered in a private data object), so a deleted version's number is never reused.
    public func createVersion(of name: String, bits: Int = defaultBits) throws(KeyError) -> KEKIdentifier {
        guard KEKIdentifier.isValidComponent(name) else { throw .invalidIdentifier(name, reason: "bad KEK name") }
        guard RSAKey.acceptedBits.contains(bits) else {
            throw .provider("RSA-\(bits) is not accepted (use 2048, 3072 or 4096 bits)")
        }
        guard readWrite else { throw .provider("\(description) is write-protected: cannot create keys on it") }
        return try locked { () throws(KeyError) in
            let existing = try versionsLocked(of: name, classes: [CKO_PRIVATE_KEY, CKO_PUBLIC_KEY])
            let counterTemplate: [Attribute] = [.ulong(CKA_CLASS, CKO_DATA), .text(CKA_APPLICATION, Self.counterApplication),
                                                .text(CKA_LABEL, Self.counterLabel(name))]
            let counters = try findLocked(counterTemplate)
            var lastIssued: UInt64 = 0
            for counter in counters {
                if let value = try attributeLocked(counter, CKA_VALUE), let number = UInt64(String(decoding: value, as: UTF8.self)) {
                    lastIssued = max(lastIssued, number)
                }
            }
            let next = max(lastIssued, existing.compactMap { UInt64($0) }.max() ?? 0) + 1
            let kek = try KEKIdentifier(name: name, version: String(next))
            let label = Array(kek.description.utf8)
            let publicTemplate: [Attribute] = [
                .ulong(CKA_CLASS, CKO_PUBLIC_KEY), .ulong(CKA_KEY_TYPE, CKK_RSA), .bool(CKA_TOKEN, true),
                .bool(CKA_PRIVATE, false), .bool(CKA_ENCRYPT, true), .bool(CKA_VERIFY, false), .bool(CKA_WRAP, false),
                .ulong(CKA_MODULUS_BITS, CK_ULONG(bits)), .bytes(CKA_PUBLIC_EXPONENT, [0x01, 0x00, 0x01]),
                .bytes(CKA_LABEL, label), .bytes(CKA_ID, label),
            ]
            let privateTemplate: [Attribute] = [
                .ulong(CKA_CLASS, CKO_PRIVATE_KEY), .ulong(CKA_KEY_TYPE, CKK_RSA), .bool(CKA_TOKEN, true),
                .bool(CKA_PRIVATE, true), .bool(CKA_SENSITIVE, true), .bool(CKA_EXTRACTABLE, false),
                .bool(CKA_DECRYPT, true), .bool(CKA_SIGN, false), .bool(CKA_UNWRAP, false),
                .bytes(CKA_LABEL, label), .bytes(CKA_ID, label),
            ]
            var mechanism = CK_MECHANISM(mechanism: CKM_RSA_PKCS_KEY_PAIR_GEN, pParameter: nil, ulParameterLen: 0)
            var publicHandle = CK_OBJECT_HANDLE(CK_INVALID_HANDLE)
            var privateHandle = CK_OBJECT_HANDLE(CK_INVALID_HANDLE)
            let rv = Attribute.withTemplate(publicTemplate) { publicAttributes, publicCount in
                Attribute.withTemplate(privateTemplate) { privateAttributes, privateCount in
                    module.functions.pointee.C_GenerateKeyPair!(session, &mechanism, publicAttributes, publicCount,
                                                                 privateAttributes, privateCount, &publicHandle, &privateHandle)
                }
            }
            try check(rv, "C_GenerateKeyPair (RSA-\(bits) for '\(kek)')")
            let value = Array(String(next).utf8)
            // A new counter object, then the old ones go (SoftHSM keeps CKA_VALUE read-only):
            // if rpfs dies in between, the highest value still wins.
            _ = try createObjectLocked(counterTemplate + [.bool(CKA_TOKEN, true), .bool(CKA_PRIVATE, true), .bytes(CKA_VALUE, value)],
                                       what: "storing the version counter of '\(name)'")
            for counter in counters { _ = module.functions.pointee.C_DestroyObject!(session, counter) }
            return kek
        }
    }

    /// Checks that the private key of `kek` stays on the token (for `rpfs keys` and tests).
    public func protection(of kek: KEKIdentifier) throws(KeyError) -> KeyProtection {
        try locked { () throws(KeyError) in
            let key = try privateKeyLocked(kek)
            func flag(_ type: CK_ATTRIBUTE_TYPE) throws(KeyError) -> Bool {
                guard let value = try attributeLocked(key, type) else { return false }
                return value.first == UInt8(CK_TRUE)
            }
            let modulus = try attributeLocked(key, CKA_MODULUS) ?? []
            let exponent = try attributeLocked(key, CKA_PRIVATE_EXPONENT)
            let prime = try attributeLocked(key, CKA_PRIME_1)
            let readable = exponent != nil || prime != nil
            return KeyProtection(bits: Self.significantBits(modulus), sensitive: try flag(CKA_SENSITIVE),
                                 extractable: try flag(CKA_EXTRACTABLE), neverExtractable: try flag(CKA_NEVER_EXTRACTABLE),
                                 secretReadable: readable)
        }
    }

    // MARK: Token operations (callers hold module.lock)

    private func locked<R>(_ body: () throws(KeyError) -> R) throws(KeyError) -> R {
        // Mutex.withLock needs a `sending` result; the lock only orders calls into the module.
        let box = module.lock.withLock { _ -> Result<UnsafeTransfer<R>, KeyError> in
            do throws(KeyError) {
                return .success(UnsafeTransfer(try body()))
            } catch {
                return .failure(error)
            }
        }
        return try box.get().value
    }

    private func check(_ rv: CK_RV, _ operation: String) throws(KeyError) {
        guard rv != CKR_OK else { return }
        throw .provider("\(description): \(operation) failed: \(PKCS11Module.name(of: rv))")
    }

    private func findLocked(_ template: [Attribute]) throws(KeyError) -> [CK_OBJECT_HANDLE] {
        let calls = module.functions.pointee
        let rv = Attribute.withTemplate(template) { attributes, count in
            calls.C_FindObjectsInit!(session, attributes, count)
        }
        try check(rv, "C_FindObjectsInit")
        defer { _ = calls.C_FindObjectsFinal!(session) }
        var handles: [CK_OBJECT_HANDLE] = []
        var batch = [CK_OBJECT_HANDLE](repeating: 0, count: 64)
        while true {
            var found: CK_ULONG = 0
            try check(calls.C_FindObjects!(session, &batch, CK_ULONG(batch.count), &found), "C_FindObjects")
            handles += batch.prefix(Int(found))
            if found < CK_ULONG(batch.count) { return handles }
        }
    }

    /// The attribute's bytes; nil when the object does not have it or will not show it.
    private func attributeLocked(_ object: CK_OBJECT_HANDLE, _ type: CK_ATTRIBUTE_TYPE) throws(KeyError) -> [UInt8]? {
        let calls = module.functions.pointee
        var attribute = CK_ATTRIBUTE(type: type, pValue: nil, ulValueLen: 0)
        var rv = calls.C_GetAttributeValue!(session, object, &attribute, 1)
        if rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID { return nil }
        try check(rv, "C_GetAttributeValue")
        guard attribute.ulValueLen != CK_ULONG.max /* CK_UNAVAILABLE_INFORMATION */ else { return nil }
        var value = [UInt8](repeating: 0, count: Int(attribute.ulValueLen))
        rv = value.withUnsafeMutableBytes { buffer in
            attribute.pValue = buffer.baseAddress
            return calls.C_GetAttributeValue!(session, object, &attribute, 1)
        }
        try check(rv, "C_GetAttributeValue")
        return Array(value.prefix(Int(attribute.ulValueLen)))
    }

    private func labelsLocked(classes: [CK_OBJECT_CLASS]) throws(KeyError) -> [String] {
        var labels: [String] = []
        for objectClass in classes {
            for object in try findLocked([.ulong(CKA_CLASS, objectClass), .ulong(CKA_KEY_TYPE, CKK_RSA)]) {
                if let label = try attributeLocked(object, CKA_LABEL) { labels.append(String(decoding: label, as: UTF8.self)) }
            }
        }
        return labels
    }

    private func versionsLocked(of name: String, classes: [CK_OBJECT_CLASS]) throws(KeyError) -> [String] {
        let versions = try labelsLocked(classes: classes).compactMap { label in
            Self.parseLabel(label).flatMap { $0.name == name ? $0.version : nil }
        }
        return Set(versions).sorted(by: KEKIdentifier.versionPrecedes)
    }

    private func privateKeyLocked(_ kek: KEKIdentifier) throws(KeyError) -> CK_OBJECT_HANDLE {
        let keys = try findLocked([.ulong(CKA_CLASS, CKO_PRIVATE_KEY), .ulong(CKA_KEY_TYPE, CKK_RSA), .text(CKA_LABEL, kek.description)])
        switch keys.count {
        case 1:
            return keys[0]
        case 0:
            let available = try versionsLocked(of: kek.name, classes: [CKO_PRIVATE_KEY])
            if available.isEmpty { throw .kekNotFound(name: kek.name, provider: description) }
            throw .versionNotFound(kek, available: available, provider: description)
        default:
            throw .provider("\(description) has \(keys.count) RSA private keys labelled '\(kek)'; labels must be unique")
        }
    }

    private func createObjectLocked(_ template: [Attribute], what: String) throws(KeyError) -> CK_OBJECT_HANDLE {
        var handle = CK_OBJECT_HANDLE(CK_INVALID_HANDLE)
        let rv = Attribute.withTemplate(template) { attributes, count in
            module.functions.pointee.C_CreateObject!(session, attributes, count, &handle)
        }
        try check(rv, "C_CreateObject (\(what))")
        return handle
    }

    /// Runs `body` with an RSA-OAEP mechanism: SHA-256 for OAEP and MGF1, empty label.
    private static func withOAEP<R>(_ body: (UnsafeMutablePointer<CK_MECHANISM>) -> R) -> R {
        var parameters = CK_RSA_PKCS_OAEP_PARAMS(hashAlg: CKM_SHA256, mgf: CKG_MGF1_SHA256, source: CKZ_DATA_SPECIFIED,
                                                 pSourceData: nil, ulSourceDataLen: 0)
        return withUnsafeMutablePointer(to: &parameters) { pointer in
            var mechanism = CK_MECHANISM(mechanism: CKM_RSA_PKCS_OAEP, pParameter: UnsafeMutableRawPointer(pointer),
                                         ulParameterLen: CK_ULONG(MemoryLayout<CK_RSA_PKCS_OAEP_PARAMS>.size))
            return body(&mechanism)
        }
    }

    /// Whether the token does RSA-OAEP-SHA256 itself; after it refuses the mechanism once,
    /// RSA goes through CKM_RSA_X_509 and the OAEP padding is done by `PKCS11OAEP`.
    /// Guarded by `module.lock`.
    private var oaepOnToken = true

    /// How unwrapping works on this token, for `rpfs keys`.
    public var unwrapMechanism: String {
        let onToken = module.lock.withLock { _ in oaepOnToken }
        return onToken ? "RSA-OAEP-SHA256 (CKM_RSA_PKCS_OAEP) on the token"
            : "RSA on the token (CKM_RSA_X_509), OAEP-SHA256 padding checked by rpfs"
    }

    private static func refusesMechanism(_ rv: CK_RV) -> Bool {
        rv == CKR_MECHANISM_INVALID || rv == CKR_MECHANISM_PARAM_INVALID || rv == CKR_ARGUMENTS_BAD
    }

    private func modulusBytes(_ key: CK_OBJECT_HANDLE, kek: KEKIdentifier) throws(KeyError) -> Int {
        guard let modulus = try attributeLocked(key, CKA_MODULUS), !modulus.isEmpty else {
            throw .provider("\(description): key '\(kek)' does not show its RSA modulus")
        }
        return (Self.significantBits(modulus) + 7) / 8
    }

    private func decryptLocked(_ wrapped: [UInt8], key: CK_OBJECT_HANDLE, kek: KEKIdentifier) throws(KeyError) -> SecretBytes {
        guard !wrapped.isEmpty else { throw .unwrapFailed(kek) }
        let calls = module.functions.pointee
        if oaepOnToken {
            let initRV = Self.withOAEP { mechanism in calls.C_DecryptInit!(session, mechanism, key) }
            if Self.refusesMechanism(initRV) {
                oaepOnToken = false
            } else {
                try checkKeyUse(initRV, "C_DecryptInit", kek: kek)
                return try finishDecrypt(wrapped, outputCapacity: wrapped.count, kek: kek)
            }
        }
        let k = try modulusBytes(key, kek: kek)
        guard wrapped.count == k else { throw .unwrapFailed(kek) }
        // Raw RSA takes only ciphertexts below the modulus (a token answers others with
        // CKR_GENERAL_ERROR); one that is not is simply not ours. Public values: no timing issue.
        if let modulus = try attributeLocked(key, CKA_MODULUS) {
            let n = Array(modulus.drop(while: { $0 == 0 }))
            guard n.count == k, wrapped.lexicographicallyPrecedes(n) else { throw .unwrapFailed(kek) }
        }
        var mechanism = CK_MECHANISM(mechanism: CKM_RSA_X_509, pParameter: nil, ulParameterLen: 0)
        try checkKeyUse(calls.C_DecryptInit!(session, &mechanism, key), "C_DecryptInit (CKM_RSA_X_509)", kek: kek)
        let raw = try finishDecrypt(wrapped, outputCapacity: k, kek: kek)
        // Raw RSA may drop leading zero bytes: put the encoded message back to k bytes.
        guard raw.count <= k else { throw .unwrapFailed(kek) }
        let padded = raw.withUnsafeBytes { bytes in
            SecretBytes(count: k) { (out: UnsafeMutableRawBufferPointer) in
                out.initializeMemory(as: UInt8.self, repeating: 0)
                UnsafeMutableRawBufferPointer(rebasing: out[(k - bytes.count)...]).copyMemory(from: bytes)
            }
        }
        guard let dek = padded.withUnsafeBytes({ PKCS11OAEP.decode($0) }) else { throw .unwrapFailed(kek) }
        return dek
    }

    /// Runs the single-part C_Decrypt of an initialised operation into a secret.
    private func finishDecrypt(_ wrapped: [UInt8], outputCapacity: Int, kek: KEKIdentifier) throws(KeyError) -> SecretBytes {
        let calls = module.functions.pointee
        var input = wrapped
        var length = 0
        let scratch = try SecretBytes(count: max(outputCapacity, 1)) { (out) throws(KeyError) in
            var outLength = CK_ULONG(out.count)
            let rv = calls.C_Decrypt!(session, &input, CK_ULONG(input.count), out.baseAddress?.assumingMemoryBound(to: UInt8.self), &outLength)
            if rv == CKR_BUFFER_TOO_SMALL {
                // Cannot happen for RSA; end the still-active operation before giving up.
                var dummy: CK_ULONG = 0
                _ = calls.C_Decrypt!(session, &input, CK_ULONG(input.count), nil, &dummy)
                throw .unwrapFailed(kek)
            }
            try checkKeyUse(rv, "C_Decrypt", kek: kek)
            guard Int(outLength) <= out.count else { throw .unwrapFailed(kek) }
            length = Int(outLength)
            if length < out.count { SecretBytes.wipe(UnsafeMutableRawBufferPointer(rebasing: out[length...])) }
        }
        return scratch.withUnsafeBytes { SecretBytes(copying: UnsafeRawBufferPointer(rebasing: $0.prefix(length))) }
    }

    private func encryptLocked(_ dek: SecretBytes, key: CK_OBJECT_HANDLE, kek: KEKIdentifier) throws(KeyError) -> [UInt8] {
        let calls = module.functions.pointee
        if oaepOnToken {
            let initRV = Self.withOAEP { mechanism in calls.C_EncryptInit!(session, mechanism, key) }
            if Self.refusesMechanism(initRV) {
                oaepOnToken = false
            } else {
                try checkKeyUse(initRV, "C_EncryptInit", kek: kek)
                return try dek.withUnsafeBytes { (plain) throws(KeyError) in try finishEncrypt(plain, kek: kek) }
            }
        }
        let k = try modulusBytes(key, kek: kek)
        let encoded = try dek.withUnsafeBytes { (plain) throws(KeyError) in try PKCS11OAEP.encode(plain, modulusBytes: k) }
        guard var encoded else { throw .provider("\(description): a \(dek.count)-byte key does not fit RSA-OAEP under '\(kek)'") }
        defer { encoded.withUnsafeMutableBytes { SecretBytes.wipe($0) } }
        var mechanism = CK_MECHANISM(mechanism: CKM_RSA_X_509, pParameter: nil, ulParameterLen: 0)
        try checkKeyUse(calls.C_EncryptInit!(session, &mechanism, key), "C_EncryptInit (CKM_RSA_X_509)", kek: kek)
        let raw = try Self.withBytes(encoded) { (plain) throws(KeyError) in try finishEncrypt(plain, kek: kek) }
        // A ciphertext is always k bytes; raw RSA may have dropped leading zeros.
        guard raw.count <= k else { throw .provider("\(description): C_Encrypt under '\(kek)' returned \(raw.count) bytes for a \(k)-byte modulus") }
        return [UInt8](repeating: 0, count: k - raw.count) + raw
    }

    private func finishEncrypt(_ plain: UnsafeRawBufferPointer, kek: KEKIdentifier) throws(KeyError) -> [UInt8] {
        let calls = module.functions.pointee
        let input = UnsafeMutablePointer(mutating: plain.baseAddress?.assumingMemoryBound(to: UInt8.self))
        // 1024 bytes holds the ciphertext of any key up to RSA-8192.
        var out = [UInt8](repeating: 0, count: 1024)
        var length = CK_ULONG(out.count)
        let rv = calls.C_Encrypt!(session, input, CK_ULONG(plain.count), &out, &length)
        if rv == CKR_BUFFER_TOO_SMALL {
            var dummy: CK_ULONG = 0
            _ = calls.C_Encrypt!(session, input, CK_ULONG(plain.count), nil, &dummy)
        }
        try check(rv, "C_Encrypt under '\(kek)'")
        return Array(out.prefix(Int(length)))
    }

    private static func withBytes<R>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(KeyError) -> R) throws(KeyError) -> R {
        let result: Result<R, KeyError> = bytes.withUnsafeBytes { raw in
            do throws(KeyError) { return .success(try body(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Errors that mean "this ciphertext does not open under this key" become `unwrapFailed`;
    /// the rest say what the token refused.
    private func checkKeyUse(_ rv: CK_RV, _ operation: String, kek: KEKIdentifier) throws(KeyError) {
        switch rv {
        case CKR_OK:
            return
        case CKR_ENCRYPTED_DATA_INVALID, CKR_ENCRYPTED_DATA_LEN_RANGE, CKR_DATA_INVALID, CKR_DATA_LEN_RANGE:
            throw .unwrapFailed(kek)
        case CKR_MECHANISM_INVALID, CKR_MECHANISM_PARAM_INVALID:
            throw .provider("\(description) does not support RSA-OAEP with SHA-256 and MGF1-SHA-256 (\(operation): \(PKCS11Module.name(of: rv)))")
        case CKR_KEY_FUNCTION_NOT_PERMITTED, CKR_KEY_TYPE_INCONSISTENT:
            throw .provider("\(description): key '\(kek)' may not be used for \(operation == "C_EncryptInit" ? "encryption" : "decryption") (\(PKCS11Module.name(of: rv)))")
        default:
            try check(rv, "\(operation) with '\(kek)'")
        }
    }

    // MARK: Helpers

    static func parseLabel(_ label: String) -> KEKIdentifier? {
        let parts = label.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        return try? KEKIdentifier(name: String(parts[0]), version: String(parts[1]))
    }

    private static func significantBits(_ bigEndian: [UInt8]) -> Int {
        guard let first = bigEndian.firstIndex(where: { $0 != 0 }) else { return 0 }
        return (bigEndian.count - first) * 8 - bigEndian[first].leadingZeroBitCount
    }

    /// Compares two secrets without an early exit.
    static func equal(_ a: SecretBytes, _ b: SecretBytes) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBytes { x in
            b.withUnsafeBytes { y in
                var difference: UInt8 = 0
                for index in 0 ..< x.count { difference |= x[index] ^ y[index] }
                return difference == 0
            }
        }
    }

    private static func readPIN(_ path: String, for token: String) throws(KeyError) -> [UInt8] {
        var bytes: [UInt8]
        do {
            bytes = try Files.read(path, limit: maxPINFileSize)
        } catch {
            if error.isPermissionDenied { throw .permissionDenied(path: path) }
            throw .provider("cannot read the PIN file \(path) for \(token): \(error)")
        }
        var length = bytes.count
        while length > 0, bytes[length - 1] == 0x0A || bytes[length - 1] == 0x0D { length -= 1 }
        let pin = Array(bytes.prefix(length))
        bytes.withUnsafeMutableBytes { SecretBytes.wipe($0) }
        guard !pin.isEmpty else { throw .provider("the PIN file \(path) for \(token) is empty") }
        return pin
    }

    private static func open(_ module: PKCS11Module, tokenLabel: String, pin: [UInt8], pinFile: String,
                             where token: String) throws(KeyError) -> (slot: CK_SLOT_ID, session: CK_SESSION_HANDLE, readWrite: Bool) {
        let calls = module.functions.pointee
        func fail(_ operation: String, _ rv: CK_RV) -> KeyError {
            .provider("\(token): \(operation) failed: \(PKCS11Module.name(of: rv))")
        }
        var count: CK_ULONG = 0
        var rv = calls.C_GetSlotList!(CK_BBOOL(CK_TRUE), nil, &count)
        guard rv == CKR_OK else { throw fail("C_GetSlotList", rv) }
        var slots = [CK_SLOT_ID](repeating: 0, count: Int(count))
        rv = calls.C_GetSlotList!(CK_BBOOL(CK_TRUE), &slots, &count)
        guard rv == CKR_OK else { throw fail("C_GetSlotList", rv) }
        var matches: [CK_SLOT_ID] = []
        var seen: [String] = []
        for slot in slots.prefix(Int(count)) {
            var info = CK_TOKEN_INFO()
            guard calls.C_GetTokenInfo!(slot, &info) == CKR_OK else { continue }
            let label = withUnsafeBytes(of: info.label) { raw in
                var bytes = Array(raw)
                while let last = bytes.last, last == 0x20 || last == 0 { bytes.removeLast() }
                return String(decoding: bytes, as: UTF8.self)
            }
            if info.flags & CKF_TOKEN_INITIALIZED == 0 { continue }
            seen.append("'\(label)'")
            if label == tokenLabel { matches.append(slot) }
        }
        guard let slot = matches.first else {
            let have = seen.isEmpty ? "no initialised tokens" : "tokens \(seen.joined(separator: ", "))"
            throw .provider("\(token): no such token (the module has \(have))")
        }
        guard matches.count == 1 else { throw .provider("\(token): \(matches.count) tokens have this label; labels must be unique") }

        var session = CK_SESSION_HANDLE(CK_INVALID_HANDLE)
        var readWrite = true
        rv = calls.C_OpenSession!(slot, CK_FLAGS(CKF_SERIAL_SESSION | CKF_RW_SESSION), nil, nil, &session)
        if rv == CKR_TOKEN_WRITE_PROTECTED {
            readWrite = false
            rv = calls.C_OpenSession!(slot, CK_FLAGS(CKF_SERIAL_SESSION), nil, nil, &session)
        }
        guard rv == CKR_OK else { throw fail("C_OpenSession", rv) }
        var pinCopy = pin
        defer { pinCopy.withUnsafeMutableBytes { SecretBytes.wipe($0) } }
        rv = calls.C_Login!(session, CK_USER_TYPE(CKU_USER), &pinCopy, CK_ULONG(pinCopy.count))
        switch rv {
        case CKR_OK, CKR_USER_ALREADY_LOGGED_IN:
            module.logins[slot, default: 0] += 1
            return (slot, session, readWrite)
        default:
            _ = calls.C_CloseSession!(session)
            switch rv {
            case CKR_PIN_INCORRECT:
                throw .provider("\(token): the PIN in \(pinFile) is incorrect (CKR_PIN_INCORRECT); repeated attempts may lock the token")
            case CKR_PIN_LOCKED:
                throw .provider("\(token): the user PIN is locked (CKR_PIN_LOCKED); the security officer must unlock it")
            case CKR_PIN_LEN_RANGE, CKR_PIN_INVALID:
                throw .provider("\(token): the PIN in \(pinFile) is not a valid PIN for this token (\(PKCS11Module.name(of: rv)))")
            case CKR_USER_PIN_NOT_INITIALIZED:
                throw .provider("\(token): the token's user PIN is not initialised")
            default:
                throw fail("C_Login", rv)
            }
        }
    }
}
