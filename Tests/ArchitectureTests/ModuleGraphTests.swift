import Foundation
import Testing

/// The module graph as Package.swift declares it, read from its text: each target's name and
/// the targets (not products) it depends on.
struct ModuleGraph {
    let dependencies: [String: Set<String>]
    /// Targets that live under Tests/ (shared test code), which the architecture page leaves out.
    let testSupport: Set<String>

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func load() throws -> ModuleGraph {
        let text = try String(contentsOf: repository.appendingPathComponent("Package.swift"), encoding: .utf8)
        var dependencies: [String: Set<String>] = [:]
        var testSupport = Set<String>()
        for kind in [".target(", ".executableTarget(", ".systemLibrary("] {
            var rest = text[...]
            while let start = rest.range(of: kind) {
                let call = Self.balanced(rest[start.lowerBound...])
                rest = rest[start.upperBound...]
                guard let name = Self.quoted(after: "name: ", in: call) else { continue }
                if call.contains("path: \"Tests/") { testSupport.insert(name) }
                var names = Set<String>()
                if let list = call.range(of: "dependencies: [") {
                    let array = Self.balanced(call[list.upperBound...].dropFirst(0), open: "[", close: "]", alreadyOpen: true)
                    // Quoted names that are not inside a .product(...): products are other packages.
                    let withoutProducts = array.replacingOccurrences(of: #"\.product\([^)]*\)"#, with: "", options: .regularExpression)
                    names = Set(withoutProducts.matches(of: #/"([A-Za-z0-9_-]+)"/#).map { String($0.1) })
                }
                dependencies[name] = names
            }
        }
        return ModuleGraph(dependencies: dependencies, testSupport: testSupport)
    }

    /// Every module `name` reaches through its dependencies, itself excluded.
    func reachable(from name: String) -> Set<String> {
        var seen = Set<String>()
        var queue = Array(dependencies[name] ?? [])
        while let next = queue.popLast() {
            guard seen.insert(next).inserted else { continue }
            queue += dependencies[next] ?? []
        }
        return seen
    }

    /// The text from the start of `text` to the bracket closing the first one opened.
    private static func balanced(_ text: Substring, open: Character = "(", close: Character = ")", alreadyOpen: Bool = false) -> String {
        var depth = alreadyOpen ? 1 : 0
        var end = text.startIndex
        for index in text.indices {
            end = index
            if text[index] == open { depth += 1 }
            if text[index] == close {
                depth -= 1
                if depth == 0 { break }
            }
        }
        return String(text[text.startIndex ... end])
    }

    private static func quoted(after prefix: String, in text: String) -> String? {
        guard let start = text.range(of: prefix + "\"") else { return nil }
        return text[start.upperBound...].split(separator: "\"", maxSplits: 1).first.map(String.init)
    }
}

@Suite struct ModuleGraphTests {
    /// Readers and volume layers see block devices only: no keys, chunks, stores or crypto.
    @Test func readersNeverReachThePointFormatOrCryptography() throws {
        let graph = try ModuleGraph.load()
        let forbidden: Set = ["RecoveryPoint", "PointDisk", "KeyManagement", "Cryptography", "COpenSSL", "CPKCS11"]
        for reader in ["BlockDevices", "PartitionTable", "VolumeModel", "Ext4Volume", "NTFSVolume"] {
            #expect(graph.dependencies[reader] != nil, "\(reader) is not in Package.swift")
            let reached = graph.reachable(from: reader)
            #expect(reached.isDisjoint(with: forbidden), "\(reader) reaches \(reached.intersection(forbidden).sorted())")
        }
    }

    @Test func theGraphHasNoCycle() throws {
        let graph = try ModuleGraph.load()
        for name in graph.dependencies.keys {
            #expect(!graph.reachable(from: name).contains(name), "\(name) depends on itself")
        }
    }

    /// docs/ARCHITECTURE.md's module table names, for every target, exactly the targets it
    /// depends on (the "depends on" column), so the page cannot drift from Package.swift.
    @Test func theArchitecturePageListsEachModulesDependencies() throws {
        let graph = try ModuleGraph.load()
        let page = try String(contentsOf: ModuleGraph.repository.appendingPathComponent("docs/ARCHITECTURE.md"), encoding: .utf8)
        let section = try #require(page.range(of: "\n## Modules"))
        let table = page[section.upperBound...].prefix { _ in true }.components(separatedBy: "\n## ").first ?? ""
        var documented: [String: Set<String>] = [:]
        for line in table.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 5 else { continue }
            let name = cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            let column = cells[3]
            documented[name] = column.hasPrefix("—") ? [] : Set(column.split(separator: ",").map {
                $0.split(separator: " ").first.map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: "`")) } ?? ""
            })
        }
        let modules = graph.dependencies.keys.filter { !graph.testSupport.contains($0) }
        for name in modules.sorted() {
            #expect(documented[name] == graph.dependencies[name], "\(name): page says \(documented[name]?.sorted() ?? []), Package.swift \(graph.dependencies[name]?.sorted() ?? [])")
        }
        #expect(Set(documented.keys) == Set(modules), "rows without a target: \(Set(documented.keys).subtracting(modules).sorted())")
    }
}
