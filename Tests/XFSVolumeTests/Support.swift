import BlockDevices
import Foundation
import TestSupport
import Testing
import VolumeModel
import XFSVolume

func openVolume(_ image: String, name: String = "xfs") throws(VolumeError) -> XFSVolume {
    let device: FileBlockDevice
    do {
        device = try FileBlockDevice(path: image)
    } catch {
        throw .device(error)
    }
    return try XFSVolume.open(device, name: name)
}
