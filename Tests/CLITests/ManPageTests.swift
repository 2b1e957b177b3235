import Foundation
import TestSupport
import Testing

/// The man pages against what they describe, both ways, so that a renamed, added or removed
/// command or option fails here until the page says so too:
/// - man/rpfs.1 against `rpfs --help` and every command's `--help`: each command is a
///   `.SS "rpfs COMMAND"` under COMMANDS, and its options are the `.TP`/`.TQ` tags of that
///   section; a tag naming the "store option", "key options" or "file access options" stands
///   for the options of that subsection of COMMON OPTIONS. The options every command takes
///   (`--version`, `-h`, `--help`) are the tags under OPTIONS. Each positional argument of a
///   command's --help appears, in capitals, in the synopsis that opens its section.
/// - man/mount.rpfs.8 against mount-helpers/mount.rpfs: the arguments its `case "$1"` accepts
///   are the tags under OPTIONS, the `-o` options its option loop accepts the tags under
///   MOUNT OPTIONS, and each option it turns into an `rpfs mount` option exists there.
/// - Both pages render without a groff warning.
@Suite struct ManPageTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    /// `rpfs ARGUMENTS --help`, parsed.
    static func help(_ command: [String]) throws -> Help {
        let result = try Shell.run(rpfsBinary, command + ["--help"], environment: ["PATH": "/usr/bin:/bin"])
        #expect(result.status == 0, "rpfs \(command.joined(separator: " ")) --help: \(result.stderr)")
        return Help(result.stdout)
    }

    /// Every command below the root, as its words (["keys", "new"]), with its help.
    static func commands() throws -> (root: Help, commands: [(path: [String], help: Help)]) {
        let root = try help([])
        var found: [(path: [String], help: Help)] = []
        var pending = root.subcommands.map { [$0] }
        while !pending.isEmpty {
            let path = pending.removeFirst()
            let help = try help(path)
            found.append((path, help))
            pending += help.subcommands.map { path + [$0] }
        }
        return (root, found)
    }

    @Test func everyCommandAndOptionOfTheHelpIsInRpfs1AndNothingElse() throws {
        let page = ManPage(try Self.text("man/rpfs.1"))
        let (root, commands) = try Self.commands()
        #expect(commands.count >= 12, "\(commands.map(\.path))")

        // The options every command takes.
        let common = Set(page.tags(in: "OPTIONS").flatMap(ManPage.options))
        expectSame(common, root.options, "OPTIONS", "in rpfs --help")

        // The option groups several commands share.
        let groups = Dictionary(uniqueKeysWithValues: page.subsections(of: "COMMON OPTIONS").map { section in
            (section.title.lowercased(), Set(section.tags.flatMap(ManPage.options)))
        })
        #expect(Set(groups.keys) == ["store option", "key options", "file access options"], "\(groups.keys.sorted())")
        #expect(groups.values.allSatisfy { !$0.isEmpty })

        // One section per command, and no section for a command that does not exist.
        let sections = Dictionary(uniqueKeysWithValues: page.subsections(of: "COMMANDS").map { ($0.title, $0) })
        let names = Set(commands.map { "rpfs " + $0.path.joined(separator: " ") })
        expectSame(Set(sections.keys), names, "COMMANDS", "a command")
        let synopsis = page.plainText(of: "SYNOPSIS")
        for name in names.sorted() {
            #expect(synopsis.contains(name), "SYNOPSIS lacks \(name)")
        }

        for (path, help) in commands {
            let name = "rpfs " + path.joined(separator: " ")
            #expect(help.options.isSuperset(of: root.options), "\(name) --help lacks \(root.options.subtracting(help.options).sorted())")
            guard let section = sections[name] else { continue }
            var documented = Set<String>()
            for tag in section.tags {
                documented.formUnion(ManPage.options(tag))
                for (group, options) in groups where tag.lowercased().contains(group) {
                    documented.formUnion(options)
                }
            }
            let expected = help.options.subtracting(root.options)
            expectSame(documented, expected, name, "in \(name) --help")
            // Its arguments, in capitals as man pages write them, in the synopsis that opens the section.
            let synopsis = section.lines.prefix { !$0.hasPrefix(".PP") && !$0.hasPrefix(".TP") }.map(ManPage.plain).joined(separator: " ")
            for argument in help.arguments {
                #expect(synopsis.contains(argument.uppercased()), "\(name): the synopsis lacks \(argument.uppercased()): \(synopsis)")
            }
        }
    }

    /// Every $RPFS_ variable a --help names is under ENVIRONMENT.
    @Test func everyVariableTheHelpNamesIsUnderEnvironment() throws {
        let page = ManPage(try Self.text("man/rpfs.1"))
        let (root, commands) = try Self.commands()
        let texts = [root.text] + commands.map(\.help.text)
        let variables = Set(texts.flatMap { text in
            text.matches(of: /\$(RPFS_[A-Z_]+)/).map { String($0.output.1) }
        })
        #expect(variables.isSuperset(of: ["RPFS_STORE", "RPFS_KEYRING"]), "\(variables)")
        let documented = Set(page.tags(in: "ENVIRONMENT"))
        #expect(variables.isSubset(of: documented), "ENVIRONMENT lacks \(variables.subtracting(documented).sorted())")
    }

    @Test func theMountHelpersArgumentsAndOptionsAreInMountRpfs8AndNothingElse() throws {
        let page = ManPage(try Self.text("man/mount.rpfs.8"))
        let helper = MountHelperScript(try Self.text("mount-helpers/mount.rpfs"))
        #expect(helper.arguments.count >= 5, "\(helper.arguments)")
        #expect(helper.options.count >= 30, "\(helper.options)")

        let arguments = Set(page.tags(in: "OPTIONS").flatMap(ManPage.options))
        expectSame(arguments, helper.arguments, "OPTIONS", "accepted by mount.rpfs")

        let options = Set(page.subsections(of: "MOUNT OPTIONS").flatMap(\.tags).flatMap(ManPage.mountOptions))
        expectSame(options, helper.options, "MOUNT OPTIONS", "accepted by mount.rpfs")

        // What the helper passes on, rpfs mount must take.
        let mount = try Self.help(["mount"])
        #expect(!helper.passedToRpfs.isEmpty)
        for option in helper.passedToRpfs.sorted() {
            #expect(mount.options.contains("--" + option.replacingOccurrences(of: "_", with: "-")), "mount.rpfs passes \(option) on, but rpfs mount has no such option")
        }
    }

    @Test(arguments: ["man/rpfs.1", "man/mount.rpfs.8"])
    func rendersWithoutWarnings(page: String) throws {
        let path = Self.root.appendingPathComponent(page).path
        let result = try Shell.run("groff", ["-man", "-Tutf8", "-ww", "-z", path])
        #expect(result.status == 0 && result.stderr.isEmpty, "groff -man -ww \(page): \(result.stderr)")
    }
}

