@testable import FileRestore
import Testing
import VolumeModel

@Suite struct PatternTests {
    private func name(_ text: String) throws -> FileName { try FileName(validating: text) }

    private func matches(_ pattern: String, _ subject: String, caseInsensitive: Bool = false) throws -> Bool {
        try ComponentPattern(pattern).matches(name(subject), caseInsensitive: caseInsensitive)
    }

    @Test(arguments: [
        ("*.conf", "nginx.conf", true), ("*.conf", "nginx.conf.bak", false), ("*", "", false),
        ("?", "é", true), ("??", "é", false), ("a*b*c", "aXbYbZc", true), ("a*b*c", "aXbYbZ", false),
        ("[abc]x", "bx", true), ("[!abc]x", "bx", false), ("[a-c]", "d", false), ("[]]", "]", true),
        ("\\*", "*", true), ("\\*", "x", false), ("*.[ch]", "main.h", true), ("***x", "x", true),
        ("report-[0-9][0-9].txt", "report-07.txt", true), ("report-[0-9][0-9].txt", "report-7.txt", false),
    ])
    func componentPatterns(pattern: String, subject: String, expected: Bool) throws {
        guard !subject.isEmpty else {
            #expect(throws: VolumeError.self) { try name(subject) }
            return
        }
        #expect(try matches(pattern, subject) == expected, "\(pattern) vs \(subject)")
    }

    @Test func caseRulesFollowTheVolume() throws {
        #expect(try !matches("*.DOCX", "Budget.docx"))
        #expect(try matches("*.DOCX", "Budget.docx", caseInsensitive: true))
        #expect(try matches("users", "Users", caseInsensitive: true))
        #expect(try matches("[a-z]*", "Quarterly", caseInsensitive: true))
        #expect(try matches("straße", "STRASSE", caseInsensitive: true) == false, "NTFS folds one character to one")
        #expect(try matches("ÉTÉ", "été", caseInsensitive: true))
    }

    @Test func namesThatAreNotUTF8MatchOnlyWildcards() throws {
        let latin1 = try FileName(validating: [0x63, 0x61, 0x66, 0xE9]) // "caf\xe9"
        #expect(try ComponentPattern("caf?").matches(latin1, caseInsensitive: false))
        #expect(try ComponentPattern("caf*").matches(latin1, caseInsensitive: true))
        #expect(try !ComponentPattern("café").matches(latin1, caseInsensitive: false))
    }

    @Test func badPatternsAreRefused() {
        #expect(throws: RestoreError.self) { try ComponentPattern("[abc") }
        #expect(throws: RestoreError.self) { try ComponentPattern("[z-a]") }
        #expect(throws: RestoreError.self) { try ComponentPattern("x\\") }
        #expect(throws: RestoreError.self) { try PathPattern("disk0/part1") }
        #expect(throws: RestoreError.self) { try PathPattern("/disk0/../etc") }
    }

    @Test func pathPatternsSpanComponents() throws {
        func path(_ text: String) throws -> [FileName] { try text.split(separator: "/").map { try name(String($0)) } }
        let conf = try PathPattern("/disk0/part1/etc/**/*.conf")
        #expect(try conf.matches(path("/disk0/part1/etc/nginx.conf"), caseInsensitive: false))
        #expect(try conf.matches(path("/disk0/part1/etc/nginx/sites/a.conf"), caseInsensitive: false))
        #expect(try !conf.matches(path("/disk0/part1/var/a.conf"), caseInsensitive: false))
        #expect(conf.literalPrefixCount == 3)
        let documents = try PathPattern("/disk1/part2/Users/*/Documents/**")
        #expect(try documents.matches(path("/disk1/part2/Users/alice/Documents"), caseInsensitive: false))
        #expect(try documents.matches(path("/disk1/part2/Users/alice/Documents/a/b.txt"), caseInsensitive: false))
        #expect(try !documents.matches(path("/disk1/part2/Users/alice/Desktop/b.txt"), caseInsensitive: false))
        #expect(try documents.matches(path("/disk1/part2/users/ALICE/documents/x"), caseInsensitive: true))
        #expect(try PathPattern("/**").matches([], caseInsensitive: false))
        // Many stars against a long name finish at once (no exponential backtracking).
        let stars = try ComponentPattern(String(repeating: "*a", count: 40) + "b")
        #expect(try !stars.matches(name(String(repeating: "a", count: 250)), caseInsensitive: false))
    }
}
