// iba-bench: seconds per example, minimal arithmetic, achieved GFLOP/s and the fraction of the sgemm
// peak measured by the same run with the same thread count ("roofline fraction").
// Usage: iba-bench [--threads N] [--shared DIR]
//     [--cases attention,gemm-shapes,minilm,bert128,bert254,bert384,bert512,degradation,finetune,lime,occlusion]
//     [--examples N: rows for lime and occlusion, default 4]
//                  [--before] [--json FILE]
// --before adds a "-fulltop" row after each IBA and fine-tuning case: the same work with the top layer computing every
// token's row (round 1), so the exact [CLS]-only saving is measured in the same run. Its GFLOP/ex is the arithmetic the
// full path performs, so both rows' roofline fractions are honest.
// IBA cases with a -bf16 suffix (minilm-bf16, bert384-bf16, ...) run the upper layers' dense GEMMs in bfloat16
// (-bf16bwd: the backward ones only) and report the fraction of both the float32 peak and a bfloat16 GEMM peak
// measured in the same run.
// gemm-shapes times every GEMM shape class of MiniLM and bert-base through `sgemm` on both libraries in one process
// (GEMMShapes.swift); with one thread on the thread's CPU clock, so other jobs on the core do not count.
import Foundation
import Attribution
import BERT
import Evaluation
import Kernels
import Tokenizer
import Training

struct Row: Codable {
    var name: String
    var threads: Int
    var secondsPerExample: Double
    var gflopPerExample: Double
    var gflops: Double
    var peakGflops: Double
    var rooflineFraction: Double
    var bf16PeakGflops: Double?
    var bf16RooflineFraction: Double?
    var note: String
}

