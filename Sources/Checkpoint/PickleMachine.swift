/// A pickle interpreter for the subset `torch.save` emits for a state dict (protocols 2-5).
/// Globals go through `PickleGlobal`'s allow-list; REDUCE/NEWOBJ only build OrderedDicts
/// and tensors; BINPERSID hands storage ids to the caller. Anything else is refused.
struct PickleMachine {
    /// Nesting deeper than this is not a state dict and could exhaust the stack later.
    static let maximumDepth = 100

    private let data: ByteView
    private var position = 0
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    private var opcodeOffset = 0
    private let persistentLoad: (PickleValue) throws -> PickleValue

    /// Runs the pickle that starts at the beginning of `data`; returns the value and the
    /// number of bytes up to and including STOP (legacy files hold several pickles in a row).
    static func load(_ data: ByteView, persistentLoad: @escaping (PickleValue) throws -> PickleValue = { _ in
        throw CheckpointError.invalidPickle(offset: 0, detail: "unexpected persistent id")
    }) throws -> (value: PickleValue, length: Int) {
        var machine = PickleMachine(data: data, persistentLoad: persistentLoad)
        let value = try machine.run()
        return (value, machine.position)
    }

    private init(data: ByteView, persistentLoad: @escaping (PickleValue) throws -> PickleValue) {
        self.data = data
        self.persistentLoad = persistentLoad
    }

    private func invalid(_ detail: String) -> CheckpointError {
        .invalidPickle(offset: opcodeOffset, detail: detail)
    }

    // MARK: - Reading operands

