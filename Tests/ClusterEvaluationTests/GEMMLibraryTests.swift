import Foundation
import XCTest
@testable import Cluster
@testable import ClusterEvaluation
import Evaluation
import Kernels

/// One run's numbers come from one GEMM library: the coordinator's, sent in the job, used by every worker
/// whatever its own environment or CPU would pick, and compared by `--resume`. (The job and model
/// fixtures are StreamedExamplesTests'.)
extension StreamedExamplesTests {
    func testWorkersComputeWithTheCoordinatorsLibraryAndTheirOwnThreads() throws {
        let identity = try identity(), job = try job(rows: 3, in: "gemm")
        for coordinators in GEMMBackend.allCases {
            let sent = try ClusterJobPayload(job: job, modelIdentity: identity, shipped: nil, gemm: coordinators).encoded()
            let worker = EvaluationWorker(localModel: nil, cacheRoot: nil, threads: 3, log: { _ in })
            XCTAssertEqual(worker.context(for: try ClusterJobPayload.decode(sent)), ComputeContext(backend: coordinators, threads: 3))
        }
    }

    func testResumeRefusesALogOfAnotherLibraryAndOneDNNLogsStillResume() throws {
        let job = try job(rows: 3, in: "gemm-resume")
        // The attention kernel held at the sgemm path, which both libraries run (its own test is below).
        let onednn = try RunIdentity.options(job, gemm: .onednn, attention: .gemm)
        let openblas = try RunIdentity.options(job, gemm: .openblas, attention: .gemm)
        XCTAssertNil(onednn["gemm"], "a oneDNN run fingerprints as logs written before the library was compared")
        XCTAssertEqual(openblas["gemm"], "openblas")
        XCTAssertEqual(onednn, openblas.filter { $0.key != "gemm" })

        let url = folder.appendingPathComponent("results.log.jsonl")
        func fingerprint(_ options: [String: String]) -> ManifestFingerprint {
            ManifestFingerprint(modelHash: "sha256:m", dataHash: job.plan.dataHash, options: options, seed: 0)
        }
        do {
            let (log, _) = try ResultsLog.open(url, fingerprint: fingerprint(onednn), resume: false)
            try log.append(index: 0, attempt: 1, result: .done(Data("{}".utf8)))
            try log.commit()
        }
        // oneDNN is left out of the options, but it was set (or preferred): the refusal says so, not "unset".
        XCTAssertThrowsError(try ResultsLog.open(url, fingerprint: fingerprint(openblas),
                                                 optionDefaults: RunIdentity.optionDefaults, resume: true)) { error in
            XCTAssertTrue("\(error)".contains("gemm: onednn in the log, openblas now"), "\(error)")
        }
        let other = folder.appendingPathComponent("openblas.log.jsonl")
        do {
            let (log, _) = try ResultsLog.open(other, fingerprint: fingerprint(openblas), resume: false)
            try log.append(index: 0, attempt: 1, result: .done(Data("{}".utf8)))
            try log.commit()
        }
        XCTAssertThrowsError(try ResultsLog.open(other, fingerprint: fingerprint(onednn),
                                                 optionDefaults: RunIdentity.optionDefaults, resume: true)) { error in
            XCTAssertTrue("\(error)".contains("gemm: openblas in the log, onednn now"), "\(error)")
        }
        let (_, done) = try ResultsLog.open(url, fingerprint: fingerprint(onednn), resume: true)
        XCTAssertEqual(done.keys.sorted(), [0])
    }

    /// The attention kernel is part of a run as the library is: sent in the job (a job without it means the sgemm
    /// path, all that ran before the fused kernel) and compared by `--resume` unless it is the sgemm path.
    func testWorkersUseTheCoordinatorsAttentionKernelAndResumeComparesIt() throws {
        let identity = try identity(), job = try job(rows: 3, in: "attention")
        let worker = EvaluationWorker(localModel: nil, cacheRoot: nil, threads: 1, log: { _ in })
        for kernel in AttentionKernel.allCases {
            let sent = try ClusterJobPayload(job: job, modelIdentity: identity, shipped: nil, gemm: .onednn,
                                             attention: kernel).encoded()
            XCTAssertEqual(worker.context(for: try ClusterJobPayload.decode(sent)).attention, kernel)
        }
        var older = try ClusterJobPayload(job: job, modelIdentity: identity, shipped: nil, gemm: .onednn)
        older.attention = nil
        let olderBytes = try older.encoded()
        XCTAssertFalse(String(decoding: olderBytes, as: UTF8.self).contains("\"attention\""))
        XCTAssertEqual(worker.context(for: try ClusterJobPayload.decode(olderBytes)).attention, .gemm)

        func option(_ kernel: AttentionKernel, _ gemm: GEMMBackend) throws -> String? {
            try RunIdentity.options(job, gemm: gemm, attention: kernel)["attention"]
        }
        XCTAssertNil(try option(.gemm, .onednn), "the sgemm path fingerprints as logs from before the fused kernel")
        XCTAssertNil(try option(.automatic, .openblas), "automatic is the sgemm path with OpenBLAS")
        XCTAssertEqual(try option(.automatic, .onednn), "automatic")
        XCTAssertEqual(try option(.fused, .openblas), "fused")

        let url = folder.appendingPathComponent("attention.log.jsonl")
        func fingerprint(_ kernel: AttentionKernel) throws -> ManifestFingerprint {
            ManifestFingerprint(modelHash: "sha256:m", dataHash: job.plan.dataHash,
                                options: try RunIdentity.options(job, gemm: .onednn, attention: kernel), seed: 0)
        }
        do {
            let (log, _) = try ResultsLog.open(url, fingerprint: try fingerprint(.gemm), resume: false)
            try log.append(index: 0, attempt: 1, result: .done(Data("{}".utf8)))
            try log.commit()
        }
        XCTAssertThrowsError(try ResultsLog.open(url, fingerprint: try fingerprint(.automatic),
                                                 optionDefaults: RunIdentity.optionDefaults, resume: true)) { error in
            XCTAssertTrue("\(error)".contains("attention: gemm in the log, automatic now"), "\(error)")
        }
        let (_, done) = try ResultsLog.open(url, fingerprint: try fingerprint(.gemm), resume: true)
        XCTAssertEqual(done.keys.sorted(), [0])
    }
}
