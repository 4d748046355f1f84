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
        let onednn = try RunIdentity.options(job, gemm: .onednn), openblas = try RunIdentity.options(job, gemm: .openblas)
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
}
