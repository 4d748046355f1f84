// Realistic inputs: BERT-uncased WordPiece tokens of AG News sentences, with made-up but
// plausibly shaped attributions (peaks on topic words, smoother in later layers).
import Foundation
import Reports

enum SampleData {
    /// 60 tokens of an AG News "Business" example, [CLS]/[SEP] and "##" pieces included.
    static let tokens: [String] = [
        "[CLS]", "carl", "##yle", "looks", "toward", "commercial", "aerospace", "(", "reuters", ")",
        "reuters", "-", "private", "investment", "firm", "carl", "##yle", "group", ",", "which",
        "has", "a", "reputation", "for", "making", "well", "-", "timed", "and", "occasionally",
        "controversial", "plays", "in", "the", "defense", "industry", ",", "has", "quietly", "placed",
        "its", "bets", "on", "another", "part", "of", "the", "market", ".", "analysts",
        "say", "the", "cy", "##nic", "##al", "bu", "##yo", "##ut", ".", "[SEP]",
    ]

    /// 130 tokens: the sentence above followed by a second AG News example, for the wide heatmap.
    static let longTokens: [String] = Array(tokens.dropLast()) + [
        "wall", "st", ".", "bears", "claw", "back", "into", "the", "black", "(",
        "reuters", ")", "reuters", "-", "short", "-", "sellers", ",", "wall", "street",
        "'", "s", "dwindling", "band", "of", "ultra", "-", "cy", "##nic", "##s",
        ",", "are", "seeing", "green", "again", ".", "oil", "and", "economy", "cloud",
        "stocks", "'", "outlook", "(", "reuters", ")", "reuters", "-", "soaring", "crude",
        "prices", "plus", "worries", "about", "the", "economy", "and", "the", "outlook", "for",
        "earnings", "are", "expected", "to", "hang", "over", "the", "stock", "market", "next",
        "[SEP]",
    ]

    private static let topical: Set<String> = [
        "investment", "firm", "commercial", "aerospace", "market", "group", "defense", "industry",
        "bets", "stocks", "economy", "earnings", "prices", "crude", "sellers", "street", "##yle",
    ]

    /// One attribution per token for `layer` of `layers`: topic words high, deeper layers smoother.
    static func attribution(for tokens: [String], layer: Int, layers: Int) -> [Float] {
        let raw: [Float] = tokens.enumerated().map { index, token in
            let base: Float = topical.contains(token) ? 0.9 : 0.12
            let wobble = 0.1 * sin(Float(index) * 0.7 + Float(layer))
            return max(0, base + wobble)
        }
        // Later layers mix neighbouring tokens, as attention spreads information.
        let smoothing = Float(layer) / Float(max(1, layers - 1)) * 0.6
        return raw.indices.map { i in
            let left = raw[max(0, i - 1)], right = raw[min(raw.count - 1, i + 1)]
            return (1 - smoothing) * raw[i] + smoothing * (left + right) / 2
        }
    }

    static func layerValues(tokens: [String], layers: Int) -> [[Float]] {
        (0..<layers).map { attribution(for: tokens, layer: $0, layers: layers) }
    }

    /// Degradation curves of several methods: probability of the target class after removing a fraction of tokens.
    static let curves: [CurveSeries] = {
        let x = (0...9).map { Double($0) / 10 }
        func curve(_ name: String, _ speed: Double, _ floor: Double) -> CurveSeries {
            CurveSeries(name: name, x: x, y: x.map { floor + (0.97 - floor) * exp(-speed * $0) })
        }
        return [
            curve("IBA (layer 9)", 6, 0.22), curve("integrated gradients", 3.5, 0.25),
            curve("LIME", 4.5, 0.24), curve("random", 0.8, 0.3),
        ]
    }()
}
