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
