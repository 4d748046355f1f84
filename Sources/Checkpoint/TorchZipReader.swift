import Foundation

/// `torch.save` since PyTorch 1.6: a zip archive with `<prefix>/data.pkl` (the pickled
/// state dict) and one uncompressed entry `<prefix>/data/<key>` per storage, so tensors
/// are read in place from the mapped file.
enum TorchZipReader {
    static let signature: [UInt8] = [0x50, 0x4B, 0x03, 0x04]  // "PK\3\4", a local file header

    static func read(_ file: ByteView) throws -> [TensorLayout] {
        let format = CheckpointFormat.torchZip
        let zip = try ZipDirectory(file)
        let pickleNames = zip.names.filter { $0 == "data.pkl" || $0.hasSuffix("/data.pkl") }
        guard let pickleName = pickleNames.min(by: { $0.count < $1.count }),
              let pickle = try zip.entry(pickleName) else {
            throw CheckpointError.malformed(format: format, detail: "no data.pkl entry; this zip archive was not "
                + "written by torch.save")
        }
        let prefix = String(pickleName.dropLast("data.pkl".count))
        if let byteOrder = try zip.entry(prefix + "byteorder"),
           let text = String(validating: try byteOrder.data.bytes(at: 0, length: byteOrder.data.count), as: UTF8.self),
           text.trimmingCharacters(in: .whitespacesAndNewlines) != "little" {
            throw CheckpointError.unsupported("byte order '\(text)'; only little-endian checkpoints are supported")
        }

        let root = try PickleMachine.load(pickle.data) { id in
            try TorchStateDict.storageReference(from: id, format: format)
        }.value
        var layouts: [TensorLayout] = []
        for (name, tensor) in try TorchStateDict.namedTensors(in: root, format: format) {
            let storage = tensor.storage
            let entryName = prefix + "data/" + storage.key
            guard let entry = try zip.entry(entryName) else {
                throw CheckpointError.malformed(
                    format: format,
                    detail: "tensor '\(name)' uses storage '\(storage.key)' "
                        + "but the archive has no entry \(entryName)")
            }
            let (storageBytes, overflow) = storage.elementCount.multipliedReportingOverflow(by: storage.dtype.byteSize)
            guard !overflow, storageBytes <= entry.data.count else {
                throw CheckpointError.malformed(format: format, detail: "storage '\(storage.key)' declares "
                    + "\(storage.elementCount) elements but its entry holds \(entry.data.count) bytes")
            }
            layouts.append(try TorchStorageLayout.tensor(name: name, tensor, storageStart: entry.data.offset(in: file),
                                                         storageBytes: storageBytes, format: format))
        }
        return layouts
    }
}

/// Places a tensor at `storage_offset` inside its storage.
enum TorchStorageLayout {
    static func tensor(name: String, _ tensor: TensorReference, storageStart: Int, storageBytes: Int,
                       format: CheckpointFormat) throws -> TensorLayout {
        let dtype = tensor.storage.dtype
        let (offsetBytes, overflow) = tensor.storageOffset.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, offsetBytes <= storageBytes else {
            throw CheckpointError.malformed(format: format, detail: "tensor '\(name)' starts at element "
                + "\(tensor.storageOffset), past the end of its storage")
        }
        return try TensorLayout(name: name, dtype: dtype, shape: tensor.shape, strides: tensor.strides,
                                byteOffset: storageStart + offsetBytes, availableBytes: storageBytes - offsetBytes,
                                format: format)
    }
}
