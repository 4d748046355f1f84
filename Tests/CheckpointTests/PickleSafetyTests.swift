import Foundation
import XCTest
@testable import Checkpoint

/// The pickle reader must never "execute" anything outside the state-dict vocabulary.
final class PickleSafetyTests: XCTestCase {
    /// `os.system("echo pwned")` as pickle would call it: GLOBAL, argument tuple, REDUCE.
    private func maliciousPickle(module: String, name: String, stackGlobal: Bool = false) -> [UInt8] {
        var pickle = PickleWriter()
        pickle.proto(stackGlobal ? 4 : 2)
        if stackGlobal {
            pickle.op(0x8C); pickle.bytes += [UInt8(module.utf8.count)] + Array(module.utf8)
            pickle.op(0x8C); pickle.bytes += [UInt8(name.utf8.count)] + Array(name.utf8)
            pickle.op(0x93)
        } else {
            pickle.global(module, name)
        }
        pickle.mark()
        pickle.string("echo pwned")
        pickle.op("t")
        pickle.op("R")
        pickle.stop()
        return pickle.bytes
    }

    private func assertRefused(_ bytes: [UInt8], module: String, name: String, file: StaticString = #filePath,
                               line: UInt = #line) {
        XCTAssertThrowsError(try CheckpointArchive.parse(bytes), file: file, line: line) { error in
            guard let error = error as? CheckpointError,
                  case let .unsupportedPickleGlobal(foundModule, foundName) = error.underlying else {
                return XCTFail("expected a refused global, got \(error)", file: file, line: line)
            }
            XCTAssertEqual(foundModule, module, file: file, line: line)
            XCTAssertEqual(foundName, name, file: file, line: line)
            XCTAssertTrue(error.description.contains("\(module).\(name)"), file: file, line: line)
            XCTAssertTrue(error.description.contains("not a plain state dict"), file: file, line: line)
        }
    }

    func testForbiddenGlobalInZipIsRefused() {
        let zip = TorchFileBuilder.torchZip([], storages: [:], pickle: maliciousPickle(module: "os", name: "system"))
        assertRefused(zip, module: "os", name: "system")
        let stackGlobal = TorchFileBuilder.torchZip([], storages: [:],
            pickle: maliciousPickle(module: "builtins", name: "eval", stackGlobal: true))
        assertRefused(stackGlobal, module: "builtins", name: "eval")
    }

    func testForbiddenGlobalInLegacyIsRefused() {
        let legacy = TorchFileBuilder.torchLegacy([], storages: [],
                                                  mainPickle: maliciousPickle(module: "posix", name: "system"))
        assertRefused(legacy, module: "posix", name: "system")
    }

    func testUnknownOpcodeIsNamedWithItsOffset() {
        var pickle = PickleWriter()
        pickle.proto()
        pickle.op("}")
        pickle.op("I")  // text-mode INT: outside the supported subset
        pickle.bytes += Array("12\n".utf8)
        pickle.stop()
        let zip = TorchFileBuilder.torchZip([], storages: [:], pickle: pickle.bytes)
        XCTAssertThrowsError(try CheckpointArchive.parse(zip)) { error in
            guard case let .unsupportedPickleOpcode(opcode, offset)? = (error as? CheckpointError)?.underlying else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(opcode, UInt8(ascii: "I"))
            XCTAssertEqual(offset, 3)
            XCTAssertTrue("\(error)".contains("0x49 'I' at offset 3"), "\(error)")
        }
    }

