/// Member names as zip extractors on every system read them. Zip's separator is '/', but
/// Windows tools also split at '\' and drop trailing dots and spaces, so a Linux name such as
/// `..\..\x` or `.. ` would climb out of the folder there: such names are changed (a '\'
/// becomes '_', a name of only dots and spaces gets a leading '_') and the report says so.
enum ZipNames {
    static func portable(_ name: [UInt8]) -> (name: [UInt8], changed: Bool) {
        var changed = false
        let components = name.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map { component -> [UInt8] in
            var bytes = component.map { byte -> UInt8 in
                guard byte == UInt8(ascii: "\\") else { return byte }
                changed = true
                return UInt8(ascii: "_")
            }
            if bytes.allSatisfy({ $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: " ") }) {
                bytes.insert(UInt8(ascii: "_"), at: 0)
                changed = true
            }
            return bytes
        }
        return (Array(components.joined(separator: [UInt8(ascii: "/")])), changed)
    }

    static func isUTF8(_ bytes: [UInt8]) -> Bool {
        String(validating: bytes, as: UTF8.self) != nil
    }
}
