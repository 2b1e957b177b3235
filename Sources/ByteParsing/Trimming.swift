/// Foundation's `trimmingCharacters(in:)` without Foundation, which would link ICU.
extension String {
    /// The text without leading and trailing scalars for which `isTrimmed` is true.
    public func trimming(where isTrimmed: (Unicode.Scalar) -> Bool) -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !isTrimmed($0) }),
              let last = scalars.lastIndex(where: { !isTrimmed($0) }) else { return "" }
        return String(scalars[first ... last])
    }

    /// Without leading and trailing whitespace and line breaks (Unicode White_Space, the
    /// scalars of Foundation's `.whitespacesAndNewlines`).
    public func trimmingWhitespace() -> String {
        trimming { $0.properties.isWhitespace }
    }
}