    private mutating func read<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        guard data.contains(offset: position, length: MemoryLayout<T>.size) else {
            throw CheckpointError.truncated("pickle ends inside the opcode at offset \(opcodeOffset)")
        }
        let value = try data.integer(at: position, as: T.self)
        position += MemoryLayout<T>.size
        return value
    }

    private mutating func readBytes(_ count: Int) throws -> [UInt8] {
        guard count >= 0, data.contains(offset: position, length: count) else {
            throw CheckpointError.truncated(
                "pickle operand of \(count) bytes at offset \(opcodeOffset) runs past the end")
        }
        let bytes = try data.bytes(at: position, length: count)
        position += count
        return bytes
    }

    private mutating func readLength<T: FixedWidthInteger>(_ type: T.Type) throws -> Int {
        let length = try read(type)
        guard let count = Int(exactly: length), count <= data.count else {
            throw CheckpointError.truncated(
                "pickle operand length \(length) at offset \(opcodeOffset) exceeds the data")
        }
        return count
    }

    private mutating func readLine() throws -> String {
        var end = position
        while end < data.count, try data.byte(at: end) != UInt8(ascii: "\n") { end += 1 }
        guard end < data.count else { throw CheckpointError.truncated("pickle GLOBAL name without a newline") }
        let bytes = try readBytes(end - position)
        position += 1
        guard let text = String(validating: bytes, as: UTF8.self) else { throw invalid("GLOBAL name is not UTF-8") }
        return text
    }

    private mutating func readUTF8(_ count: Int) throws -> String {
        let bytes = try readBytes(count)
        guard let text = String(validating: bytes, as: UTF8.self) else { throw invalid("string is not valid UTF-8") }
        return text
    }

    /// Python 2 `str` values (BINSTRING): treated as Latin-1 text, as torch's loader does for keys.
    private mutating func readLatin1(_ count: Int) throws -> String {
        String(decoding: try readBytes(count).map { UInt16($0) }, as: UTF16.self)
    }

    // MARK: - Stack

    private mutating func pop() throws -> PickleValue {
        guard let value = stack.popLast(), stack.count >= (marks.last ?? 0) else {
            throw invalid("stack underflow")
        }
        return value
    }

    private mutating func popMark() throws -> [PickleValue] {
        guard let mark = marks.popLast(), mark <= stack.count else { throw invalid("no MARK for a MARK-using opcode") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    private mutating func push(_ value: PickleValue) {
        stack.append(value)
    }

    private func top() throws -> PickleValue {
        guard let value = stack.last, stack.count > (marks.last ?? 0) else { throw invalid("stack underflow") }
        return value
    }

    /// Marks containers placed inside others, so they cannot grow afterwards (keeps depth exact).
    /// Containers inside a tuple were marked when the tuple was built.
    private func nest(_ value: PickleValue) {
        switch value {
        case let .list(list): list.isNested = true
        case let .dict(dict): dict.isNested = true
        default: break
        }
    }

    private mutating func tuple(_ items: [PickleValue]) throws {
        items.forEach(nest)
        let value = PickleValue.tuple(items)
        guard value.depth <= Self.maximumDepth else { throw invalid("nesting deeper than \(Self.maximumDepth)") }
        push(value)
    }

    private func appendTo(_ target: PickleValue, _ items: [PickleValue]) throws {
        guard case let .list(list) = target else { throw invalid("APPEND to a \(target.typeName)") }
        guard !list.isNested else { throw invalid("list modified after being nested") }
        for item in items {
            nest(item)
            list.append(item)
        }
        guard list.depth <= Self.maximumDepth else { throw invalid("nesting deeper than \(Self.maximumDepth)") }
    }

    private func setItems(_ target: PickleValue, _ items: [PickleValue]) throws {
        guard case let .dict(dict) = target else { throw invalid("SETITEM on a \(target.typeName)") }
        guard !dict.isNested else { throw invalid("dict modified after being nested") }
        guard items.count % 2 == 0 else { throw invalid("SETITEMS with an odd number of values") }
        for index in stride(from: 0, to: items.count, by: 2) {
            nest(items[index])
            nest(items[index + 1])
            dict.set(items[index], items[index + 1])
        }
        guard dict.depth <= Self.maximumDepth else { throw invalid("nesting deeper than \(Self.maximumDepth)") }
    }

    // MARK: - Interpreter

    private mutating func run() throws -> PickleValue {
        while true {
            opcodeOffset = position
            let opcode = try read(UInt8.self)
            if opcode == UInt8(ascii: ".") { return try pop() }   // STOP
            var handled = try executeStackOpcode(opcode)
            if !handled { handled = try executeContainerOpcode(opcode) }
            if !handled { handled = try executeObjectOpcode(opcode) }
            guard handled else { throw CheckpointError.unsupportedPickleOpcode(opcode: opcode, offset: opcodeOffset) }
        }
    }

    /// Protocol, marks, scalars, strings, bytes and the memo. False: not one of these opcodes.
    private mutating func executeStackOpcode(_ opcode: UInt8) throws -> Bool {
        switch opcode {
        case 0x80: // PROTO
            let version = try read(UInt8.self)
            guard version <= 5 else { throw invalid("pickle protocol \(version) is newer than 5") }
        case 0x95: // FRAME: a length hint only
            _ = try read(UInt64.self)
        case UInt8(ascii: "("): // MARK
            marks.append(stack.count)
        case UInt8(ascii: "0"): // POP
            _ = try pop()
        case UInt8(ascii: "1"): // POP_MARK
            _ = try popMark()
        case UInt8(ascii: "2"): // DUP
            push(try top())
        case UInt8(ascii: "N"): push(.none)
        case 0x88: push(.bool(true))   // NEWTRUE
        case 0x89: push(.bool(false))  // NEWFALSE
        case UInt8(ascii: "J"): push(.int(Int(try read(Int32.self))))   // BININT
        case UInt8(ascii: "K"): push(.int(Int(try read(UInt8.self))))   // BININT1
        case UInt8(ascii: "M"): push(.int(Int(try read(UInt16.self))))  // BININT2
        case 0x8A: push(try long(try readBytes(Int(try read(UInt8.self)))))  // LONG1
        case 0x8B: push(try long(try readBytes(try readLength(UInt32.self))))  // LONG4
        case UInt8(ascii: "G"): // BINFLOAT, big-endian
            push(.float(Double(bitPattern: try read(UInt64.self).byteSwapped)))
        case UInt8(ascii: "X"): push(.string(try readUTF8(try readLength(UInt32.self))))   // BINUNICODE
        case 0x8C: push(.string(try readUTF8(Int(try read(UInt8.self)))))                 // SHORT_BINUNICODE
        case 0x8D: push(.string(try readUTF8(try readLength(UInt64.self))))               // BINUNICODE8
        case UInt8(ascii: "T"): push(.string(try readLatin1(try readLength(UInt32.self)))) // BINSTRING
        case UInt8(ascii: "U"): push(.string(try readLatin1(Int(try read(UInt8.self)))))  // SHORT_BINSTRING
        case UInt8(ascii: "B"): push(.bytes(try readBytes(try readLength(UInt32.self))))   // BINBYTES
        case UInt8(ascii: "C"): push(.bytes(try readBytes(Int(try read(UInt8.self)))))    // SHORT_BINBYTES
        case 0x8E: push(.bytes(try readBytes(try readLength(UInt64.self))))               // BINBYTES8
        case UInt8(ascii: "q"): memo[Int(try read(UInt8.self))] = try top()   // BINPUT
        case UInt8(ascii: "r"): memo[Int(try read(UInt32.self))] = try top()  // LONG_BINPUT
        case 0x94: memo[memo.count] = try top()                               // MEMOIZE
        case UInt8(ascii: "h"): push(try memoValue(Int(try read(UInt8.self))))   // BINGET
        case UInt8(ascii: "j"): push(try memoValue(Int(try read(UInt32.self))))  // LONG_BINGET
        default: return false
        }
        return true
    }

    /// Tuples, lists and dicts. False: not one of these opcodes.
    private mutating func executeContainerOpcode(_ opcode: UInt8) throws -> Bool {
        switch opcode {
        case UInt8(ascii: ")"): push(.tuple([]))                                           // EMPTY_TUPLE
        case UInt8(ascii: "t"): try tuple(try popMark())                                       // TUPLE
        case 0x85: try tuple([try pop()])                                                      // TUPLE1
        case 0x86: // TUPLE2
            let second = try pop()
            try tuple([try pop(), second])
        case 0x87: // TUPLE3
            let third = try pop()
            let second = try pop()
            try tuple([try pop(), second, third])
        case UInt8(ascii: "]"): push(.list(PickleList()))   // EMPTY_LIST
        case UInt8(ascii: "l"): // LIST
            let items = try popMark()
            items.forEach(nest)
            let list = PickleList(items: items)
            guard list.depth <= Self.maximumDepth else { throw invalid("nesting deeper than \(Self.maximumDepth)") }
            push(.list(list))
        case UInt8(ascii: "a"): // APPEND
            let item = try pop()
            try appendTo(try top(), [item])
        case UInt8(ascii: "e"): // APPENDS
            let items = try popMark()
            try appendTo(try top(), items)
        case UInt8(ascii: "}"): push(.dict(PickleDict()))   // EMPTY_DICT
        case UInt8(ascii: "d"): // DICT
            let items = try popMark()
            let dict = PickleDict()
            try setItems(.dict(dict), items)
            push(.dict(dict))
        case UInt8(ascii: "s"): // SETITEM
            let value = try pop()
            let key = try pop()
            try setItems(try top(), [key, value])
        case UInt8(ascii: "u"): // SETITEMS
            let items = try popMark()
            try setItems(try top(), items)
        default: return false
        }
        return true
    }

    /// Globals, calls, objects and persistent ids (tensor storages). False: not one of these opcodes.
    private mutating func executeObjectOpcode(_ opcode: UInt8) throws -> Bool {
        switch opcode {
        case UInt8(ascii: "c"): // GLOBAL
            let module = try readLine()
            let name = try readLine()
            push(.global(try PickleGlobal(module: module, name: name)))
        case 0x93: // STACK_GLOBAL
            let name = try pop()
            let module = try pop()
            guard let moduleName = module.asString, let globalName = name.asString else {
                throw invalid("STACK_GLOBAL needs two strings")
            }
            push(.global(try PickleGlobal(module: moduleName, name: globalName)))
        case UInt8(ascii: "R"): // REDUCE
            let arguments = try pop()
            let callable = try pop()
            guard case let .tuple(items, _) = arguments else { throw invalid("REDUCE arguments are not a tuple") }
            push(try call(callable, items))
        case 0x81: // NEWOBJ: cls.__new__(cls, *args); only OrderedDict qualifies
            let arguments = try pop()
            let callable = try pop()
            guard case .global(.orderedDict) = callable, case .tuple = arguments else {
                throw invalid("NEWOBJ of a \(callable.typeName): not a plain state dict")
            }
            push(.dict(PickleDict()))
        case UInt8(ascii: "b"): // BUILD: state for OrderedDict (`_metadata`) or Parameter; ignored
            _ = try pop()
            switch try top() {
            case .dict, .tensor: break
            case let other: throw invalid("BUILD on a \(other.typeName): not a plain state dict")
            }
        case UInt8(ascii: "Q"): // BINPERSID
            let id = try pop()
            push(try persistentLoad(id))
        default: return false
        }
        return true
    }

    private func memoValue(_ index: Int) throws -> PickleValue {
        guard let value = memo[index] else { throw invalid("memo entry \(index) is not defined") }
        return value
    }

    /// LONG1/LONG4: little-endian two's complement.
    private func long(_ bytes: [UInt8]) throws -> PickleValue {
        guard bytes.count <= 8 else { return .bigInt(bytes) }
        guard let last = bytes.last else { return .int(0) }
        var value: UInt64 = last & 0x80 != 0 ? ~0 : 0
        for byte in bytes.reversed() { value = (value << 8) | UInt64(byte) }
        return .int(Int(truncatingIfNeeded: value))
    }

    /// The only calls a state dict needs, interpreted rather than executed.
    private func call(_ callable: PickleValue, _ arguments: [PickleValue]) throws -> PickleValue {
        guard case let .global(function) = callable else {
            throw invalid("REDUCE calls a \(callable.typeName), not an allowed global")
        }
        switch function {
        case .orderedDict:
            let dict = PickleDict()
            if case let .list(pairs)? = arguments.first {
                for pair in pairs.items {
                    guard case let .tuple(items, _) = pair, items.count == 2 else {
                        throw invalid("OrderedDict argument is not a list of pairs")
                    }
                    dict.set(items[0], items[1])
                }
            }
            return .dict(dict)
        case .rebuildTensor, .rebuildTensorV2:
            guard arguments.count >= 4, case let .storage(storage) = arguments[0],
                  let offset = arguments[1].asInt, let shape = arguments[2].asIntTuple,
                  let strides = arguments[3].asIntTuple else {
                throw invalid("tensor rebuild expects (storage, offset, size, stride, ...)")
            }
            guard offset >= 0 else { throw invalid("negative storage offset \(offset)") }
            return .tensor(TensorReference(storage: storage, storageOffset: offset, shape: shape, strides: strides))
        case .rebuildParameter, .rebuildParameterWithState:
            // Parameter(data, requires_grad, hooks[, state]): the data is the tensor.
            guard let data = arguments.first, case .tensor = data else {
                throw invalid("Parameter rebuild without a tensor")
            }
            return data
        case .storageType, .dtype:
            throw invalid("calling a torch type is not part of a plain state dict")
        }
    }
}
