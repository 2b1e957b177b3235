/// Overflow-checked arithmetic on values that came from untrusted bytes.
/// Swift traps on overflow; these throw instead so a hostile value fails one request.
public enum Checked {
    public static func add<T: FixedWidthInteger>(_ lhs: T, _ rhs: T, _ what: String) throws(ByteParsingError) -> T {
        let (sum, overflow) = lhs.addingReportingOverflow(rhs)
        if overflow { throw .overflow(what: what) }
        return sum
    }

    public static func multiply<T: FixedWidthInteger>(_ lhs: T, _ rhs: T, _ what: String) throws(ByteParsingError) -> T {
        let (product, overflow) = lhs.multipliedReportingOverflow(by: rhs)
        if overflow { throw .overflow(what: what) }
        return product
    }

    /// Converts between integer types, throwing when the value does not fit.
    public static func convert<T: FixedWidthInteger, S: BinaryInteger>(_ value: S, to _: T.Type = T.self, _ what: String) throws(ByteParsingError) -> T {
        guard let converted = T(exactly: value) else { throw .overflow(what: what) }
        return converted
    }
}