func argument(_ name: String) -> String? {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

func now() -> Double { Date().timeIntervalSince1970 }

/// sgemm peak on a large square product with the current thread count (best of `tries`).
func measureSgemmPeak(_ context: ComputeContext, tries: Int = 3, clock: () -> Double = now) -> Double {
    let n = 2048
    let a = FloatBuffer(count: n * n), b = FloatBuffer(count: n * n), c = FloatBuffer(count: n * n)
    for i in 0..<(n * n) { a.pointer[i] = Float(i % 7) * 0.1; b.pointer[i] = Float(i % 5) * 0.1 }
    var best = 0.0
    for _ in 0..<tries {
        let t0 = clock()
        sgemm(
            transA: false, transB: true, m: n, n: n, k: n, a: a.pointer, lda: n, b: b.pointer, ldb: n, beta: 0,
            c: c.pointer, ldc: n, context: context)
        best = max(best, 2 * Double(n * n * n) / (clock() - t0) / 1e9)
    }
    return best
}

/// bfloat16 GEMM peak (f32 accumulation and output) on the same product, or nil where it does not run natively.
func measureBFloat16Peak(_ context: ComputeContext) -> Double? {
    guard context.runsBFloat16 else { return nil }
    let n = 2048
    let a = FloatBuffer(count: n * n), b = FloatBuffer(count: n * n), c = FloatBuffer(count: n * n)
    for i in 0..<(n * n) { a.pointer[i] = Float(i % 7) * 0.1; b.pointer[i] = Float(i % 5) * 0.1 }
    let ah = BFloat16Buffer(rounding: a.pointer, count: n * n, context: context)
    let bh = BFloat16Buffer(rounding: b.pointer, count: n * n, context: context)
    var best = 0.0
    for _ in 0..<3 {
        let t0 = now()
        guard gemmBFloat16(transA: false, transB: true, m: n, n: n, k: n, a: ah.pointer, lda: n, b: bh.pointer, ldb: n,
                           beta: 0, c: c.pointer, ldc: n, context: context) else { return nil }
        best = max(best, 2 * Double(n * n * n) / (now() - t0) / 1e9)
    }
    return best
}

/// FLOPs of one encoder layer on one sequence of n tokens: forward, and activation-only backward.
func layerFlops(_ c: BertConfig, n: Int) -> (forward: Double, backward: Double) {
    let h = Double(c.hiddenSize), i = Double(c.intermediateSize), t = Double(n)
    let dense = 2 * t * (4 * h * h + 2 * h * i)
    return (dense + 4 * t * t * h, dense + 8 * t * t * h)
}

/// FLOPs of the top layer when only the logits are needed (K and V for every token, the rest for [CLS] alone).
func topLayerFlops(_ c: BertConfig, n: Int) -> (forward: Double, backward: Double) {
    let h = Double(c.hiddenSize), i = Double(c.intermediateSize), t = Double(n)
    let dense = 4 * t * h * h + 4 * h * h + 4 * h * i   // K, V: t rows; Q, attention output, FFN: one row
    return (dense + 4 * t * h, dense + 8 * t * h)
}

/// Forward FLOPs of a logits-only pass through every layer (the top one as above).
func logitsForwardFlops(_ c: BertConfig, n: Int) -> Double {
    Double(c.numLayers - 1) * layerFlops(c, n: n).forward + topLayerFlops(c, n: n).forward
}

/// The arithmetic IBA truly needs: layers 0...L once, then layers L+1... forward + backward for the noise batch each
/// step but the last (whose capacity, the heatmap, needs no noise batch), the top layer for [CLS] alone past K and V.
/// The cases time that path (`explain(..., lastStepLoss: false)`, what `iba evaluate` runs).
func ibaFlops(_ c: BertConfig, n: Int, layer: Int, steps: Int = 10, copies: Int = 10) -> Double {
    let f = layerFlops(c, n: n), top = topLayerFlops(c, n: n)
    let upper = c.numLayers - layer - 1
    let perCopy = upper == 0 ? 0 : Double(upper - 1) * (f.forward + f.backward) + top.forward + top.backward
    return Double(layer + 1) * f.forward + Double((steps - 1) * copies) * perCopy
}

/// The arithmetic of IBA when the top layer computes every token's row (round 1's path).
func ibaFlopsFullTop(_ c: BertConfig, n: Int, layer: Int, steps: Int = 10, copies: Int = 10) -> Double {
    let f = layerFlops(c, n: n)
    let upper = c.numLayers - layer - 1
    return Double(layer + 1) * f.forward + Double((steps - 1) * copies * upper) * (f.forward + f.backward)
}

/// Fine-tuning FLOPs for one sequence of n tokens: forward, activation backward and weight gradients (the dense part
/// of the weight gradient equals the forward's dense part) in every layer; the top layer as `topLayerFlops` when
/// `logitsOnly`.
func fineTuneFlops(_ c: BertConfig, n: Int, logitsOnly: Bool) -> Double {
    let f = layerFlops(c, n: n), h = Double(c.hiddenSize), i = Double(c.intermediateSize), t = Double(n)
    let fullWeights = 2 * t * (4 * h * h + 2 * h * i)
    let top = logitsOnly ? topLayerFlops(c, n: n) : f
    let topWeights = logitsOnly ? 4 * t * h * h + 4 * h * h + 4 * h * i : fullWeights
    return Double(c.numLayers - 1) * (f.forward + f.backward + fullWeights) + top.forward + top.backward + topWeights
}

func randomModel(_ config: BertConfig) throws -> BertModel {
    var generator = NormalGenerator(seed: 1)
    let tensors = InMemoryTensors()
    for spec in ParameterNames.specs(config) {
        let count = spec.shape.reduce(1, *)
        let gain = spec.name.hasSuffix("LayerNorm.weight")
        tensors.set(spec.name, shape: spec.shape, values: (0..<count).map { _ in gain ? 1 : 0.02 * generator.next() })
    }
    var report = LoadReport()
    return BertModel(
        parameters: try BertParameters(config: config, source: tensors, sourcePath: "random", report: &report),
        tokenizer: nil)
}

if CommandLine.arguments.contains("--help") || CommandLine.arguments.contains("-h") {
    print("usage: iba-bench [--threads N] [--shared DIR] "
        + "[--cases attention,gemm-shapes,minilm,bert128,bert254,bert384,bert512,degradation,finetune,"
        + "minilm-bf16bwd,minilm-bf16,bert384-bf16bwd,bert384-bf16,lime,occlusion] [--examples N] [--before] "
        + "[--json FILE]")
    exit(0)
}
// --print-isa: the kernels each GEMM library runs here and the one a run would use (scripts/bench.sh's headers).
if CommandLine.arguments.contains("--print-isa") {
    let chosen = ComputeContext.fromEnvironment(threads: 1).backend
    print("oneDNN \(GEMMBackend.onednn.kernelsName), OpenBLAS \(GEMMBackend.openblas.kernelsName); "
        + "runs use \(chosen.rawValue)")
    exit(0)
}
// --write-random-bert-base DIR --vocab-from MODEL_DIR: a bert-base-sized classifier with the bench's random weights and
// MODEL_DIR's vocabulary and labels (or --labels N: N of them, named LABEL_0 ...; --shape minilm: MiniLM's 6 layers of
// 384 with 12 heads and 1,536-wide FFNs instead), written as a Hugging Face directory,
// so `iba evaluate` can measure bert-base's memory and time at 512 pieces where no bert-base checkpoint exists
// (scripts/bench.sh's bert-base rows).
if let directory = argument("--write-random-bert-base") {
    do {
        guard let vocabFrom = argument("--vocab-from") else {
            FileHandle.standardError.write(Data("--write-random-bert-base needs --vocab-from MODEL_DIR\n".utf8))
            exit(2)
        }
        let source = try ModelLoader.load(ModelLocation(path: URL(fileURLWithPath: vocabFrom)))
        var (numLabels, labelNames) = (source.config.numLabels, source.config.labelNames)
        if let text = argument("--labels") {
            guard let count = Int(text), count >= 2 else {
                FileHandle.standardError.write(
                    Data("--labels needs a whole number of at least 2, not '\(text)'\n".utf8))
                exit(2)
            }
            (numLabels, labelNames) = (count, (0..<count).map { "LABEL_\($0)" })
        }
        let shape = argument("--shape") ?? "bert-base"
        guard ["minilm", "bert-base"].contains(shape) else {
            FileHandle.standardError.write(Data("--shape is bert-base (the default) or minilm\n".utf8))
            exit(2)
        }
        let minilm = shape == "minilm"
        let config = BertConfig(
            vocabSize: source.config.vocabSize, hiddenSize: minilm ? 384 : 768, numLayers: minilm ? 6 : 12,
            numHeads: 12, intermediateSize: minilm ? 1536 : 3072, numLabels: numLabels)
        let random = try randomModel(config)
        try saveHuggingFaceDirectory(
            BertModel(parameters: random.parameters, tokenizer: source.tokenizer), to: URL(fileURLWithPath: directory),
            labelNames: labelNames)
        exit(0)
    } catch {
        FileHandle.standardError.write(Data("iba-bench: \(error)\n".utf8))
        exit(1)
    }
}
let before = CommandLine.arguments.contains("--before")
let threads =
    Int(argument("--threads") ?? "") ?? Int(ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] ?? "") ?? 1