/// The names a man page section documents are exactly the names the program has.
private func expectSame(_ documented: Set<String>, _ actual: Set<String>, _ section: String, _ source: String,
                        sourceLocation: SourceLocation = #_sourceLocation) {
    let missing = actual.subtracting(documented).sorted()
    let extra = documented.subtracting(actual).sorted()
    #expect(missing.isEmpty, "\(section): missing from the man page: \(missing)", sourceLocation: sourceLocation)
    #expect(extra.isEmpty, "\(section): named in the man page but not \(source): \(extra)", sourceLocation: sourceLocation)
}

/// What ArgumentParser's --help lists.
struct Help {
    let text: String
    /// Every flag and option, short and long: "-f", "--foreground", "--store".
    let options: Set<String>
    /// The commands under SUBCOMMANDS.
    let subcommands: [String]
    /// The positional arguments under ARGUMENTS, without their angle brackets: "POINT", "name".
    let arguments: [String]

    init(_ text: String) {
        self.text = text
        var heading = ""
        var options = Set<String>()
        var subcommands: [String] = []
        var arguments: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if let match = line.wholeMatch(of: /([A-Z][A-Z ]*):.*/) {
                heading = String(match.output.1)
                continue
            }
            switch heading {
            case "OPTIONS" where line.hasPrefix("  -"):
                // "  -f, --foreground   Stay ...", "  --store <DIR>   Store ...": the names come first.
                for word in line.split(separator: " ") {
                    if word.hasPrefix("<") { continue }
                    guard word.hasPrefix("-") else { break }
                    options.insert(String(word.trimmingCharacters(in: CharacterSet(charactersIn: ","))))
                }
            case "ARGUMENTS":
                if let match = line.prefixMatch(of: /\ \ <([^>]+)>/) {
                    arguments.append(String(match.output.1))
                }
            case "SUBCOMMANDS":
                if let match = line.prefixMatch(of: /\ \ ([a-z][a-z0-9-]*)(?:\ |$)/) {
                    subcommands.append(String(match.output.1))
                }
            default:
                break
            }
        }
        self.options = options
        self.subcommands = subcommands
        self.arguments = arguments
    }
}

/// A man page's roff source, cut into sections (.SH) and their subsections (.SS).
struct ManPage {
    struct Section {
        let title: String
        /// The .SH title this subsection is under; nil for a section.
        let parent: String?
        var lines: [String] = []

