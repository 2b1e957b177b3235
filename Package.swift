// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "rpfs",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "rpfs", targets: ["rpfs"]),
        // The modules that read untrusted bytes, for the fuzz package (Fuzz/Package.swift):
        // the readers, which see only block devices, and the point format with its disks.
        .library(name: "RPFSReaders", targets: [
            "ByteParsing", "BlockDevices", "PartitionTable", "LVM", "LDM", "VolumeModel", "Ext4Volume", "NTFSVolume", "XFSVolume",
        ]),
        .library(name: "RPFSPointFormat", targets: [
            "Pools", "Cryptography", "KeyManagement", "RecoveryPoint", "PointDisk",
        ]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // rpfs serve: HTTP/1.1 on SwiftNIO, TLS through swift-nio-ssl, bcrypt for htpasswd.
        // No traits: their defaults bring in full Foundation and swift-configuration.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        // Already in Hummingbird's graph; named for the modules WebFrontend imports itself.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.14.0"),
    ],
    targets: [
        // System libraries: a module map and one shim header each, no logic.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CExt2fs", pkgConfig: "ext2fs", providers: [.apt(["libext2fs-dev", "comerr-dev"])]),
        // Only p11-kit's Cryptoki header: modules are dlopen'ed, so nothing links libp11-kit
        // (and its libffi), two fewer libraries to load at every start.
        .systemLibrary(name: "CPKCS11", providers: [.apt(["libp11-kit-dev"])]),
        .systemLibrary(name: "CFuse3", pkgConfig: "fuse3", providers: [.apt(["libfuse3-dev"])]),
        // Only libcurl's headers: the library is dlopen'ed when a remote store is first used.
        .systemLibrary(name: "CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        .target(name: "ByteParsing"),
        .systemLibrary(name: "CLinux"),
        .target(name: "POSIXFiles", dependencies: ["CLinux"]),
        // A work pool and a pool of page-aligned buffers: what several layers share.
        .target(name: "Pools"),
        // The bottom of every reader: the BlockDevice protocol, slices and composition.
        .target(name: "BlockDevices", dependencies: ["POSIXFiles"]),
        .target(name: "Cryptography", dependencies: ["COpenSSL"]),
        .target(name: "KeyManagement", dependencies: ["ByteParsing", "Cryptography", "POSIXFiles", "CPKCS11"]),
        .target(name: "RecoveryPoint", dependencies: ["ByteParsing", "Cryptography", "KeyManagement", "POSIXFiles", "Pools"]),
        // Stores in object storage (S3, HTTPS) over libcurl, with a local cache of objects.
        .target(name: "ObjectStores", dependencies: ["ByteParsing", "CCurl", "Cryptography", "POSIXFiles", "Pools", "RecoveryPoint"]),
        // A point's decrypted disks: the chunk cache and the read policy.
        .target(name: "PointDisk", dependencies: ["BlockDevices", "RecoveryPoint", "Pools"]),
        // Readers see only BlockDevices: no keys, chunks or stores.
        .target(name: "PartitionTable", dependencies: ["ByteParsing", "BlockDevices", "LVM"]),
        // LVM2 volume groups assembled from the physical volumes found on a point's disks.
        .target(name: "LVM", dependencies: ["ByteParsing", "BlockDevices"]),
        // Windows dynamic disks: the LDM database and the volumes it assembles across disks.
        .target(name: "LDM", dependencies: ["ByteParsing", "BlockDevices"]),
        .target(name: "VolumeModel", dependencies: ["ByteParsing", "BlockDevices"]),
        .target(name: "Ext4Volume", dependencies: ["CExt2fs", "ByteParsing", "BlockDevices", "VolumeModel"]),
        .target(name: "NTFSVolume", dependencies: ["ByteParsing", "BlockDevices", "VolumeModel"]),
        .target(name: "XFSVolume", dependencies: ["ByteParsing", "BlockDevices", "VolumeModel"]),
        .target(name: "PointNamespace", dependencies: ["RecoveryPoint", "KeyManagement", "PointDisk", "BlockDevices", "PartitionTable", "LVM", "LDM", "VolumeModel"]),
        .target(name: "FileRestore", dependencies: ["ByteParsing", "CLinux", "PointNamespace", "VolumeModel", "POSIXFiles", "Cryptography", "Pools"]),
        // A catalog per point: every path with its attributes and where its bytes lie, to
        // search, compare and list versions without reading chunks.
        .target(name: "Catalog", dependencies: ["ByteParsing", "CZlib", "Cryptography", "PointNamespace", "RecoveryPoint", "VolumeModel"]),
        // A folder or file of a point as a zip or tar stream, for cp --archive and serve.
        .target(name: "Archives", dependencies: ["ByteParsing", "PointNamespace", "VolumeModel"]),
        // rpfs serve: the browser page, read-only WebDAV and archive downloads over HTTP.
        .target(name: "WebFrontend", dependencies: [
            "Archives", "ByteParsing", "PointNamespace", "VolumeModel",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "FuseFrontend", dependencies: ["CFuse3", "PointNamespace", "VolumeModel"]),
        .executableTarget(
            name: "rpfs",
            dependencies: [
                "RecoveryPoint", "KeyManagement", "ObjectStores", "BlockDevices", "PointDisk", "PartitionTable", "LVM", "LDM", "VolumeModel", "PointNamespace", "FileRestore",
                "Archives", "Ext4Volume", "NTFSVolume", "XFSVolume", "FuseFrontend", "WebFrontend", "ByteParsing", "POSIXFiles", "CLinux", "Catalog",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "rpfs-bench", dependencies: ["RecoveryPoint", "KeyManagement", "PointDisk", "BlockDevices"], path: "Benchmarks/rpfs-bench"),

        .target(name: "TestSupport", dependencies: ["KeyManagement", "RecoveryPoint", "BlockDevices"], path: "Tests/TestSupport"),
        // A point of real ext4 volumes, and its namespace opened as the CLI opens it.
        .target(name: "PointTestSupport", dependencies: ["TestSupport", "KeyManagement", "RecoveryPoint", "PointNamespace", "Ext4Volume", "VolumeModel"],
                path: "Tests/PointTestSupport"),
        .testTarget(name: "ByteParsingTests", dependencies: ["ByteParsing"]),
        .testTarget(name: "CryptographyTests", dependencies: ["Cryptography", "TestSupport"]),
        .testTarget(name: "KeyManagementTests", dependencies: ["KeyManagement", "TestSupport"]),
        .testTarget(name: "RecoveryPointTests", dependencies: ["RecoveryPoint", "PointDisk", "BlockDevices", "Pools", "POSIXFiles", "TestSupport"]),
        .testTarget(name: "PartitionTableTests", dependencies: ["PartitionTable", "BlockDevices", "ByteParsing", "TestSupport"]),
        .testTarget(name: "LDMTests", dependencies: ["LDM", "BlockDevices", "PartitionTable", "TestSupport"]),
        .testTarget(name: "LVMTests", dependencies: ["LVM", "BlockDevices", "ByteParsing", "TestSupport"]),
        .testTarget(name: "Ext4VolumeTests", dependencies: ["Ext4Volume", "VolumeModel", "BlockDevices", "ByteParsing", "POSIXFiles", "CExt2fs", "TestSupport"]),
        .testTarget(name: "NTFSVolumeTests", dependencies: ["NTFSVolume", "VolumeModel", "BlockDevices", "ByteParsing", "TestSupport"]),
        .testTarget(name: "XFSVolumeTests", dependencies: ["XFSVolume", "VolumeModel", "BlockDevices", "CLinux", "TestSupport"]),
        .testTarget(name: "PKCS11Tests", dependencies: ["KeyManagement", "Cryptography", "TestSupport"]),
        .testTarget(name: "ArchitectureTests"),
        .testTarget(name: "BlockDevicesTests", dependencies: ["BlockDevices"]),
        .testTarget(name: "VolumeModelTests", dependencies: ["VolumeModel", "BlockDevices", "POSIXFiles"]),
        .testTarget(name: "FileRestoreTests", dependencies: ["FileRestore", "VolumeModel", "PointTestSupport", "TestSupport"]),
        .testTarget(name: "ObjectStoresTests", dependencies: ["ObjectStores", "RecoveryPoint"]),
        .testTarget(name: "CLITests", dependencies: ["TestSupport"]),
        .testTarget(name: "PointNamespaceTests", dependencies: ["PointNamespace", "LVM", "Ext4Volume", "KeyManagement", "VolumeModel", "RecoveryPoint", "BlockDevices", "TestSupport", "PointTestSupport"]),
        .testTarget(name: "CatalogTests", dependencies: ["Catalog", "ByteParsing", "PointNamespace", "RecoveryPoint", "VolumeModel", "TestSupport", "PointTestSupport"]),
        .testTarget(name: "FuseFrontendTests", dependencies: [
            "FuseFrontend", "PointNamespace", "VolumeModel", "TestSupport", "PointTestSupport", "CFuse3",
        ]),
    ]
)

// The compiler holds the layering: a module sees only the members of modules it imports
// itself, never what reaches it through another import.
for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + [.enableUpcomingFeature("MemberImportVisibility")]
}