let context = ComputeContext.fromEnvironment(threads: threads)
let cases = Set((argument("--cases") ?? "minilm,bert128,bert384,degradation").split(separator: ",").map(String.init))
let shared = URL(fileURLWithPath: argument("--shared") ?? "../shared")
let peak = measureSgemmPeak(context)
FileHandle.standardError.write(Data("""
    sgemm peak (\(context.backend.rawValue)) with \(threads) thread(s): \(String(format: "%.1f", peak)) GFLOP/s\n
    """.utf8))
let wantsBFloat16 = cases.contains { $0.hasSuffix("-bf16") || $0.hasSuffix("-bf16bwd") }
let bf16Peak = wantsBFloat16 ? measureBFloat16Peak(context) : nil
if wantsBFloat16 {
    FileHandle.standardError.write(Data((bf16Peak.map {
        "bf16 GEMM peak with \(threads) thread(s): \(String(format: "%.1f", $0)) GFLOP/s\n"
    } ?? "bf16 cases skipped: no native bfloat16 GEMM here (oneDNN with AVX512_BF16 or AMX)\n").utf8))
}
var rows = [Row]()

@MainActor func record(_ name: String, seconds: Double, flops: Double, precision: Precision = .float32, note: String) {
    let gflops = flops / seconds / 1e9
    let lowPeak = precision == .float32 ? nil : bf16Peak
    rows.append(Row(name: name, threads: threads, secondsPerExample: seconds, gflopPerExample: flops / 1e9,
                    gflops: gflops, peakGflops: peak, rooflineFraction: gflops / peak,
                    bf16PeakGflops: lowPeak, bf16RooflineFraction: lowPeak.map { gflops / $0 }, note: note))
    let againstBFloat16 = lowPeak.map { String(format: ", of the bf16 peak %.2f", gflops / $0) } ?? ""
    FileHandle.standardError.write(Data("""
        \(name): \(String(format: "%.3f", seconds)) s/example, \(String(format: "%.1f", gflops)) GFLOP/s, \
        roofline \(String(format: "%.2f", gflops / peak))\(againstBFloat16)\n
        """.utf8))
}

