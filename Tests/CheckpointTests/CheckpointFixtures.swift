import Foundation
import XCTest
import TestSupport

/// A reference model under the shared folder's reference/models, or a skip.
enum SharedFixtures {
    static func referenceModel(_ relativePath: String) throws -> URL {
        try Shared.url("reference/models/" + relativePath)
    }
}

/// A small deterministic generator (SplitMix64) so fuzz cases are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func temporaryFile(_ name: String, _ bytes: [UInt8]) throws -> URL {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("checkpoint-tests-\(ProcessInfo.processInfo.processIdentifier)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let url = directory.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url
}

func littleEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

func float32Bytes(_ values: [Float]) -> [UInt8] { values.flatMap { littleEndianBytes($0.bitPattern) } }
