/// The values a state-dict pickle can build. Nothing here executes code: globals are
/// resolved against a short allow-list and calls are interpreted, never performed.
indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer wider than 64 bits, as its little-endian two's-complement bytes.
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    /// Items and nesting depth (stored, so depth checks never walk the tree).
    case tuple([PickleValue], depth: Int)
    case list(PickleList)
    case dict(PickleDict)
    case global(PickleGlobal)
    case storage(StorageReference)
    case tensor(TensorReference)

    var typeName: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case .global: return "global"
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }

    /// Nesting depth, used to refuse pathological pickles before they exhaust the stack.
    var depth: Int {
        switch self {
        case let .tuple(_, depth): return depth
        case let .list(list): return list.depth
        case let .dict(dict): return dict.depth
        default: return 1
        }
    }

    static func tuple(_ items: [PickleValue]) -> PickleValue {
        .tuple(items, depth: 1 + (items.map(\.depth).max() ?? 0))
    }

    var asInt: Int? { if case let .int(value) = self { return value } else { return nil } }
    var asString: String? { if case let .string(value) = self { return value } else { return nil } }

    var asIntTuple: [Int]? {
        let items: [PickleValue]
        switch self {
        case let .tuple(values, _): items = values
        case let .list(list): items = list.items
        default: return nil
        }
        var result: [Int] = []
        for item in items {
            guard let value = item.asInt else { return nil }
            result.append(value)
        }
        return result
    }
}

/// A mutable list (pickles fill lists after creating and memoizing them).
final class PickleList {
    fileprivate(set) var items: [PickleValue] = []
    var depth = 1
    /// Set once the list is placed inside another container; later mutation is refused so
    /// that recorded depths stay exact.
    var isNested = false

    init(items: [PickleValue] = []) {
        self.items = items
        depth = 1 + (items.map(\.depth).max() ?? 0)
    }

    func append(_ value: PickleValue) {
        items.append(value)
        depth = max(depth, 1 + value.depth)
    }
}

/// A mutable dict keeping insertion order; later assignments to a key replace the value.
final class PickleDict {
    private(set) var pairs: [(key: PickleValue, value: PickleValue)] = []
    private var stringKeyIndex: [String: Int] = [:]
    var depth = 1
    var isNested = false

    func set(_ key: PickleValue, _ value: PickleValue) {
        depth = max(depth, 1 + value.depth, 1 + key.depth)
        if case let .string(text) = key {
            if let index = stringKeyIndex[text] {
                pairs[index].value = value
                return
            }
            stringKeyIndex[text] = pairs.count
        }
        pairs.append((key, value))
    }
}

/// The globals a state dict may reference.
enum PickleGlobal: Equatable {
    case orderedDict
    case rebuildTensor
    case rebuildTensorV2
    case rebuildParameter
    case rebuildParameterWithState
    case storageType(DType)
    case dtype(DType)

    init(module: String, name: String) throws {
        switch (module, name) {
        case ("collections", "OrderedDict"): self = .orderedDict
        case ("torch._utils", "_rebuild_tensor"): self = .rebuildTensor
        case ("torch._utils", "_rebuild_tensor_v2"): self = .rebuildTensorV2
        case ("torch._utils", "_rebuild_parameter"): self = .rebuildParameter
        case ("torch._utils", "_rebuild_parameter_with_state"): self = .rebuildParameterWithState
        case ("torch", _) where name.hasSuffix("Storage"), ("torch.storage", "UntypedStorage"):
            guard let dtype = DType(torchStorageName: name) else {
                throw CheckpointError.unsupported("tensor storage type torch.\(name)")
            }
            self = .storageType(dtype)
        case ("torch", _) where DType(torchDTypeName: name) != nil:
            self = .dtype(DType(torchDTypeName: name) ?? .float32)
        default:
            throw CheckpointError.unsupportedPickleGlobal(module: module, name: name)
        }
    }
}

/// A storage named by a persistent id: `('storage', type, key, location, numel[, view])`.
struct StorageReference {
    let dtype: DType
    let key: String
    let elementCount: Int
    /// Legacy files only: a view `(view_key, offset, size)` into the root storage `key`.
    let view: (key: String, offset: Int, count: Int)?
}

/// A tensor rebuilt from `(storage, storage_offset, size, stride)`.
struct TensorReference {
    let storage: StorageReference
    let storageOffset: Int
    let shape: [Int]
    let strides: [Int]
}