/// The precisions to run for `base` (e.g. bert384): float32 as `base`, bfloat16 as `base-bf16bwd` / `base-bf16`
/// when supported.
func precisions(_ base: String) -> [Precision] {
    var list = [Precision]()
    if cases.contains(base) { list.append(.float32) }
    if cases.contains(base + "-bf16bwd"), bf16Peak != nil { list.append(.bfloat16Backward) }
    if cases.contains(base + "-bf16"), bf16Peak != nil { list.append(.bfloat16) }
    return list
}

func suffix(_ precision: Precision) -> String {
    switch precision {
    case .float32: ""
    case .bfloat16Backward: "-bf16bwd"
    case .bfloat16: "-bf16"
    }
}

/// Fine-tuning examples/s: the MiniLM MNLI model on the first 512 MNLI dev pairs, batch 32, 128 tokens, one epoch,
/// dropout on (the Trainer recipe), with and (--before) without the [CLS]-only top layer.
@MainActor func benchFineTune() throws {
    let data = shared.appendingPathComponent("data/mnli/dev_matched.tsv"),
        modelURL = shared.appendingPathComponent("models/minilm-mnli")
    guard FileManager.default.fileExists(atPath: data.path),
          FileManager.default.fileExists(atPath: modelURL.path) else {
        FileHandle.standardError.write(Data("finetune case skipped: ../shared MNLI data or model not found\n".utf8))
        return
    }
    let model = try ModelLoader.load(ModelLocation(path: modelURL))
    let examples = Array(try loadDataset(.mnli, path: data, skipBadRows: false).examples.prefix(512))
    for logitsOnly in before ? [true, false] : [true] {
        var options = FineTuneOptions()
        options.epochs = 1; options.batchSize = 32; options.maxLength = 128
        options.logitsOnlyTopLayer = logitsOnly
        let report = try fineTune(model: model, train: examples, options: options, context: context)
        let tokenizer = model.tokenizer
        let flops = examples.reduce(0.0) { sum, e in
            let n = tokenizer.map { min($0.encode(e.text, pair: e.textPair, maxLength: 128).inputIds.count, 128) } ?? 64
            return sum + fineTuneFlops(model.config, n: n, logitsOnly: logitsOnly)
        }
        let perExample = 1 / report.examplesPerSecond
        record(
            "finetune-minilm-mnli-b32" + (logitsOnly ? "" : "-fulltop"), seconds: perExample,
            flops: flops / Double(examples.count),
            note: String(format: "%.1f examples/s, 512 MNLI pairs, batch 32, max length 128", report.examplesPerSecond))
        FileHandle.standardError.write(
            Data(String(format: "  fine-tuning: %.1f examples/s\n", report.examplesPerSecond).utf8))
    }
}

