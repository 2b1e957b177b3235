import Foundation
import TestSupport
import Testing
import VolumeModel
import XFSVolume

/// Every kind of file on filesystems made with mkfs.xfs's defaults and with the geometry
/// options that change the on-disk forms, read by rpfs and by the kernel.
@Suite(.timeLimit(.minutes(5))) struct FeatureTests {
    static let geometries: [[String]] = [
        [],
        ["-b", "size=1024"],
        ["-n", "size=65536"],
        ["-m", "bigtime=0"],
        ["-i", "nrext64=1"],
    ]

    @Test(arguments: geometries)
    func sameAsTheKernel(_ options: [String]) throws {
        let directory = try TemporaryDirectory("rpfs-xfs-features")
        let image = try XFSImageBuilder.make(in: directory, size: 320 << 20, mkfsOptions: options, fill: Fill.features)
        let volume = try openVolume(image)
        #expect(volume.info.version == 5)
        #expect(volume.info.label == "rpfs-test")
        #expect(try volume.info.log == .clean && LogTests.logprintState(image) == "clean")
        try expectSameTree(volume, image, in: directory)
        if options.isEmpty {
            // The attribute fork forms these files reach with 4 KiB blocks, as xfs_db reads them.
            #expect(try XFSDebug.attributeForm(image, inode: volume.node(at: "xattr-inline")) == "local")
            #expect(try XFSDebug.attributeForm(image, inode: volume.node(at: "xattr-leaf")) == "0x3bee")
            #expect(try XFSDebug.attributeForm(image, inode: volume.node(at: "xattr-node")) == "0x3ebe")
        }
    }
}