    func testPickleValuesAndMemo() throws {
        // {"a": [1, -2, 3.5, True, None, b"\x01"], "b": <memo of the list>, "big": 2**70}
        var pickle = PickleWriter()
        pickle.proto()
        pickle.op("}")
        pickle.mark()
        pickle.string("a")
        pickle.op("]")
        pickle.mark()
        pickle.int(1)
        pickle.op("J"); pickle.bytes += littleEndianBytes(Int32(-2))
        pickle.op("G"); pickle.bytes += withUnsafeBytes(of: Double(3.5).bitPattern.bigEndian) { Array($0) }
        pickle.op(0x88)
        pickle.op("N")
        pickle.op("C"); pickle.bytes += [1, 1]
        pickle.op("e")
        pickle.op("q"); pickle.bytes += [7]
        pickle.string("b")
        pickle.op("h"); pickle.bytes += [7]
        pickle.string("big")
        pickle.op(0x8A); pickle.bytes += [9, 0, 0, 0, 0, 0, 0, 0, 0, 0x40]
        pickle.string("neg")
        pickle.op(0x8A); pickle.bytes += [2, 0x00, 0xFF]  // -256
        pickle.op("u")
        pickle.stop()
        let bytes = pickle.bytes
        let store = ByteStore.copy(of: bytes)
        let (value, length) = try PickleMachine.load(store.view)
        XCTAssertEqual(length, bytes.count)
        guard case let .dict(dict) = value else { return XCTFail("not a dict") }
        XCTAssertEqual(dict.pairs.compactMap { $0.key.asString }, ["a", "b", "big", "neg"])
        guard case let .list(list) = dict.pairs[0].value, case let .list(same) = dict.pairs[1].value else {
            return XCTFail("lists expected")
        }
        XCTAssertTrue(list === same, "BINGET must return the memoized object")
        XCTAssertEqual(list.items.count, 6)
        XCTAssertEqual(list.items[1].asInt, -2)
        if case let .float(value) = list.items[2] { XCTAssertEqual(value, 3.5) } else { XCTFail("float") }
        if case .bigInt = dict.pairs[2].value {} else { XCTFail("2**70 must stay a big integer") }
        XCTAssertEqual(dict.pairs[3].value.asInt, -256)
    }

    func testDeepNestingIsRefused() {
        var pickle = PickleWriter()
        pickle.proto()
        pickle.op("N")
        for _ in 0..<10_000 { pickle.op(0x85) }  // TUPLE1, nested 10,000 deep
        pickle.stop()
        let store = ByteStore.copy(of: pickle.bytes)
        XCTAssertThrowsError(try PickleMachine.load(store.view)) { error in
            XCTAssertTrue("\(error)".contains("nesting"), "\(error)")
        }
    }

    /// Shared references must not make the interpreter quadratic: a 50,000-item tuple
    /// referenced 50,000 times is 2.5e9 items if walked naively.
    func testRepeatedReferencesStayLinear() throws {
        var pickle = PickleWriter()
        pickle.proto()
        pickle.mark()
        for _ in 0..<50_000 { pickle.int(1) }
        pickle.op("t")
        pickle.op("q"); pickle.bytes += [0]
        pickle.mark()
        for _ in 0..<50_000 { pickle.op("h"); pickle.bytes += [0] }
        pickle.op("t")
        pickle.stop()
        let store = ByteStore.copy(of: pickle.bytes)
        let start = Date()
        let (value, _) = try PickleMachine.load(store.view)
        XCTAssertEqual(value.depth, 3)
        XCTAssertLessThan(Date().timeIntervalSince(start), 2, "interpreting took superlinear time")
    }

    func testContainersCannotGrowAfterNesting() {
        // l = []; outer = [l]; l.append(1): a recursive-structure trick no state dict needs.
        var pickle = PickleWriter()
        pickle.proto()
        pickle.op("]"); pickle.op("q"); pickle.bytes += [0]
        pickle.op("]"); pickle.op("h"); pickle.bytes += [0]; pickle.op("a")
        pickle.op("h"); pickle.bytes += [0]; pickle.int(1); pickle.op("a")
        pickle.stop()
        let store = ByteStore.copy(of: pickle.bytes)
        XCTAssertThrowsError(try PickleMachine.load(store.view)) { error in
            XCTAssertTrue("\(error)".contains("modified after being nested"), "\(error)")
        }
    }
}
