import XCTest
import CKernels
@testable import Kernels

/// `IBA_GEMM` picks the GEMM library; unset or `auto`, the one that is faster on this CPU.
final class ComputeContextTests: XCTestCase {
    func testTheEnvironmentNamesTheLibraryOrLeavesTheChoiceToTheCPU() {
        XCTAssertEqual(ComputeContext.fromEnvironment(threads: 1, environment: ["IBA_GEMM": "openblas"]).backend, .openblas)
        XCTAssertEqual(ComputeContext.fromEnvironment(threads: 1, environment: ["IBA_GEMM": "onednn"]).backend, .onednn)
        XCTAssertEqual(ComputeContext.fromEnvironment(threads: 1, environment: [:]).backend, .preferred)
        XCTAssertEqual(ComputeContext.fromEnvironment(threads: 1, environment: ["IBA_GEMM": "auto"]).backend, .preferred)
        XCTAssertEqual(ComputeContext().backend, .preferred)
        XCTAssertEqual(ComputeContext.fromEnvironment(threads: 3, environment: [:]).threads, 3)
    }

    func testOneDNNIsPreferredExactlyWhereItHasAVX512Kernels() throws {
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        guard let line = flags.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else {
            throw XCTSkip("no /proc/cpuinfo flags here")
        }
        // avx512_core in oneDNN's terms: AVX-512 F, BW, VL and DQ.
        let words = Set(line.split(separator: " ").map(String.init))
        let avx512 = ["avx512f", "avx512bw", "avx512vl", "avx512dq"].allSatisfy(words.contains)
        XCTAssertEqual(iba_onednn_avx512() != 0, avx512)
        XCTAssertEqual(GEMMBackend.preferred, avx512 ? .onednn : .openblas)
    }

    func testBenchmarkLogsNameTheKernelsEachLibraryRuns() {
        let isa = GEMMBackend.onednn.kernelsName
        XCTAssertEqual(isa.hasPrefix("avx512"), iba_onednn_avx512() != 0, isa)
        XCTAssertNotEqual(isa, "other")
        XCTAssertFalse(GEMMBackend.openblas.kernelsName.isEmpty)
        XCTAssertNotEqual(GEMMBackend.openblas.kernelsName, "unknown")
    }
}