/// Attention forward + backward alone at MiniLM's shapes (12 heads of 32, 10 sequences of n tokens): the sgemm path
/// (the context's library) and the fused kernel, alternating in the same run, best of several. Seconds are per batch
/// of 10 sequences; the fused row's note has the time ratio fused / sgemm.
@MainActor func benchAttention() {
    let heads = 12, channels = 384, copies = 10
    let shapes: [(Int, AttentionQueries)] = [
        (32, .all), (64, .all), (80, .all), (96, .all), (128, .all), (192, .all), (256, .all), (512, .all),
        (128, .first),
    ]
    for (n, queries) in shapes {
        let layout = SequenceLayout(lengths: [Int](repeating: n, count: copies), heads: heads)
        let rows = layout.rows * channels, queryRows = layout.queryRows(queries) * channels
        let count = layout.probabilityCount(queries)
        let q = FloatBuffer(count: queryRows), dout = FloatBuffer(count: queryRows), out = FloatBuffer(count: queryRows)
        let k = FloatBuffer(count: rows), v = FloatBuffer(count: rows)
        let dq = FloatBuffer(count: queryRows), dk = FloatBuffer(count: rows), dv = FloatBuffer(count: rows)
        let probs = FloatBuffer(count: count), scratch = FloatBuffer(count: count)
        for i in 0..<queryRows { q.pointer[i] = Float(i % 13) * 0.05 - 0.3; dout.pointer[i] = Float(i % 7) * 0.1 - 0.3 }
        for i in 0..<rows { k.pointer[i] = Float(i % 11) * 0.05 - 0.25; v.pointer[i] = Float(i % 5) * 0.2 - 0.4 }
        var best: [AttentionKernel: Double] = [:]
        for _ in 0..<(n >= 512 ? 5 : 20) {
            for kernel in [AttentionKernel.gemm, .fused] {
                var run = context
                run.attention = kernel
                let t0 = now()
                attentionForward(
                    out: out.pointer, probs: probs.pointer, q: q.pointer, k: k.pointer, v: v.pointer, layout: layout,
                    channels: channels, queries: queries, context: run)
                attentionBackward(
                    dq: dq.pointer, dk: dk.pointer, dv: dv.pointer, scratch: scratch.pointer, dout: dout.pointer,
                    probs: probs.pointer, q: q.pointer, k: k.pointer, v: v.pointer, layout: layout, channels: channels,
                    queries: queries, context: run)
                best[kernel] = min(best[kernel] ?? .infinity, now() - t0)
            }
        }
        let m = Double(queries == .all ? n : 1), flops = Double(copies) * 12 * m * Double(n) * Double(channels)
        let name = "attention-n\(n)" + (queries == .all ? "" : "-cls")
        let gemm = best[.gemm] ?? 0, fused = best[.fused] ?? 0
        record(name + "-gemm", seconds: gemm, flops: flops,
               note: "10 x \(n) tokens, 12 heads of 32, sgemm (\(context.backend.rawValue)) path")
        record(name + "-fused", seconds: fused, flops: flops,
               note: String(format: "fused kernel: %.2fx the sgemm path's time", fused / gemm))
        let line = String(format: "  %@: fused / sgemm time %.2f\n", name as NSString, fused / gemm)
        FileHandle.standardError.write(Data(line.utf8))
    }
}

