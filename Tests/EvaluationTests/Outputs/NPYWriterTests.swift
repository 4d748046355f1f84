import Foundation
import XCTest
@testable import Evaluation

/// Parses an .npy v1.0 header independently of the writer.
struct ParsedNPY {
    var headerLength: Int
    var header: String
    var payload: [UInt8]

    init(_ bytes: [UInt8]) throws {
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8), bytes[6] == 1, bytes[7] == 0
        else { throw EvaluationError.mismatchedInput("not an .npy v1.0 file") }
        headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        header = String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self)
        payload = Array(bytes[(10 + headerLength)...])
    }

    /// The dict text without NumPy's trailing padding.
    var dictionary: String { String(header.prefix { $0 != "}" }) + "}" }
}

final class NPYWriterTests: XCTestCase {
    // Headers and payloads of np.save(...) printed by NumPy 2.4 by hand: every
    // header is 118 bytes (data at 128) and ends with spaces and one newline.
    func testBytesMatchNumPy() throws {
        let cases: [(NPYArray, String, String)] = [
            (try NPYArray(float32: [1.5, -2.0]), "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", "0000c03f000000c0"),
            (try NPYArray(float64: [0.8271005272865295], shape: []), "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", "666666869b77ea3f"),
            (try NPYArray(bool: [true, false, true, false, false, true], shape: [2, 3]),
             "{'descr': '|b1', 'fortran_order': False, 'shape': (2, 3), }", "010001000001"),
            (try NPYArray(int64: [1, -2, 3, 4, 5, 6], shape: [3, 2]), "{'descr': '<i8', 'fortran_order': False, 'shape': (3, 2), }",
             "0100000000000000feffffffffffffff0300000000000000040000000000000005000000000000000600000000000000"),
            (try NPYArray(float64: []), "{'descr': '<f8', 'fortran_order': False, 'shape': (0,), }", ""),
        ]
        for (array, dictionary, payloadHex) in cases {
            let parsed = try ParsedNPY(array.fileBytes)
            XCTAssertEqual(parsed.headerLength, 118, dictionary)
            XCTAssertEqual(parsed.dictionary, dictionary)
            XCTAssertTrue(parsed.header.hasSuffix(" \n"))
            XCTAssertEqual(parsed.header.dropFirst(dictionary.count).dropLast().filter { $0 != " " }, "")
            XCTAssertEqual(parsed.payload.map { String(format: "%02x", $0) }.joined(), payloadHex, dictionary)
        }
    }

    func testShapeMustMatchCount() {
        XCTAssertThrowsError(try NPYArray(float32: [1, 2, 3], shape: [2, 2]))
    }
}
