// swift-tools-version: 6.0
// libFuzzer targets for rpfs's parsers, in their own package so that the main build and CI
// build time are unaffected. Build and run with `Fuzz/run` (see docs/SECURITY.md), which
// instruments every module, the main package's included, through -Xswiftc flags.
import PackageDescription

let package = Package(
    name: "rpfs-fuzz",
    dependencies: [
        .package(name: "rpfs", path: ".."),
    ],
    targets: [
        // Declares libFuzzer's LLVMFuzzerRunDriver: the driver links libFuzzer without its
        // main(), since SwiftPM already maps main() to the executable's top-level code.
        .target(name: "CFuzzer"),
        .target(name: "FuzzTargets", dependencies: [
            .product(name: "RPFSReaders", package: "rpfs"),
            .product(name: "RPFSPointFormat", package: "rpfs"),
        ]),
        .executableTarget(name: "rpfs-fuzz", dependencies: ["CFuzzer", "FuzzTargets"]),
    ]
)
