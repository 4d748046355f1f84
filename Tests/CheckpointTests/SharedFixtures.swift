import Foundation
import XCTest

/// Locates the read-only `shared/` folder beside the package root (or `$IBA_SHARED`). It is
/// absent on users' machines, so tests that need it skip with a clear message.
enum SharedFixtures {
    static var root: URL {
        if let override = ProcessInfo.processInfo.environment["IBA_SHARED"], !override.isEmpty {
            return URL(fileURLWithPath: override)
        }
        // Tests/CheckpointTests/<file>.swift -> package root -> ../shared
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }

    static func referenceModel(_ relativePath: String) throws -> URL {
        let url = root.appendingPathComponent("reference/models").appendingPathComponent(relativePath)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw XCTSkip("shared reference fixture \(relativePath) not found under \(root.path) "
                + "(set IBA_SHARED to the shared/ folder to run this test)")
        }
        return url
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
