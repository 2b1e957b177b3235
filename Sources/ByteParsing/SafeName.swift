/// Identifiers that become file names or path components (KEK names and versions, disk
/// names): 1-64 of [A-Za-z0-9._-], not starting with '.', so never '.', '..', '/' or NUL.
public enum SafeName {
    public static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1 ... 64).contains(bytes.count), bytes[0] != UInt8(ascii: ".") else { return false }
        return bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a") ... UInt8(ascii: "z"), UInt8(ascii: "A") ... UInt8(ascii: "Z"),
                 UInt8(ascii: "0") ... UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                true
            default:
                false
            }
        }
    }
}
