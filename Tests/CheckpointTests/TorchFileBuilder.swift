/// Test-side writers that follow the byte formats of `torch.save` independently of the
/// reader: a pickle opcode emitter, a stored-entry zip writer and the legacy layout.
struct PickleWriter {
    var bytes: [UInt8] = []

    mutating func op(_ code: UInt8) { bytes.append(code) }
    mutating func op(_ code: Character) { bytes.append(code.asciiValue ?? 0) }

    mutating func proto(_ version: UInt8 = 2) { bytes += [0x80, version] }
    mutating func stop() { op(".") }
    mutating func mark() { op("(") }

    mutating func string(_ text: String) {
        op("X")
        bytes += littleEndianBytes(UInt32(text.utf8.count)) + Array(text.utf8)
    }

    mutating func global(_ module: String, _ name: String) {
        op("c")
        bytes += Array("\(module)\n\(name)\n".utf8)
    }

    mutating func int(_ value: Int) {
        if (0..<256).contains(value) {
            bytes += [UInt8(ascii: "K"), UInt8(value)]
        } else if (0..<65536).contains(value) {
            op("M")
            bytes += littleEndianBytes(UInt16(value))
        } else {
            op("J")
            bytes += littleEndianBytes(Int32(value))
        }
    }

    mutating func intTuple(_ values: [Int]) {
        mark()
        values.forEach { int($0) }
        op("t")
    }
}

/// One tensor as `torch.save` pickles it: a view on a named storage.
struct PickledTensor {
    var name: String
    var storageType = "FloatStorage"
    var storageKey: String
    var storageElements: Int
    var offset = 0
    var shape: [Int]
    var strides: [Int]
    var asParameter = false
    /// Legacy files only: (view_key, offset, size) inside the root storage.
    var view: (key: String, offset: Int, size: Int)?
}

enum TorchFileBuilder {
    /// The state-dict pickle, optionally nested as {nestKey: state_dict, "epoch": 3}.
    static func statePickle(_ tensors: [PickledTensor], legacy: Bool, nestKey: String? = nil) -> [UInt8] {
        var pickle = PickleWriter()
        pickle.proto()
        if let nestKey {
            pickle.op("}")
            pickle.mark()
            pickle.string(nestKey)
        }
        pickle.global("collections", "OrderedDict")
        pickle.op(")")
        pickle.op("R")
        pickle.mark()
        for tensor in tensors {
            pickle.string(tensor.name)
            if tensor.asParameter { pickle.global("torch._utils", "_rebuild_parameter"); pickle.mark() }
            pickle.global("torch._utils", "_rebuild_tensor_v2")
            pickle.mark()
            pickle.mark()
            pickle.string("storage")
            pickle.global("torch", tensor.storageType)
            pickle.string(tensor.storageKey)
            pickle.string("cpu")
            pickle.int(tensor.storageElements)
            if legacy {
                if let view = tensor.view {
                    pickle.mark()
                    pickle.string(view.key)
                    pickle.int(view.offset)
                    pickle.int(view.size)
                    pickle.op("t")
                } else {
                    pickle.op("N")
                }
            }
            pickle.op("t")
            pickle.op("Q")
            pickle.int(tensor.offset)
            pickle.intTuple(tensor.shape)
            pickle.intTuple(tensor.strides)
            pickle.op(0x89)
            pickle.global("collections", "OrderedDict")
            pickle.op(")")
            pickle.op("R")
            pickle.op("t")
            pickle.op("R")
            if tensor.asParameter {
                pickle.op(0x88)
                pickle.global("collections", "OrderedDict")
                pickle.op(")")
                pickle.op("R")
                pickle.op("t")
                pickle.op("R")
            }
        }
        pickle.op("u")
        if nestKey != nil {
            pickle.string("epoch")
            pickle.int(3)
            pickle.op("u")
        }
        pickle.stop()
        return pickle.bytes
    }

