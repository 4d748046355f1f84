/// `torch.save` before PyTorch 1.6 (and with `_use_new_zipfile_serialization=False`): five
/// pickles in a row (magic number, protocol version 1001, sys_info, the state dict, the list
/// of storage keys), then each storage as an 8-byte little-endian element count followed
/// by its raw elements. Storages are read in place.
enum TorchLegacyReader {
    /// 0x1950a86a20f9469cfc6c, little-endian, as pickled with LONG1 after PROTO 2.
    static let magicNumber: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]
    static let signature: [UInt8] = [0x80, 0x02, 0x8A, 0x0A] + magicNumber
    static let protocolVersion = 1001

    static func read(_ file: ByteView) throws -> [TensorLayout] {
        let format = CheckpointFormat.torchLegacy
        func fail(_ detail: String) -> CheckpointError { .malformed(format: format, detail: detail) }
        var position = 0
        func nextPickle(_ persistentLoad: ((PickleValue) throws -> PickleValue)? = nil) throws -> PickleValue {
            let rest = try file.slice(offset: position, length: file.count - position, "a pickle")
            let result = try persistentLoad.map { try PickleMachine.load(rest, persistentLoad: $0) }
                ?? PickleMachine.load(rest)
            position += result.length
            return result.value
        }

        guard case let .bigInt(magic) = try nextPickle(), magic == magicNumber else {
            throw fail("the first pickle is not torch's magic number")
        }
        guard case let .int(version) = try nextPickle(), version == protocolVersion else {
            throw CheckpointError.unsupported("legacy serialization protocol other than \(protocolVersion)")
        }
        if case let .dict(sysInfo) = try nextPickle(),
           let endianness = sysInfo.pairs.first(where: { $0.key.asString == "little_endian" }),
           case .bool(false) = endianness.value {
            throw CheckpointError.unsupported("big-endian legacy checkpoint")
        }

        // Root storages by key, as the state dict references them.
        var storages: [String: StorageReference] = [:]
        let root = try nextPickle { id in
            let value = try TorchStateDict.storageReference(from: id, format: format)
            if case let .storage(storage) = value {
                if let known = storages[storage.key],
                   known.dtype != storage.dtype || known.elementCount != storage.elementCount {
                    throw fail("storage '\(storage.key)' is described twice with different types or sizes")
                }
                storages[storage.key] = storage
            }
            return value
        }
        guard case let .list(keyList) = try nextPickle() else { throw fail("the storage key list is missing") }

        var storageStarts: [String: Int] = [:]
        for item in keyList.items {
            guard let key = item.asString, let storage = storages[key] else {
                throw fail("the storage key list names a storage the state dict does not use")
            }
            let count = try file.uint64(at: position)
            guard count == UInt64(storage.elementCount) else {
                throw fail(
                    "storage '\(key)' holds \(count) elements but the state dict expects \(storage.elementCount)")
            }
            let start = position + 8
            let (bytes, overflow) = storage.elementCount.multipliedReportingOverflow(by: storage.dtype.byteSize)
            guard !overflow else { throw fail("storage '\(key)' is impossibly large") }
            _ = try file.slice(offset: start, length: bytes, "storage '\(key)'")
            storageStarts[key] = start
            position = start + bytes
        }

        var layouts: [TensorLayout] = []
        for (name, tensor) in try TorchStateDict.namedTensors(in: root, format: format) {
            let storage = tensor.storage
            guard let rootStart = storageStarts[storage.key] else {
                throw fail("tensor '\(name)' uses storage '\(storage.key)', which the file does not contain")
            }
            // Sizes below were checked against the file when the storage was located.
            let elementSize = storage.dtype.byteSize
            var start = rootStart
            var available = storage.elementCount &* elementSize
            if let view = storage.view {
                start += view.offset &* elementSize
                available = view.count &* elementSize
            }
            layouts.append(try TorchStorageLayout.tensor(name: name, tensor, storageStart: start,
                                                         storageBytes: available, format: format))
        }
        return layouts
    }
}
