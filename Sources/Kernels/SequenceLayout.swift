/// A batch of variable-length sequences packed row after row with no padding:
/// sequence b occupies rows offsets[b] ..< offsets[b] + lengths[b] of every (R, C) activation.
/// Attention runs per sequence, so padded positions never exist and no mask is needed;
/// this gives exactly the numbers of a padded batch with an attention mask.
public struct SequenceLayout: Equatable, Sendable {
    public let lengths: [Int]
    public let offsets: [Int]
    public let rows: Int
    /// Start of each sequence's (heads, len, len) block of attention probabilities.
    public let probabilityOffsets: [Int]
    public let heads: Int

    public init(lengths: [Int], heads: Int) {
        self.lengths = lengths
        self.heads = heads
        var offsets = [Int](), probabilityOffsets = [Int]()
        var row = 0, prob = 0
        for n in lengths {
            offsets.append(row); probabilityOffsets.append(prob)
            row += n; prob += heads * n * n
        }
        self.offsets = offsets
        self.rows = row
        self.probabilityOffsets = probabilityOffsets
        probabilityCount = prob
    }

    public let probabilityCount: Int
    public var batch: Int { lengths.count }
    public var maxLength: Int { lengths.max() ?? 0 }
}

/// Which query rows attention computes. `.all`: every token, q and out (R, C), probabilities per sequence
/// (heads, len, len). `.first`: each sequence's first ([CLS]) token only, q and out (B, C) with row b for
/// sequence b, probabilities per sequence (heads, 1, len): the last layer of a forward that only needs the
/// logits, where K and V still come from every token.
public enum AttentionQueries: Sendable, Equatable {
    case all, first
}

extension SequenceLayout {
    /// Sequence b's query rows, the first of them in q and out, and the start of its (heads, rows, len) probabilities.
    func queries(_ b: Int, _ queries: AttentionQueries) -> (rows: Int, firstRow: Int, probabilityOffset: Int) {
        switch queries {
        case .all: (lengths[b], offsets[b], probabilityOffsets[b])
        case .first: (1, b, heads * offsets[b])
        }
    }

    /// Query rows in q and out: R, or B.
    public func queryRows(_ queries: AttentionQueries) -> Int { queries == .all ? rows : batch }

    /// Floats of the attention probabilities (and of the backward's scratch) for `queries`.
    public func probabilityCount(_ queries: AttentionQueries) -> Int {
        queries == .all ? probabilityCount : heads * rows
    }
}
