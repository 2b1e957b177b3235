// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "rpfs",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "rpfs", targets: ["rpfs"]),
        // The modules that read untrusted bytes, for the fuzz package (Fuzz/Package.swift).
        .library(name: "RPFSReaders", targets: [
            "ByteParsing", "Cryptography", "KeyManagement", "RecoveryPoint", "VirtualDisk",
            "PartitionTable", "VolumeModel", "Ext4Volume", "NTFSVolume",
        ]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System libraries: a module map and one shim header each, no logic.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CExt2fs", pkgConfig: "ext2fs", providers: [.apt(["libext2fs-dev", "comerr-dev"])]),
        // Only p11-kit's Cryptoki header: modules are dlopen'ed, so nothing links libp11-kit
        // (and its libffi), two fewer libraries to load at every start.
        .systemLibrary(name: "CPKCS11", providers: [.apt(["libp11-kit-dev"])]),
        .systemLibrary(name: "CFuse3", pkgConfig: "fuse3", providers: [.apt(["libfuse3-dev"])]),

        .target(name: "ByteParsing"),
        .systemLibrary(name: "CLinux"),
        .target(name: "POSIXFiles", dependencies: ["CLinux"]),
        .target(name: "Cryptography", dependencies: ["COpenSSL"]),
        .target(name: "KeyManagement", dependencies: ["ByteParsing", "Cryptography", "POSIXFiles", "CPKCS11"]),
        .target(name: "RecoveryPoint", dependencies: ["ByteParsing", "Cryptography", "KeyManagement", "POSIXFiles"]),
        .target(name: "VirtualDisk", dependencies: ["ByteParsing", "POSIXFiles", "RecoveryPoint"]),
        .target(name: "PartitionTable", dependencies: ["ByteParsing", "VirtualDisk"]),
        .target(name: "VolumeModel", dependencies: ["VirtualDisk"]),
        .target(name: "Ext4Volume", dependencies: ["CExt2fs", "ByteParsing", "VirtualDisk", "VolumeModel"]),
        .target(name: "NTFSVolume", dependencies: ["ByteParsing", "VirtualDisk", "VolumeModel"]),
        .target(name: "PointNamespace", dependencies: ["RecoveryPoint", "KeyManagement", "VirtualDisk", "PartitionTable", "VolumeModel"]),
        .target(name: "FileRestore", dependencies: ["ByteParsing", "PointNamespace", "RecoveryPoint", "VolumeModel", "POSIXFiles", "Cryptography"]),
        .target(name: "FuseFrontend", dependencies: ["CFuse3", "PointNamespace", "VolumeModel", "VirtualDisk", "RecoveryPoint"]),
        .executableTarget(
            name: "rpfs",
            dependencies: [
                "RecoveryPoint", "KeyManagement", "VirtualDisk", "PartitionTable", "PointNamespace", "FileRestore", "Ext4Volume", "NTFSVolume", "FuseFrontend", "CLinux",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "rpfs-bench", dependencies: ["RecoveryPoint", "KeyManagement", "VirtualDisk"], path: "Benchmarks/rpfs-bench"),

        .target(name: "TestSupport", dependencies: ["KeyManagement", "RecoveryPoint"], path: "Tests/TestSupport"),
        .testTarget(name: "ByteParsingTests", dependencies: ["ByteParsing"]),
        .testTarget(name: "CryptographyTests", dependencies: ["Cryptography", "TestSupport"]),
        .testTarget(name: "KeyManagementTests", dependencies: ["KeyManagement", "TestSupport"]),
        .testTarget(name: "RecoveryPointTests", dependencies: ["RecoveryPoint", "VirtualDisk", "POSIXFiles", "TestSupport"]),
        .testTarget(name: "PartitionTableTests", dependencies: ["PartitionTable", "VirtualDisk", "TestSupport"]),
        .testTarget(name: "Ext4VolumeTests", dependencies: ["Ext4Volume", "VolumeModel", "VirtualDisk", "ByteParsing", "POSIXFiles", "CExt2fs", "TestSupport"]),
        .testTarget(name: "NTFSVolumeTests", dependencies: ["NTFSVolume", "VolumeModel", "VirtualDisk", "ByteParsing", "TestSupport"]),
        .testTarget(name: "PKCS11Tests", dependencies: ["KeyManagement", "Cryptography", "TestSupport"]),
        .testTarget(name: "FileRestoreTests", dependencies: ["FileRestore", "VolumeModel"]),
        .testTarget(name: "CLITests", dependencies: ["TestSupport"]),
    ]
)
