import CPKCS11
import Cryptography

/// One attribute of a PKCS#11 template.
enum Attribute {
    case bool(CK_ATTRIBUTE_TYPE, Bool)
    case ulong(CK_ATTRIBUTE_TYPE, CK_ULONG)
    case bytes(CK_ATTRIBUTE_TYPE, [UInt8])

    static func text(_ type: CK_ATTRIBUTE_TYPE, _ value: String) -> Attribute { .bytes(type, Array(value.utf8)) }

    var type: CK_ATTRIBUTE_TYPE {
        switch self {
        case let .bool(type, _), let .ulong(type, _), let .bytes(type, _): type
        }
    }

    var encoded: [UInt8] {
        switch self {
        case let .bool(_, value): [value ? UInt8(CK_TRUE) : UInt8(CK_FALSE)]
        case let .ulong(_, value): withUnsafeBytes(of: value) { Array($0) }
        case let .bytes(_, value): value
        }
    }

    /// Calls `body` with a C template whose values stay valid for the duration of the call.
    static func withTemplate<R>(_ template: [Attribute], _ body: (UnsafeMutablePointer<CK_ATTRIBUTE>, CK_ULONG) -> R) -> R {
        let values = template.map(\.encoded)
        let total = values.reduce(0) { $0 + $1.count }
        let storage = UnsafeMutableRawPointer.allocate(byteCount: max(total, 1), alignment: 16)
        defer {
            SecretBytes.wipe(UnsafeMutableRawBufferPointer(start: storage, count: max(total, 1)))
            storage.deallocate()
        }
        let attributes = UnsafeMutablePointer<CK_ATTRIBUTE>.allocate(capacity: max(template.count, 1))
        defer { attributes.deallocate() }
        var offset = 0
        for (index, value) in values.enumerated() {
            let start = storage + offset
            value.withUnsafeBytes { start.copyMemory(from: $0.baseAddress ?? UnsafeRawPointer(start), byteCount: $0.count) }
            (attributes + index).initialize(to: CK_ATTRIBUTE(type: template[index].type, pValue: value.isEmpty ? nil : start,
                                                             ulValueLen: CK_ULONG(value.count)))
            offset += value.count
        }
        return body(attributes, CK_ULONG(template.count))
    }
}
