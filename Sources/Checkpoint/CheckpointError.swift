/// Everything that can go wrong while reading or writing a checkpoint file.
public enum CheckpointError: Error, CustomStringConvertible, Sendable {
    /// The file could not be opened or mapped.
    case cannotOpen(path: String, reason: String)
    /// The bytes match none of the supported formats.
    case unrecognizedFormat(String)
    /// A model format this tool does not read (TensorFlow, Flax, ONNX), named.
    case foreignFormat(ForeignFormat)
    /// The file ends before a structure it announces.
    case truncated(String)
    /// The file has the right format but inconsistent content.
    case malformed(format: CheckpointFormat, detail: String)
    /// A valid file using a feature this reader does not implement.
    case unsupported(String)
    /// The pickle imports something other than the plain state-dict vocabulary.
    case unsupportedPickleGlobal(module: String, name: String)
    /// The pickle uses an opcode outside the state-dict subset.
    case unsupportedPickleOpcode(opcode: UInt8, offset: Int)
    /// A pickle that cannot be executed (stack underflow, missing memo, wrong types...).
    case invalidPickle(offset: Int, detail: String)
    case tensorNotFound(String)
    /// The index of a sharded checkpoint is unreadable or does not match its shards.
    case badShardIndex(String)
    /// A destination buffer's element count does not match the tensor.
    case sizeMismatch(name: String, expected: Int, actual: Int)
    /// Bad input to the safetensors writer.
    case invalidTensorForWriting(name: String, detail: String)
    case writeFailed(path: String, reason: String)
    /// Another error, located in a file.
    indirect case inFile(path: String, CheckpointError)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            return "cannot open checkpoint \(path): \(reason)"
        case let .unrecognizedFormat(detail):
            return "not a checkpoint this tool can read (\(detail)); expected a .safetensors file or a PyTorch "
                + "torch.save file (zip or legacy format)"
        case let .foreignFormat(format):
            return "this is \(format.displayName), which this tool cannot read (it reads safetensors and PyTorch "
                + "torch.save files): \(format.advice)"
        case let .truncated(detail):
            return "the file is truncated or damaged: \(detail); download or save it again"
        case let .malformed(format, detail):
            return "invalid \(format.displayName) file: \(detail)"
        case let .unsupported(detail):
            return "unsupported checkpoint feature: \(detail)"
        case let .unsupportedPickleGlobal(module, name):
            return "unsupported pickle global \(module).\(name): not a plain state dict. Save the weights with "
                + "torch.save(model.state_dict(), path) or as safetensors; arbitrary pickled objects are never executed"
        case let .unsupportedPickleOpcode(opcode, offset):
            let printable = (0x20..<0x7F).contains(opcode) ? " '\(Character(Unicode.Scalar(opcode)))'" : ""
            return "unsupported pickle opcode 0x\(String(opcode, radix: 16))\(printable) at offset \(offset): "
                + "not a plain state dict saved by torch.save"
        case let .invalidPickle(offset, detail):
            return "invalid pickle at offset \(offset): \(detail)"
        case let .badShardIndex(detail):
            return "invalid sharded-checkpoint index: \(detail)"
        case let .tensorNotFound(name):
            return "no tensor named '\(name)' in the checkpoint"
        case let .sizeMismatch(name, expected, actual):
            return "tensor '\(name)' has \(expected) elements but the destination holds \(actual)"
        case let .invalidTensorForWriting(name, detail):
            return "cannot write tensor '\(name)': \(detail)"
        case let .writeFailed(path, reason):
            return "cannot write \(path): \(reason)"
        case let .inFile(path, error):
            return "\(path): \(error.description)"
        }
    }

    /// The error without the file it happened in.
    public var underlying: CheckpointError {
        if case let .inFile(_, error) = self { return error.underlying }
        return self
    }
}
