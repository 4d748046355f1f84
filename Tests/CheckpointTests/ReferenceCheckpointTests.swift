import Foundation
import TestSupport
import XCTest
import Checkpoint

/// The tiny BERT saved by PyTorch in every format (shared/reference/models): all must read
/// to the same tensors. Skips when shared/ is absent.
final class ReferenceCheckpointTests: XCTestCase {
    private func open(_ path: String) throws -> CheckpointArchive {
        try CheckpointArchive.open(try SharedFixtures.referenceModel(path))
    }

    /// Every tensor of the float32 safetensors file, the reference for the other formats.
    private func referenceTensors() throws -> (CheckpointArchive, [String: [Float]]) {
        let archive = try open("tiny-safetensors/model.safetensors")
        var values: [String: [Float]] = [:]
        for name in archive.tensorNames { values[name] = try archive.float32(name) }
        return (archive, values)
    }

    private func firstMismatch(_ actual: [Float], _ expected: [Float]) -> String? {
        guard actual.count == expected.count else { return "\(actual.count) values instead of \(expected.count)" }
        guard let index = actual.indices.first(where: { actual[$0].bitPattern != expected[$0].bitPattern }) else {
            return nil
        }
        return "element \(index): \(actual[index]) instead of \(expected[index])"
    }

    func testEveryFormatIsDetected() throws {
        let expectations: [(String, CheckpointFormat)] = [
            ("tiny-safetensors/model.safetensors", .safetensors), ("tiny-bin/pytorch_model.bin", .torchZip),
            ("tiny-zip.model", .torchZip), ("tiny-legacy.model", .torchLegacy),
            ("tiny-gamma-beta.bin", .torchLegacy), ("tiny-fp16.safetensors", .safetensors),
            ("tiny-bf16.safetensors", .safetensors), ("tiny-encoder-only/model.safetensors", .safetensors),
        ]
        for (path, format) in expectations {
            let archive = try open(path)
            XCTAssertEqual(archive.format, format, path)
            XCTAssertEqual(archive.tensorNames.count, path.contains("encoder-only") ? 39 : 41, path)
        }
    }

    func testTorchFilesMatchSafetensorsExactly() throws {
        let (reference, values) = try referenceTensors()
        XCTAssertTrue(values.keys.contains("bert.embeddings.word_embeddings.weight"))
        XCTAssertTrue(values.keys.contains("classifier.weight"))
        for path in ["tiny-bin/pytorch_model.bin", "tiny-zip.model", "tiny-legacy.model"] {
            let archive = try open(path)
            XCTAssertEqual(archive.tensorNames, reference.tensorNames, path)
            for name in reference.tensorNames {
                XCTAssertEqual(archive.info(name), reference.info(name), "\(path) \(name)")
                if let mismatch = firstMismatch(try archive.float32(name), values[name] ?? []) {
                    XCTFail("\(path) \(name): \(mismatch)")
                }
            }
        }
    }

    func testGammaBetaNamesHoldTheSameValues() throws {
        let (reference, values) = try referenceTensors()
        let archive = try open("tiny-gamma-beta.bin")
        // The reader does not rename; the old LayerNorm names are what the file holds.
        func oldName(_ name: String) -> String {
            guard name.contains("LayerNorm.") else { return name }
            return name.replacingOccurrences(of: "LayerNorm.weight", with: "LayerNorm.gamma")
                .replacingOccurrences(of: "LayerNorm.bias", with: "LayerNorm.beta")
        }
        XCTAssertEqual(archive.tensorNames, reference.tensorNames.map(oldName).sorted())
        XCTAssertTrue(archive.tensorNames.contains("bert.embeddings.LayerNorm.gamma"))
        for name in reference.tensorNames {
            if let mismatch = firstMismatch(try archive.float32(oldName(name)), values[name] ?? []) {
                XCTFail("\(name): \(mismatch)")
            }
        }
    }

    func testEncoderOnlyIsTheBertPartWithoutPrefix() throws {
        let (_, values) = try referenceTensors()
        let archive = try open("tiny-encoder-only/model.safetensors")
        let expectedNames = values.keys.filter { $0.hasPrefix("bert.") }.map { String($0.dropFirst(5)) }.sorted()
        XCTAssertEqual(archive.tensorNames, expectedNames)
        for name in archive.tensorNames {
            if let mismatch = firstMismatch(try archive.float32(name), values["bert." + name] ?? []) {
                XCTFail("\(name): \(mismatch)")
            }
        }
    }

    func testHalfPrecisionFilesAreTheRoundedFloat32Values() throws {
        let (reference, values) = try referenceTensors()
        for (path, dtype) in [("tiny-fp16.safetensors", DType.float16), ("tiny-bf16.safetensors", .bfloat16)] {
            let archive = try open(path)
            XCTAssertEqual(archive.tensorNames, reference.tensorNames, path)
            for name in reference.tensorNames {
                XCTAssertEqual(archive.info(name)?.dtype, dtype, "\(path) \(name)")
                let rounded = (values[name] ?? []).map {
                    dtype == .float16 ? HalfPrecision.roundedToFloat16($0) : HalfPrecision.roundedToBFloat16($0)
                }
                if let mismatch = firstMismatch(try archive.float32(name), rounded) {
                    XCTFail("\(path) \(name): \(mismatch)")
                }
            }
        }
    }

    func testFloat32FilesAreZeroCopy() throws {
        let (reference, values) = try referenceTensors()
        for path in ["tiny-safetensors/model.safetensors", "tiny-zip.model"] {
            let archive = try path == "tiny-zip.model" ? open(path) : reference
            for name in archive.tensorNames {
                guard let view = archive.float32Storage(name) else {
                    XCTFail("\(path) \(name): expected an aligned zero-copy view")
                    continue
                }
                if let mismatch = firstMismatch(Array(view), values[name] ?? []) { XCTFail("\(name): \(mismatch)") }
            }
        }
    }

    func testRealHalfPrecisionClassifierLoads() throws {
        let url = try Shared.url("models/minilm-agnews/model.safetensors")
        let archive = try CheckpointArchive.open(url)
        XCTAssertGreaterThan(archive.tensorNames.count, 50)
        let floating = archive.tensorInfos.filter { $0.dtype.isFloatingPoint }
        XCTAssertFalse(floating.isEmpty)
        for info in floating {
            let values = try archive.float32(info.name)
            XCTAssertEqual(values.count, info.elementCount)
            XCTAssertTrue(values.allSatisfy(\.isFinite), info.name)
        }
    }
}