/// Every GEMM shape class of MiniLM and bert-base on both libraries, against the best of their sgemm peaks measured
/// the same way in this run. Seconds are per call.
@MainActor func benchGEMMShapes() {
    let clock: () -> Double = threads == 1 ? { threadCPUSeconds() } : { now() }
    var peaks = [GEMMBackend: Double]()
    for backend in GEMMBackend.allCases {
        peaks[backend] = measureSgemmPeak(ComputeContext(backend: backend, threads: threads), tries: 5, clock: clock)
    }
    let shapePeak = peaks.values.max() ?? peak
    let header = GEMMBackend.allCases.map {
        "\($0.rawValue) (\($0.kernelsName)) \(String(format: "%.1f", peaks[$0] ?? 0)) GFLOP/s"
    }.joined(separator: ", ")
    FileHandle.standardError.write(Data("""
        gemm-shapes, \(threads) thread(s), \(threads == 1 ? "thread CPU time" : "wall clock"); sgemm peaks: \
        \(header); fractions of \(String(format: "%.1f", shapePeak))\n
        """.utf8))
    let timings = timeGEMMShapes(GEMMShape.bert, threads: threads, samples: 15, clock: clock)
    FileHandle.standardError.write(Data(gemmShapesTable(timings, peak: shapePeak).utf8))
    for timing in timings {
        for (backend, seconds) in timing.seconds.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let gflops = timing.shape.flops / seconds / 1e9
            rows.append(Row(name: "gemm \(timing.shape.shapeClass) \(timing.shape.size) \(backend.rawValue)",
                            threads: threads, secondsPerExample: seconds, gflopPerExample: timing.shape.flops / 1e9,
                            gflops: gflops, peakGflops: shapePeak, rooflineFraction: gflops / shapePeak,
                            note: "\(timing.shape.operation), \(backend.kernelsName), seconds per call"))
        }
    }
}

do {
    if cases.contains("attention") { benchAttention() }
    if cases.contains("gemm-shapes") { benchGEMMShapes() }
    for precision in precisions("minilm") {
        struct Reference: Decodable {
            struct E: Decodable { var ids: [Int]; var target: Int; var index: Int }; var examples: [E]
        }
        let refURL = shared.appendingPathComponent("reference/iba-agnews-layer3.json")
        guard let data = try? Data(contentsOf: refURL),
              let reference = try? JSONDecoder().decode(Reference.self, from: data) else {
            FileHandle.standardError.write(Data("minilm case skipped: \(refURL.path) not found\n".utf8))
            break
        }
        let model = try ModelLoader.load(ModelLocation(path: shared.appendingPathComponent("models/minilm-agnews")))
        for logitsOnly in precision == .float32 && before ? [true, false] : [true] {
            var options = IBAOptions()
            options.layer = 3; options.precision = precision
            let explainer = IBAExplainer(
                model: model, options: options, context: context, logitsOnlyTopLayer: logitsOnly)
            _ = try explainer.explain(
                ModelInput(ids: reference.examples[0].ids, types: reference.examples[0].ids.map { _ in 0 }), target: 0,
                seed: 0, lastStepLoss: false)
            var flops = 0.0
            let t0 = now()
            for e in reference.examples {
                _ = try explainer.explain(
                    ModelInput(ids: e.ids, types: e.ids.map { _ in 0 }), target: e.target, seed: UInt64(e.index),
                    lastStepLoss: false)
                flops += logitsOnly ? ibaFlops(model.config, n: e.ids.count, layer: 3)
                                    : ibaFlopsFullTop(model.config, n: e.ids.count, layer: 3)
            }
            let seconds = (now() - t0) / Double(reference.examples.count)
            record(
                "iba-minilm-agnews-layer3" + suffix(precision) + (logitsOnly ? "" : "-fulltop"), seconds: seconds,
                flops: flops / Double(reference.examples.count), precision: precision,
                note: "20 reference examples, mean n "
                    + "\(reference.examples.map(\.ids.count).reduce(0, +) / reference.examples.count)")
        }
    }
    let bertBase = BertConfig(
        vocabSize: 30522, hiddenSize: 768, numLayers: 12, numHeads: 12, intermediateSize: 3072, numLabels: 2)
    let needsBert = cases.contains { $0.hasPrefix("bert") || $0 == "degradation" }
    let bert = needsBert ? try randomModel(bertBase) : nil
    for n in [128, 254, 384, 512] { for precision in precisions("bert\(n)") {
        guard let bert else { break }
        for logitsOnly in precision == .float32 && before ? [true, false] : [true] {
            var options = IBAOptions()
            options.layer = 8; options.precision = precision
            let explainer = IBAExplainer(model: bert, options: options, context: context,
                                         logitsOnlyTopLayer: logitsOnly)
            let input = ModelInput(ids: (0..<n).map { 1000 + $0 }, types: [Int](repeating: 0, count: n))
            let t0 = now()
            _ = try explainer.explain(input, target: 0, seed: 1, lastStepLoss: false)
            record("iba-bert-base-layer8-n\(n)" + suffix(precision) + (logitsOnly ? "" : "-fulltop"),
                   seconds: now() - t0,
                   flops: logitsOnly ? ibaFlops(bertBase, n: n, layer: 8) : ibaFlopsFullTop(bertBase, n: n, layer: 8),
                   precision: precision, note: "random weights")
        }
    } }
    if cases.contains("finetune") { try benchFineTune() }
    let perturbation = [AttributionMethod.lime, .occlusion].filter { cases.contains($0.rawValue) }
    if !perturbation.isEmpty {
        try benchPerturbationMethods(perturbation, shared: shared, count: Int(argument("--examples") ?? "") ?? 4)
    }
    if cases.contains("degradation"), let bert {
        let n = 384
        let input = ModelInput(ids: (0..<n).map { 1000 + $0 }, types: [Int](repeating: 0, count: n))
        var isSpecial = [Bool](repeating: false, count: n)
        isSpecial[0] = true; isSpecial[n - 1] = true
        let attribution = (0..<n).map { Float(($0 * 7919) % n) }
        let tape = ForwardTape.forwardOnly(config: bert.config, context: context)   // one layer's activations at a time
        let t0 = now()
        let outcome = try degradationTest(input: input, isSpecial: isSpecial, attribution: attribution, target: 0) {
            try bert.probabilities($0, tape: tape)
        }
        let lengths = degradationCounts(tokenCount: n).map { n - $0 }
        let flops = lengths.reduce(0.0) { $0 + logitsForwardFlops(bertBase, n: $1) }
        record(
            "degradation-bert-base-n384", seconds: now() - t0, flops: flops,
            note: "9 degraded forwards, one packed batch (\(outcome.degradationProb.count) steps)")
    }
} catch {
    FileHandle.standardError.write(Data("bench failed: \(error)\n".utf8))
    exit(1)
}

