import Foundation
import Attribution
import BERT
import Evaluation
import Kernels

/// LIME under the original protocol (100 samples, each padded to 512 tokens without a mask) and occlusion (the input
/// and one deletion per word piece, packed) with MiniLM AG News on the first `count` rows of the original's selection
/// (seed 3, the reference rows). Their arithmetic is logits-only forwards of known lengths: LIME 100 x 512 tokens,
/// occlusion n + (n - 2) x (n - 1) tokens, so the fraction of the peak is as honest as the IBA cases'.
@MainActor func benchPerturbationMethods(_ methods: [AttributionMethod], shared: URL, count: Int) throws {
    let model = try ModelLoader.load(ModelLocation(path: shared.appendingPathComponent("models/minilm-agnews")))
    guard let tokenizer = model.tokenizer else { throw AttributionError.needsTokenizer("the perturbation cases") }
    let rows = try loadDataset(.agnews, path: shared.appendingPathComponent("data/agnews/test.csv"), skipBadRows: false)
        .examples
    let chosen = try originalSelection(populationSize: rows.count, count: count).map { rows[$0] }
    let examples = chosen.map { row -> ExampleToExplain in
        let encoding = tokenizer.encode(row.text, pair: row.textPair, maxLength: 512)
        return ExampleToExplain(input: ModelInput(ids: encoding.inputIds, types: encoding.tokenTypeIds), text: row.text,
                                pair: row.textPair, gold: row.label)
    }
    let config = model.config
    // LIME's sample count for single texts and its padding under the original protocol (LIMEOptions' defaults).
    let lime = AttributionOptions().lime
    let samples = Double(lime.samples ?? 100), padded = lime.paddedLength ?? 512
    for method in methods {
        let setup = MethodSetup(model: model, variant: .original, options: AttributionOptions(), tokenizer: tokenizer,
                                context: context)
        let explainer = try method.makeExplainer(setup)
        _ = try explainer.attribution(of: examples[0], target: 1, seed: 0)  // warm the workspaces
        var flops = 0.0
        let t0 = now()
        for (i, e) in examples.enumerated() {
            _ = try explainer.attribution(of: e, target: 1, seed: UInt64(i))
            let n = e.input.count
            flops += method == .lime ? samples * logitsForwardFlops(config, n: max(n, padded))
                : logitsForwardFlops(config, n: n) + Double(n - 2) * logitsForwardFlops(config, n: n - 1)
        }
        let seconds = (now() - t0) / Double(examples.count)
        record("\(method.rawValue)-minilm-agnews", seconds: seconds, flops: flops / Double(examples.count),
               note: "\(examples.count) AG News rows (original selection), mean n "
                   + "\(examples.map(\.input.count).reduce(0, +) / examples.count)"
                   + (method == .lime ? ", \(Int(samples)) samples padded to \(padded)" : ", n - 2 deletions, packed"))
    }
}