        /// The text of each `.TP` tag (the line after `.TP`) and `.TQ` tag, as it renders.
        var tags: [String] {
            var tags: [String] = []
            var next = false
            for line in lines {
                if next {
                    tags.append(ManPage.plain(line))
                    next = false
                } else if line.hasPrefix(".TP") || line.hasPrefix(".TQ") {
                    next = true
                }
            }
            return tags
        }
    }

    private(set) var sections: [Section] = []

    init(_ source: String) {
        var topic: String?
        for line in source.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix(".SH ") {
                let title = Self.plain(line)
                topic = title
                sections.append(Section(title: title, parent: nil))
            } else if line.hasPrefix(".SS ") {
                sections.append(Section(title: Self.plain(line), parent: topic))
            } else if !sections.isEmpty {
                sections[sections.count - 1].lines.append(line)
            }
        }
    }

    func subsections(of title: String) -> [Section] {
        sections.filter { $0.parent == title }
    }

    /// The tags of a section, without those of its subsections.
    func tags(in title: String) -> [String] {
        sections.first { $0.parent == nil && $0.title == title }?.tags ?? []
    }

    /// A section and its subsections as plain text, one roff line a line.
    func plainText(of title: String) -> String {
        sections.filter { $0.title == title || $0.parent == title }.flatMap(\.lines).map(Self.plain).joined(separator: "\n")
    }

    /// A roff line as it reads: a macro's arguments (an alternating macro's run together, as
    /// they render), escapes resolved or dropped.
    static func plain(_ line: String) -> String {
        var text = line
        var joiner = " "
        if text.hasPrefix(".") {
            let macro = text.prefix { !$0.isWhitespace }
            text = String(text.dropFirst(macro.count))
            if ["BI", "BR", "IB", "IR", "RB", "RI"].contains(macro.dropFirst()) { joiner = "" }
            text = arguments(text).joined(separator: joiner)
        }
        for (escape, replacement) in [("\\(dq", "\""), ("\\(aq", "'"), ("\\-", "-"), ("\\e", "\\"), ("\\&", ""), ("\\|", ""), ("\\c", "")] {
            text = text.replacingOccurrences(of: escape, with: replacement)
        }
        return text.replacing(/\\f[BIRP]/, with: "")
    }

    /// A macro line's arguments: words, or double-quoted strings that may hold spaces.
    private static func arguments(_ text: String) -> [String] {
        var arguments: [String] = []
        var current = ""
        var quoted = false
        var started = false
        for character in text {
            if character == "\"" {
                quoted.toggle()
                started = true
            } else if character == " " && !quoted {
                if started { arguments.append(current) }
                current = ""
                started = false
            } else {
                current.append(character)
                started = true
            }
        }
        if started { arguments.append(current) }
        return arguments
    }

    /// The command-line options a tag names: "-f, --foreground" gives -f and --foreground.
    static func options(_ tag: String) -> [String] {
        tag.matches(of: /(?:^|[^A-Za-z0-9_-])(--?[A-Za-z0-9][A-Za-z0-9-]*)/).map { String($0.output.1) }
    }

    /// The mount options a tag names: "store=DIR" gives store, "x-*, comment=*" x-* and comment.
    static func mountOptions(_ tag: String) -> [String] {
        tag.split(whereSeparator: { $0 == "," || $0 == " " }).compactMap { word in
            let name = String(word.prefix { $0 != "=" })
            return name.wholeMatch(of: /[A-Za-z_][A-Za-z0-9_*-]*/) == nil ? nil : name
        }
    }
}

/// What mount-helpers/mount.rpfs accepts, read from its `case` patterns.
struct MountHelperScript {
    /// Its own arguments: -s, -f, ...
    private(set) var arguments = Set<String>()
    /// The -o options, as its patterns name them: store, nosuid, x-*, comment ...
    private(set) var options = Set<String>()
    /// The -o options it turns into `rpfs mount --NAME`.
    private(set) var passedToRpfs = Set<String>()

    init(_ script: String) {
        enum Block { case none, arguments, options }
        var block = Block.none
        var current: [String] = []
        for line in script.split(separator: "\n").map(String.init) {
            if line.contains("case \"$1\" in") { block = .arguments; continue }
            if line.hasPrefix("for option in") { block = .options; continue }
            if line == "done" { block = .none; continue }
            switch block {
            case .arguments:
                if let match = line.prefixMatch(of: /\s*(-[A-Za-z])\)/) { arguments.insert(String(match.output.1)) }
            case .options:
                if let match = line.prefixMatch(of: /\s*([A-Za-z0-9_|*-]+)\)/) {
                    current = match.output.1.split(separator: "|").map(String.init).filter { $0 != "*" }
                    options.formUnion(current)
                }
                if line.contains("arguments+=(\"--${key//_/-}\"") {
                    passedToRpfs.formUnion(current)
                }
            case .none:
                break
            }
        }
    }
}
