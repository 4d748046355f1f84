import Checkpoint

/// Small checkpoints built by the test code in each format, with the values a correct
/// reader must return worked out here by hand.
enum SampleCheckpoints {
    /// Storage "0": 6 float32 values 0.5, 1.5, ...; storage "1": 4 float16; storage "2": 4 int64;
    /// storage "3": 3 bfloat16.
    static let weightValues: [Float] = [0.5, 1.5, -2.5, 3.25, 4.0, -5.75]
    static let halfBits: [UInt16] = [0x3C00, 0xC000, 0x3800, 0x7BFF]   // 1, -2, 0.5, 65504
    static let halfValues: [Float] = [1, -2, 0.5, 65504]
    static let bfloatBits: [UInt16] = [0x3F80, 0xC040, 0x3E80]          // 1, -3, 0.25

    static let tensors: [PickledTensor] = [
        PickledTensor(name: "encoder.weight", storageKey: "0", storageElements: 6, shape: [2, 3], strides: [3, 1]),
        // The same storage read transposed, as a tensor saved without .contiguous().
        PickledTensor(name: "encoder.weight_t", storageKey: "0", storageElements: 6, shape: [3, 2], strides: [1, 3]),
        PickledTensor(name: "encoder.bias", storageType: "HalfStorage", storageKey: "1", storageElements: 4,
                      offset: 1, shape: [3], strides: [1]),
        PickledTensor(name: "embeddings.position_ids", storageType: "LongStorage", storageKey: "2",
                      storageElements: 4, shape: [1, 4], strides: [4, 1]),
        PickledTensor(name: "classifier.weight", storageType: "BFloat16Storage", storageKey: "3",
                      storageElements: 3, shape: [3, 1], strides: [1, 1], asParameter: true),
    ]

    static let storageBytes: [String: [UInt8]] = [
        "0": float32Bytes(weightValues),
        "1": halfBits.flatMap { littleEndianBytes($0) },
        "2": (0..<4).flatMap { littleEndianBytes(Int64($0)) },
        "3": bfloatBits.flatMap { littleEndianBytes($0) },
    ]

    /// Name -> (dtype, shape, values), the expected reading of `tensors`.
    static let expected: [String: (dtype: DType, shape: [Int], values: [Float])] = [
        "encoder.weight": (.float32, [2, 3], weightValues),
        "encoder.weight_t": (.float32, [3, 2], [0.5, 3.25, 1.5, 4.0, -2.5, -5.75]),
        "encoder.bias": (.float16, [3], [-2, 0.5, 65504]),
        "embeddings.position_ids": (.int64, [1, 4], [0, 1, 2, 3]),
        "classifier.weight": (.bfloat16, [3, 1], [1, -3, 0.25]),
    ]

    static func torchZip(nestKey: String? = nil, zip64: Bool = false) -> [UInt8] {
        TorchFileBuilder.torchZip(tensors, storages: storageBytes, nestKey: nestKey, zip64: zip64)
    }

    static func torchLegacy(nestKey: String? = nil) -> [UInt8] {
        let elements = ["0": 6, "1": 4, "2": 4, "3": 3]
        let order = ["2", "0", "3", "1"]  // torch writes keys in its own order, not the dict's
        return TorchFileBuilder.torchLegacy(tensors, storages: order.map { key in
            (key, elements[key] ?? 0, storageBytes[key] ?? [])
        }, nestKey: nestKey)
    }

    static func safetensors(_ dtype: DType = .float32) throws -> [UInt8] {
        try SafetensorsWriter.serialize([
            "layer.weight": ([2, 3], weightValues),
            "layer.bias": ([3], [0.125, -7, 1e-3]),
            "scalar": ([], [42]),
            "empty": ([0, 4], []),
        ], dtype: dtype, metadata: ["format": "pt"])
    }
}
