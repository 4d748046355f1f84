// swift-tools-version:6.0
import PackageDescription

// Module graph (each imports only what is below it):
//   CBLAS, CZMQ            system libraries (OpenBLAS, libzmq)
//   CSpawn                 posix_spawn's close-from action (glibc declares it only under _GNU_SOURCE)
//   CKernels               vectorised elementwise C kernels (exp, erf, GELU, softmax rows), oneDNN GEMM
//   Kernels                flat-buffer forward/backward kernels (oneDNN or OpenBLAS GEMMs, SIMD), run in an explicit ComputeContext
//   Digest                 SHA-256 and HMAC over swift-crypto (manifests, model identity, the results log's chain)
//   Tokenizer, Checkpoint  BERT WordPiece; checkpoint file formats (no model knowledge)
//   BERT                   config, weights, forward/backward of BertForSequenceClassification
//   Attribution            IBA, integrated gradients, LIME, random, saliency, gradient x input, occlusion,
//                          attention, KernelSHAP
//   Reports                heatmaps and curves (HTML, SVG, ANSI), progress; no model
//   Evaluation             typed settings, datasets, example selection, degradation test, metrics, the
//                          evaluation job (validation, output directory lock, every output file)
//   Training               fine-tuning (weight gradients, AdamW, dropout), saving Hugging Face directories
//   Cluster                ZeroMQ coordinator/worker protocol over opaque payloads; no model
//   ClusterEvaluation      an evaluation job over Cluster: payload, model files and shipment, worker
//                          setup (replica, hash checks), coordinator-side run, record decoding
//   IBACommands            the command-line layer shared by the three executables (parse, call, print)
//   TestSupport            (Tests/TestSupport) the ../shared locator and tiny-model builders for the test targets
let package = Package(
    name: "iba-swift",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "iba", targets: ["iba"]),
        .executable(name: "iba-coordinator", targets: ["iba-coordinator"]),
        .executable(name: "iba-worker", targets: ["iba-worker"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZMQ", pkgConfig: "libzmq", providers: [.apt(["libzmq3-dev"])]),
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])],
                linkerSettings: [.linkedLibrary("dnnl"), .linkedLibrary("gomp")]),
        .target(name: "Kernels", dependencies: ["CBLAS", "CKernels"], swiftSettings: fast),
        .target(name: "Digest", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Tokenizer"),
        .target(name: "Checkpoint"),
        .target(name: "BERT", dependencies: ["Kernels", "Tokenizer", "Checkpoint"]),
        .target(name: "Attribution", dependencies: ["BERT", "Kernels"]),
        .target(name: "Evaluation", dependencies: ["BERT", "Attribution", "Kernels", "Checkpoint", "Reports", "Digest"], resources: [.copy("Resources")]),
        .target(name: "Training", dependencies: ["BERT", "Kernels", "Checkpoint", "Evaluation"]),
        .target(name: "Reports"),
        .target(name: "CSpawn"),
        .target(name: "Cluster", dependencies: ["CZMQ", "CSpawn", "Digest", "Reports"]),
        .target(name: "ClusterEvaluation", dependencies: ["BERT", "Evaluation", "Cluster", "Kernels"]),
        .target(name: "IBACommands", dependencies: [
            "BERT", "Attribution", "Evaluation", "Training", "Reports", "Cluster", "ClusterEvaluation",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "iba", dependencies: ["IBACommands"]),
        .executableTarget(name: "iba-coordinator", dependencies: ["IBACommands"]),
        .executableTarget(name: "iba-worker", dependencies: ["IBACommands"]),
        // A coordinator/worker pair over a fake computation: tests the Cluster module in real processes.
        .executableTarget(name: "cluster-demo", dependencies: ["Cluster", "CZMQ"]),
        // scripts/bench.sh: performance measured as ratios within one run (never in tests).
        .executableTarget(name: "iba-bench", dependencies: ["BERT", "Attribution", "Evaluation", "Kernels", "Training", "Tokenizer"]),
        // Test support shared by the test targets: the ../shared locator and the tiny-model builders.
        .target(name: "TestSupport", dependencies: ["BERT", "Tokenizer"], path: "Tests/TestSupport"),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels"]),
        .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer", "TestSupport"]),
        .testTarget(name: "CheckpointTests", dependencies: ["Checkpoint", "TestSupport"]),
        .testTarget(name: "BERTTests", dependencies: ["BERT", "TestSupport"]),
        // Fixtures: reference JSON read by path (#filePath), not bundled.
        .testTarget(name: "AttributionTests", dependencies: ["Attribution", "Evaluation", "TestSupport"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "BERT", "Attribution", "Digest", "TestSupport"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "TestSupport"]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports"]),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster"]),
        .testTarget(name: "ClusterEvaluationTests", dependencies: ["ClusterEvaluation", "Evaluation", "Cluster"]),
        .testTarget(name: "CommandsTests", dependencies: ["IBACommands", "BERT", "Checkpoint", "Evaluation", "Training", "Tokenizer", "TestSupport"]),
    ]
)

// Kernels' inner loops only: their sizes come from the layers that call them, never straight from a file. BERT,
// Attribution and Training index with sizes from checkpoints and configs, so they keep -O's bounds checks.
var fast: [SwiftSetting] { [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))] }
