// swift-tools-version: 6.0
// libFuzzer targets for rpfs's parsers, in their own package so that the main build and CI
// build time are unaffected. Build and run with `Fuzz/run` (see docs/SECURITY.md).
//
// The main package exports only the `rpfs` executable, and a package can use another's
// targets only through library products; so this package compiles the parser modules again
// from the main sources (`rpfs-sources` links to ../Sources), instrumented for fuzzing.
// The dependency lists below must follow the main Package.swift.
import PackageDescription

func main(_ name: String, _ dependencies: [Target.Dependency] = []) -> Target {
    .target(name: name, dependencies: dependencies, path: "rpfs-sources/\(name)")
}

func system(_ name: String, pkgConfig: String? = nil) -> Target {
    .systemLibrary(name: name, path: "rpfs-sources/\(name)", pkgConfig: pkgConfig)
}

let package = Package(
    name: "rpfs-fuzz",
    targets: [
        system("COpenSSL", pkgConfig: "openssl"),
        system("CExt2fs", pkgConfig: "ext2fs"),
        system("CPKCS11", pkgConfig: "p11-kit-1"),
        system("CLinux"),
        main("ByteParsing"),
        main("POSIXFiles", ["CLinux"]),
        main("Cryptography", ["COpenSSL"]),
        main("KeyManagement", ["ByteParsing", "Cryptography", "POSIXFiles", "CPKCS11"]),
        main("RecoveryPoint", ["ByteParsing", "Cryptography", "KeyManagement", "POSIXFiles"]),
        main("VirtualDisk", ["ByteParsing", "POSIXFiles", "RecoveryPoint"]),
        main("PartitionTable", ["ByteParsing", "VirtualDisk"]),
        main("VolumeModel", ["VirtualDisk"]),
        main("Ext4Volume", ["CExt2fs", "ByteParsing", "VirtualDisk", "VolumeModel"]),
        main("NTFSVolume", ["ByteParsing", "VirtualDisk", "VolumeModel"]),

        // Declares libFuzzer's LLVMFuzzerRunDriver: the driver links libFuzzer without its
        // main(), since SwiftPM already maps main() to the executable's top-level code.
        .target(name: "CFuzzer"),
        .target(name: "FuzzTargets", dependencies: [
            "ByteParsing", "Cryptography", "KeyManagement", "RecoveryPoint", "VirtualDisk",
            "PartitionTable", "VolumeModel", "Ext4Volume", "NTFSVolume",
        ]),
        .executableTarget(name: "rpfs-fuzz", dependencies: ["CFuzzer", "FuzzTargets"]),
    ]
)
