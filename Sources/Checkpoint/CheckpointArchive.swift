import Foundation

/// A checkpoint file opened for reading tensors by name. The format is detected from the
/// content (never the file extension); the file is memory-mapped and stays mapped as long
/// as the archive lives, and tensor views point straight into it.
///
/// Every tensor's byte range is validated when the archive opens, so reads never leave the
/// file. (As with any mmap, truncating the file on disk while it is open is undefined.)
public final class CheckpointArchive: @unchecked Sendable {
    public let format: CheckpointFormat
    /// Tensor names in sorted order.
    public let tensorNames: [String]
    /// The safetensors `__metadata__` strings; empty for PyTorch files.
    public let metadata: [String: String]

    private let store: ByteStore
    private let layouts: [String: TensorLayout]

    /// Opens and maps a checkpoint file: safetensors, PyTorch zip or PyTorch legacy format.
    public static func open(_ url: URL) throws -> CheckpointArchive {
        let path = url.path
        do {
            return try CheckpointArchive(store: try ByteStore.map(path: path))
        } catch let error as CheckpointError {
            if case .cannotOpen = error { throw error }
            throw CheckpointError.inFile(path: path, error)
        }
    }

    /// Reads a checkpoint held in memory (copied), e.g. one received over the network.
    public static func parse(_ bytes: [UInt8]) throws -> CheckpointArchive {
        try CheckpointArchive(store: ByteStore.copy(of: bytes))
    }

    /// The format the bytes look like, or nil.
    public static func detectFormat(of bytes: [UInt8]) -> CheckpointFormat? {
        let store = ByteStore.copy(of: bytes)
        return detect(store.view)
    }

    private static func detect(_ file: ByteView) -> CheckpointFormat? {
        if file.hasPrefix(TorchZipReader.signature) { return .torchZip }
        if file.hasPrefix(TorchLegacyReader.signature) { return .torchLegacy }
        if SafetensorsReader.looksLikeSafetensors(file) { return .safetensors }
        return nil
    }

    private init(store: ByteStore) throws {
        let file = store.view
        guard let format = Self.detect(file) else {
            if let foreign = ForeignFormat.detect(file) { throw CheckpointError.foreignFormat(foreign) }
            let pickled = file.hasPrefix([0x80])
            throw CheckpointError.unrecognizedFormat(pickled
                ? "a pickle without torch's magic number, e.g. a pickled Python object rather than torch.save output"
                : "neither a zip archive, a legacy torch pickle, nor a safetensors header")
        }
        var layouts: [TensorLayout]
        var metadata: [String: String] = [:]
        switch format {
        case .safetensors: (layouts, metadata) = try SafetensorsReader.read(file)
        case .torchZip: layouts = try TorchZipReader.read(file)
        case .torchLegacy: layouts = try TorchLegacyReader.read(file)
        }
        self.store = store
        self.format = format
        self.metadata = metadata
        var byName: [String: TensorLayout] = [:]
        for layout in layouts { byName[layout.info.name] = layout }
        self.layouts = byName
        self.tensorNames = byName.keys.sorted()
    }

    public func info(_ name: String) -> TensorInfo? { layouts[name]?.info }

    /// All tensors' descriptions, in name order.
    public var tensorInfos: [TensorInfo] { tensorNames.compactMap { layouts[$0]?.info } }

    /// The tensor's elements as float32 in row-major order: floats are widened or copied,
    /// integers and booleans converted.
    public func float32(_ name: String) throws -> [Float] {
        let layout = try self.layout(name)
        return [Float](unsafeUninitializedCapacity: layout.elementCount) { buffer, initialized in
            copyElements(layout, into: buffer)
            initialized = layout.elementCount
        }
    }

    /// Like `float32(_:)`, writing into a caller-owned buffer of exactly the tensor's size
    /// (e.g. a slice of one parameter allocation).
    public func copyFloat32(_ name: String, into destination: UnsafeMutableBufferPointer<Float>) throws {
        let layout = try self.layout(name)
        guard destination.count == layout.elementCount else {
            throw CheckpointError.sizeMismatch(name: name, expected: layout.elementCount, actual: destination.count)
        }
        copyElements(layout, into: destination)
    }

    /// A zero-copy view of the mapped file when the tensor is stored as contiguous float32 at a
    /// 4-byte aligned offset; nil otherwise (use `float32(_:)`). Valid while the archive lives.
    public func float32Storage(_ name: String) -> UnsafeBufferPointer<Float>? {
        guard let layout = layouts[name], layout.info.dtype == .float32, layout.strides == nil else { return nil }
        let start = store.base + layout.byteOffset
        guard Int(bitPattern: start) % MemoryLayout<Float>.alignment == 0 else { return nil }
        return UnsafeBufferPointer(start: start.assumingMemoryBound(to: Float.self), count: layout.elementCount)
    }

    private func layout(_ name: String) throws -> TensorLayout {
        guard let layout = layouts[name] else { throw CheckpointError.tensorNotFound(name) }
        return layout
    }

    private func copyElements(_ layout: TensorLayout, into destination: UnsafeMutableBufferPointer<Float>) {
        let source = store.base + layout.byteOffset
        guard let strides = layout.strides else {
            ElementConversion.convert(layout.info.dtype, from: source, count: layout.elementCount,
                                      into: destination)
            return
        }
        // Non-contiguous (e.g. a transposed weight saved without .contiguous()): gather.
        let shape = layout.info.shape
        var index = [Int](repeating: 0, count: shape.count)
        for flat in 0..<layout.elementCount {
            var element = 0
            for dimension in shape.indices { element += index[dimension] * strides[dimension] }
            destination[flat] = ElementConversion.element(layout.info.dtype,
                                                          at: source + element * layout.info.dtype.byteSize)
            var dimension = shape.count - 1
            while dimension >= 0 {
                index[dimension] += 1
                if index[dimension] < shape[dimension] { break }
                index[dimension] = 0
                dimension -= 1
            }
        }
    }
}
