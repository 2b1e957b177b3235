/// A device that gives no bytes: what a logical or dynamic volume that cannot be assembled
/// reads as. Every read fails with `fault`, which says why.
public struct RefusedDevice: BlockDevice {
    public let size: UInt64
    public let fault: any DeviceFault

    public init(size: UInt64, fault: any DeviceFault) {
        self.size = size
        self.fault = fault
    }

    public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DiskReadError) {
        throw .source(fault)
    }
}