// The machine's speed drifts (other tenants, clocks): the peak is measured again after the cases and every case's
// fraction is of the higher of the two (the lower would flatter the cases).
let endPeak = measureSgemmPeak(context)
let runPeak = max(peak, endPeak)
FileHandle.standardError.write(Data("""
    sgemm peak again after the cases: \(String(format: "%.1f", endPeak)) GFLOP/s; fractions below of \
    \(String(format: "%.1f", runPeak))\n
    """.utf8))
for i in rows.indices where rows[i].peakGflops == peak {
    rows[i].peakGflops = runPeak
    rows[i].rooflineFraction = rows[i].gflops / runPeak
}

let encoder = JSONEncoder()
encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
if let path = argument("--json"), let data = try? encoder.encode(rows) {
    try? data.write(to: URL(fileURLWithPath: path))
}
print(
    String(
        format: "%-32@ %7@ %10@ %10@ %9@ %9@ %8@ %9@ %8@", "case" as NSString, "threads" as NSString,
        "s/example" as NSString, "GFLOP/ex" as NSString, "GFLOP/s" as NSString, "peak" as NSString,
        "roofline" as NSString, "bf16 peak" as NSString, "of bf16" as NSString))
for r in rows {
    let low = r.bf16PeakGflops.map { String(format: " %9.1f %8.2f", $0, r.bf16RooflineFraction ?? 0) } ?? ""
    print(
        String(
            format: "%-32@ %7d %10.3f %10.1f %9.1f %9.1f %8.2f", r.name as NSString, r.threads, r.secondsPerExample,
            r.gflopPerExample, r.gflops, r.peakGflops, r.rooflineFraction) + low)
}
