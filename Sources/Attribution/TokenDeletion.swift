import BERT

extension ModelInput {
    /// The input without the tokens at `positions` (ids and token type ids), the rest kept in order, no padding:
    /// the degradation test's deletion (contract section 3), shared by occlusion and that test.
    public func deleting(_ positions: some Sequence<Int>) -> ModelInput {
        let removed = Set(positions)
        let kept = ids.indices.filter { !removed.contains($0) }
        return ModelInput(ids: kept.map { ids[$0] }, types: kept.map { types[$0] })
    }
}
