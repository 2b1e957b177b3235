import ByteParsing
import LVM

/// The LVM2 physical-volume label, as the LVM module reads it: a volume is a PV when one of
/// its first four sectors holds a label recording that sector. A label that is there but
/// damaged still says what the volume is, with the damage as detail.
enum LVMLabel {
    static func identify(_ head: ByteReader) -> VolumeInfo? {
        do {
            return try PhysicalVolumeLabel.parse(head.bytes).map { VolumeInfo(kind: .lvm2, uuid: $0.uuid) }
        } catch {
            return VolumeInfo(kind: .lvm2, detail: "\(error)")
        }
    }
}
