extension PKCS11Provider {
    /// How a KEK's private key is protected on the token, as the token reports it.
    public struct KeyProtection: Sendable, Equatable {
        public let bits: Int
        /// CKA_SENSITIVE: the token will not reveal the private key in plaintext.
        public let sensitive: Bool
        /// CKA_EXTRACTABLE: the key may be exported wrapped under another key.
        public let extractable: Bool
        /// CKA_NEVER_EXTRACTABLE: it never was exportable (a key made on the token).
        public let neverExtractable: Bool
        /// Whether the token actually answered a request for the private exponent.
        public let secretReadable: Bool
    }
}
