/// Model files this tool cannot read but names, so the first error says what the file is and how to
/// get weights it can read (transformers converts each of them to PyTorch/safetensors).
public enum ForeignFormat: String, Sendable, CaseIterable {
    case tensorFlow, flax, onnx

    public var displayName: String {
        switch self {
        case .tensorFlow: return "a TensorFlow/Keras HDF5 checkpoint"
        case .flax: return "a Flax (msgpack) checkpoint"
        case .onnx: return "an ONNX graph"
        }
    }

    /// How to get a checkpoint this tool reads.
    public var advice: String {
        switch self {
        case .tensorFlow:
            return "convert it with transformers: "
                + "BertForSequenceClassification.from_pretrained(DIR, from_tf=True).save_pretrained(OUT)"
        case .flax:
            return "convert it with transformers: "
                + "BertForSequenceClassification.from_pretrained(DIR, from_flax=True).save_pretrained(OUT)"
        case .onnx:
            return "an exported graph carries no PyTorch weights by name; "
                + "use the PyTorch or safetensors checkpoint it was exported from"
        }
    }

    /// The names Hugging Face gives these files in a model directory.
    public static let directoryFileNames: [(name: String, format: ForeignFormat)] = [
        ("tf_model.h5", .tensorFlow), ("flax_model.msgpack", .flax), ("model.onnx", .onnx), ("onnx/model.onnx", .onnx),
    ]

    /// The format a file name's extension suggests.
    public static func byExtension(_ fileName: String) -> ForeignFormat? {
        let lower = fileName.lowercased()
        if lower.hasSuffix(".h5") || lower.hasSuffix(".hdf5") || lower.hasSuffix(".keras") { return .tensorFlow }
        if lower.hasSuffix(".msgpack") { return .flax }
        if lower.hasSuffix(".onnx") { return .onnx }
        return nil
    }

    /// The format the first bytes of a file look like (only asked once no readable format matched).
    static func detect(_ file: ByteView) -> ForeignFormat? {
        // "\x89HDF\r\n\x1a\n"
        if file.hasPrefix([0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]) { return .tensorFlow }
        guard let first = try? file.byte(at: 0), let second = try? file.byte(at: 1) else { return nil }
        // msgpack map (fixmap or map16/32) whose first key is a string; a pickle's 0x80 is followed by its
        // protocol 2-5.
        if (0x81...0x8F).contains(first) || first == 0xDE || first == 0xDF {
            let key = first == 0xDE ? try? file.byte(at: 3) : first == 0xDF ? try? file.byte(at: 5) : second
            if let key, (0xA0...0xBF).contains(key) || key == 0xD9 { return .flax }
        }
        // ONNX ModelProto: field 1 (ir_version, a small varint) then another field's tag (producer, graph, opset...).
        if first == 0x08, (1...20).contains(second), let third = try? file.byte(at: 2),
           [0x12, 0x1A, 0x22, 0x2A, 0x3A, 0x42].contains(third) { return .onnx }
        return nil
    }
}
