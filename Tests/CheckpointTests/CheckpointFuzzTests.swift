import Foundation
import XCTest
import Checkpoint

/// Mutated checkpoints must either load (and then read without crashing) or throw a
/// CheckpointError: truncations, seeded byte flips, header-length and JSON edits.
final class CheckpointFuzzTests: XCTestCase {
    private struct Tally {
        var loaded = 0
        var rejected = 0
        var total: Int { loaded + rejected }
    }

    /// Opens one mutated file; any error other than CheckpointError fails the test.
    private func check(_ bytes: [UInt8], _ label: @autoclosure () -> String, _ tally: inout Tally) {
        do {
            let archive = try CheckpointArchive.parse(bytes)
            for name in archive.tensorNames {
                guard let info = archive.info(name) else { return XCTFail("\(label()): no info for \(name)") }
                let values = try archive.float32(name)
                XCTAssertEqual(values.count, info.elementCount, label())
                if let view = archive.float32Storage(name) { XCTAssertEqual(view.count, info.elementCount, label()) }
            }
            tally.loaded += 1
        } catch is CheckpointError {
            tally.rejected += 1
        } catch {
            XCTFail("\(label()): unexpected error type \(type(of: error)): \(error)")
        }
    }

    /// Truncations at `lengths`, then `flips` mutations of 1-4 random bytes; half of the flips
    /// land in `hotRegions` (headers, pickles, zip directories) where parsing happens.
    private func mutate(_ original: [UInt8], name: String, lengths: [Int], flips: Int, hotRegions: [Range<Int>],
                        seed: UInt64, _ tally: inout Tally) {
        for length in lengths where length < original.count {
            check(Array(original.prefix(length)), "\(name) truncated to \(length)", &tally)
        }
        var generator = SeededGenerator(seed: seed)
        var bytes = original
        for round in 0..<flips {
            var changed: [(Int, UInt8)] = []
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let region = round % 2 == 0 && !hotRegions.isEmpty
                    ? hotRegions[Int.random(in: 0..<hotRegions.count, using: &generator)] : 0..<original.count
                guard !region.isEmpty else { continue }
                let position = Int.random(in: region, using: &generator)
                changed.append((position, bytes[position]))
                bytes[position] = round % 3 == 0 ? bytes[position] ^ (1 << UInt8.random(in: 0...7, using: &generator))
                                                 : UInt8.random(in: 0...255, using: &generator)
            }
            check(bytes, "\(name) flip round \(round) at \(changed.map(\.0))", &tally)
            for (position, value) in changed.reversed() { bytes[position] = value }
        }
    }

    /// Edits of the 8-byte length and of the JSON text of a safetensors file.
    private func mutateSafetensorsHeader(_ original: [UInt8], name: String, seed: UInt64, _ tally: inout Tally) {
        let headerLength = Int(original[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * $1.offset) })
        let lengths: [UInt64] = [0, 1, 2, 7, 8, UInt64(headerLength - 1), UInt64(headerLength + 1),
                                 UInt64(original.count - 8), UInt64(original.count), UInt64(original.count + 1),
                                 100 * 1024 * 1024, 100 * 1024 * 1024 + 1, UInt64(Int.max), UInt64.max, 1 << 63]
        for length in lengths {
            var bytes = original
            bytes.replaceSubrange(0..<8, with: littleEndianBytes(length))
            check(bytes, "\(name) header length \(length)", &tally)
        }
        let header = 8..<(8 + headerLength)
        let replacements = Array("{}[]\",:0123456789-.eE aFIU\\".utf8) + [0x00, 0xFF]
        var generator = SeededGenerator(seed: seed)
        for round in 0..<600 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let position = Int.random(in: header, using: &generator)
                bytes[position] = replacements[Int.random(in: 0..<replacements.count, using: &generator)]
            }
            check(bytes, "\(name) JSON edit \(round)", &tally)
        }
        // Digits replaced by large numbers: offsets and shapes that overflow or run past the end.
        let text = String(decoding: original[header], as: UTF8.self)
        for (index, big) in ["9223372036854775807", "18446744073709551616", "4611686018427387904", "-1", "1e3"]
            .enumerated() {
            var edited = text
            if let range = edited.range(of: index % 2 == 0 ? "\"data_offsets\":[" : "\"shape\":[") {
                edited.insert(contentsOf: big + ",", at: range.upperBound)
            }
            let editedHeader = Array(edited.utf8)
            check(littleEndianBytes(UInt64(editedHeader.count)) + editedHeader + original[header.upperBound...],
                  "\(name) number edit \(big)", &tally)
        }
    }

    func testGeneratedFixturesSurviveMutation() throws {
        var tally = Tally()
        let fixtures: [(String, [UInt8])] = [
            ("safetensors-f32", try SampleCheckpoints.safetensors(.float32)),
            ("safetensors-f16", try SampleCheckpoints.safetensors(.float16)),
            ("torch-zip", SampleCheckpoints.torchZip()),
            ("torch-zip64", SampleCheckpoints.torchZip(zip64: true)),
            ("torch-zip-nested", SampleCheckpoints.torchZip(nestKey: "state_dict")),
            ("torch-legacy", SampleCheckpoints.torchLegacy()),
        ]
        for (index, (name, bytes)) in fixtures.enumerated() {
            // The intact file must load, or the mutations below test nothing.
            XCTAssertNoThrow(try CheckpointArchive.parse(bytes), name)
            let hot = name.hasPrefix("torch-zip") ? [0..<min(bytes.count, 1200), max(0, bytes.count - 600)..<bytes.count]
                                                  : [0..<min(bytes.count, 600)]
            mutate(bytes, name: name, lengths: Array(0..<bytes.count), flips: 1500, hotRegions: hot,
                   seed: UInt64(index + 1), &tally)
            if name.hasPrefix("safetensors") { mutateSafetensorsHeader(bytes, name: name, seed: 99, &tally) }
        }
        print("generated-fixture fuzz: \(tally.total) cases, \(tally.loaded) loaded, \(tally.rejected) rejected "
            + "with CheckpointError")
        XCTAssertGreaterThan(tally.total, 10_000)
        XCTAssertGreaterThan(tally.loaded, 0, "flips in tensor data leave files loadable")
        XCTAssertGreaterThan(tally.rejected, 0, "truncations must be rejected")
    }

    func testReferenceFixturesSurviveMutation() throws {
        var tally = Tally()
        let paths = ["tiny-safetensors/model.safetensors", "tiny-fp16.safetensors", "tiny-bf16.safetensors",
                     "tiny-zip.model", "tiny-legacy.model", "tiny-gamma-beta.bin"]
        for (index, path) in paths.enumerated() {
            let bytes = [UInt8](try Data(contentsOf: try SharedFixtures.referenceModel(path)))
            // Structure lives in the first few kilobytes (headers, pickles) and, for zips, the tail.
            var lengths = Array(stride(from: 0, to: 6200, by: 97))
            lengths += [bytes.count - 1, bytes.count - 22, bytes.count - 23, bytes.count - 100, bytes.count / 2]
            let hot = path.hasSuffix(".model") && path.contains("zip")
                ? [0..<4600, (bytes.count - 4000)..<bytes.count] : [0..<6200]
            mutate(bytes, name: path, lengths: lengths, flips: 150, hotRegions: hot, seed: UInt64(100 + index), &tally)
            if path.hasSuffix(".safetensors") { mutateSafetensorsHeader(bytes, name: path, seed: 7, &tally) }
        }
        print("reference-fixture fuzz: \(tally.total) cases, \(tally.loaded) loaded, \(tally.rejected) rejected "
            + "with CheckpointError")
        XCTAssertGreaterThan(tally.total, 1_000)
    }
}
