@testable import FileRestore
import Testing
import VolumeModel

@Suite struct PlanTests {
    private func parse(_ text: String) throws -> RestorePlan { try RestorePlan(parsing: Array(text.utf8)) }

    @Test func textPlansTakeCommentsBlanksAndExcludes() throws {
        let plan = try parse("""
            # nightly
            /disk0/part1/etc/nginx/**

              /disk0/part1/srv/www/**
            !*.log
            !/disk0/part1/srv/www/cache/**
            """)
        #expect(plan.entries.map(\.pattern.description) == ["/disk0/part1/etc/nginx/**", "/disk0/part1/srv/www/**"])
        #expect(plan.exclude.map(\.description) == ["*.log", "/disk0/part1/srv/www/cache/**"])
        guard case .name = plan.exclude[0], case .path = plan.exclude[1] else {
            Issue.record("a filter without '/' matches names, one with '/' whole paths")
            return
        }
    }

    @Test func jsonEntriesAreStringsOrObjects() throws {
        let plan = try parse("""
            {"version": 1, "entries": ["/disk0/volume/a", {"path": "/disk0/volume/b/*", "to": "./x//y/", "include": ["*.txt"]}],
             "exclude": ["*.tmp"]}
            """)
        #expect(plan.entries.count == 2)
        #expect(plan.entries[0].destination == nil)
        #expect(plan.entries[1].destination?.map(\.description) == ["x", "y"])
        #expect(plan.entries[1].include.map(\.description) == ["*.txt"])
        #expect(plan.exclude.map(\.description) == ["*.tmp"])
    }

    @Test func filtersMatchNamesOrWholePaths() throws {
        let path = try ["disk0", "part1", "var", "cache", "a.tmp"].map { try FileName(validating: $0) }
        #expect(try NameFilter("*.tmp").matches(path, caseInsensitive: false))
        #expect(try !NameFilter("*.TMP").matches(path, caseInsensitive: false))
        #expect(try NameFilter("*.TMP").matches(path, caseInsensitive: true))
        #expect(try NameFilter("/disk0/part1/var/**").matches(path, caseInsensitive: false))
        #expect(try !NameFilter("/disk0/part1/etc/**").matches(path, caseInsensitive: false))
    }

    @Test(arguments: [
        "", "# only a comment\n", "{\"version\": 1}", "{\"version\": \"1\", \"entries\": [\"/a\"]}", "[\"/a\"]",
        "{\"version\": 1, \"entries\": [{\"to\": \"x\"}]}", "{\"version\": 1, \"entries\": [{\"path\": \"/a\", \"to\": 3}]}",
        "{\"version\": 1, \"entries\": [{\"path\": \"/a\", \"include\": \"*.txt\"}]}", "{\"version\": 1, \"entries\": [\"/a\"], \"extra\": 1}",
        "{\"version\": 1, \"entries\": [{\"path\": \"/a\", \"to\": \"a/../../b\"}]}",
    ])
    func malformedPlansAreRefused(text: String) {
        #expect(throws: RestoreError.self) { try parse(text) }
    }

    @Test func plansThatAreNotTextOrTooLargeAreRefused() {
        #expect(throws: RestoreError.self) { try RestorePlan(parsing: [0x2F, 0xFF, 0xFE]) }
        #expect(throws: RestoreError.self) { try RestorePlan(parsing: [UInt8](repeating: 0x20, count: RestorePlan.maxBytes + 1)) }
    }
}