    /// A zip archive of stored entries with torch's 64-byte data alignment. With `zip64`, the
    /// end record is saturated and the real values live in ZIP64 records, as large files have.
    static func zip(_ entries: [(name: String, data: [UInt8])], zip64: Bool = false) -> [UInt8] {
        var archive: [UInt8] = []
        var central: [UInt8] = []
        for entry in entries {
            let headerOffset = archive.count
            let name = Array(entry.name.utf8)
            let unpadded = archive.count + 30 + name.count + 4
            let padding = (64 - unpadded % 64) % 64
            var local: [UInt8] = littleEndianBytes(UInt32(0x0403_4B50))
            local += littleEndianBytes(UInt16(20)) + littleEndianBytes(UInt16(0)) + littleEndianBytes(UInt16(0))
            local += littleEndianBytes(UInt32(0)) + littleEndianBytes(UInt32(0))  // time, date; crc
            local += littleEndianBytes(UInt32(entry.data.count)) + littleEndianBytes(UInt32(entry.data.count))
            local += littleEndianBytes(UInt16(name.count)) + littleEndianBytes(UInt16(4 + padding))
            local += name
            local += littleEndianBytes(UInt16(0x4246)) + littleEndianBytes(UInt16(padding))  // "FB" padding field
            local += [UInt8](repeating: 0x5A, count: padding)
            archive += local + entry.data

            var record: [UInt8] = littleEndianBytes(UInt32(0x0201_4B50))
            record += littleEndianBytes(UInt16(20)) + littleEndianBytes(UInt16(20))
            record += littleEndianBytes(UInt16(0)) + littleEndianBytes(UInt16(0))
            record += littleEndianBytes(UInt32(0)) + littleEndianBytes(UInt32(0))
            let extra: [UInt8] = zip64
                ? littleEndianBytes(UInt16(1)) + littleEndianBytes(UInt16(8)) + littleEndianBytes(UInt64(headerOffset))
                : []
            record += littleEndianBytes(UInt32(entry.data.count)) + littleEndianBytes(UInt32(entry.data.count))
            record += littleEndianBytes(UInt16(name.count)) + littleEndianBytes(UInt16(extra.count))
            record += littleEndianBytes(UInt16(0)) + littleEndianBytes(UInt16(0)) + littleEndianBytes(UInt16(0))
            record += littleEndianBytes(UInt32(0))
            record += littleEndianBytes(zip64 ? UInt32.max : UInt32(headerOffset))
            record += name + extra
            central += record
        }
        let directoryOffset = archive.count
        archive += central
        if zip64 {
            let recordOffset = archive.count
            archive += littleEndianBytes(UInt32(0x0606_4B50)) + littleEndianBytes(UInt64(44))
            archive += littleEndianBytes(UInt16(45)) + littleEndianBytes(UInt16(45))
            archive += littleEndianBytes(UInt32(0)) + littleEndianBytes(UInt32(0))
            archive += littleEndianBytes(UInt64(entries.count)) + littleEndianBytes(UInt64(entries.count))
            archive += littleEndianBytes(UInt64(central.count)) + littleEndianBytes(UInt64(directoryOffset))
            archive += littleEndianBytes(UInt32(0x0706_4B50)) + littleEndianBytes(UInt32(0))
            archive += littleEndianBytes(UInt64(recordOffset)) + littleEndianBytes(UInt32(1))
        }
        archive += littleEndianBytes(UInt32(0x0605_4B50)) + littleEndianBytes(UInt16(0)) + littleEndianBytes(UInt16(0))
        let count = zip64 ? UInt16.max : UInt16(entries.count)
        archive += littleEndianBytes(count) + littleEndianBytes(count)
        archive += littleEndianBytes(UInt32(central.count))
        archive += littleEndianBytes(zip64 ? UInt32.max : UInt32(directoryOffset))
        archive += littleEndianBytes(UInt16(0))
        return archive
    }

    /// A torch zip checkpoint: `archive/data.pkl`, `archive/data/<key>`, `archive/byteorder`, `archive/version`.
    static func torchZip(_ tensors: [PickledTensor], storages: [String: [UInt8]], nestKey: String? = nil,
                         zip64: Bool = false, pickle: [UInt8]? = nil) -> [UInt8] {
        var entries: [(name: String, data: [UInt8])] = [
            ("archive/data.pkl", pickle ?? statePickle(tensors, legacy: false, nestKey: nestKey)),
            ("archive/byteorder", Array("little".utf8)),
        ]
        for key in storages.keys.sorted() { entries.append(("archive/data/\(key)", storages[key] ?? [])) }
        entries.append(("archive/version", Array("3\n".utf8)))
        return zip(entries, zip64: zip64)
    }

    /// A legacy checkpoint: magic, protocol 1001, sys_info, the state dict, the storage keys,
    /// then each storage as an 8-byte element count and its bytes.
    static func torchLegacy(_ tensors: [PickledTensor], storages: [(key: String, elements: Int, data: [UInt8])],
                            nestKey: String? = nil, mainPickle: [UInt8]? = nil) -> [UInt8] {
        var file: [UInt8] = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E]
        var version = PickleWriter()
        version.proto()
        version.int(1001)
        version.stop()
        file += version.bytes
        var sysInfo = PickleWriter()
        sysInfo.proto()
        sysInfo.op("}")
        sysInfo.mark()
        sysInfo.string("protocol_version")
        sysInfo.int(1001)
        sysInfo.string("little_endian")
        sysInfo.op(0x88)
        sysInfo.op("u")
        sysInfo.stop()
        file += sysInfo.bytes
        file += mainPickle ?? statePickle(tensors, legacy: true, nestKey: nestKey)
        var keys = PickleWriter()
        keys.proto()
        keys.op("]")
        keys.mark()
        storages.forEach { keys.string($0.key) }
        keys.op("e")
        keys.stop()
        file += keys.bytes
        for storage in storages { file += littleEndianBytes(UInt64(storage.elements)) + storage.data }
        return file
    }
}
