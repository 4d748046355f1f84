/// What `torch.save` files share once their pickle has run: storages named by persistent
/// ids, and a dict from parameter names to tensors over those storages.
enum TorchStateDict {
    /// Parses a persistent id `('storage', storage_type, key, location, numel[, view_metadata])`.
    /// The zip format has five fields; the legacy format adds `view_metadata` (None or
    /// `(view_key, offset, view_size)`).
    static func storageReference(from id: PickleValue, format: CheckpointFormat) throws -> PickleValue {
        func fail(_ detail: String) -> CheckpointError {
            .malformed(format: format, detail: "persistent id \(detail)")
        }
        guard case let .tuple(fields, _) = id, fields.count == 5 || fields.count == 6 else {
            throw fail("is not a 5- or 6-field tuple")
        }
        guard fields[0].asString == "storage" else {
            throw CheckpointError.unsupported("persistent id of kind '\(fields[0].asString ?? fields[0].typeName)'; "
                + "only tensor storages are supported")
        }
        guard case let .global(.storageType(dtype)) = fields[1] else { throw fail("has no storage type") }
        guard let key = fields[2].asString else { throw fail("has no storage key") }
        guard let count = fields[4].asInt, count >= 0 else { throw fail("has no valid element count") }
        var view: (key: String, offset: Int, count: Int)?
        if fields.count == 6, case let .tuple(viewFields, _) = fields[5] {
            guard viewFields.count == 3, let viewKey = viewFields[0].asString,
                  let offset = viewFields[1].asInt, let size = viewFields[2].asInt,
                  offset >= 0, size >= 0, offset <= count, size <= count - offset else {
                throw fail("has an invalid storage view")
            }
            view = (viewKey, offset, size)
        }
        return .storage(StorageReference(dtype: dtype, key: key, elementCount: count, view: view))
    }

    /// Keys under which training scripts commonly nest the model's weights, in preference order.
    static let nestedStateDictKeys = ["state_dict", "model_state_dict", "model", "module", "net"]

    /// The named tensors of the unpickled object. A plain state dict is used directly; a dict
    /// without tensors of its own whose values include dicts of tensors (e.g. `{"state_dict":
    /// ..., "optimizer": ..., "epoch": 3}`) is searched one level down, preferring the keys
    /// above; anything deeper is refused. Non-tensor entries (`_metadata`, ints) are ignored.
    static func namedTensors(in root: PickleValue, format: CheckpointFormat) throws -> [(String, TensorReference)] {
        guard case let .dict(top) = root else {
            throw CheckpointError.malformed(format: format, detail: "the pickle holds a \(root.typeName), "
                + "not a dict of tensors (save model.state_dict())")
        }
        let direct = tensors(of: top)
        if !direct.isEmpty { return direct }

        var candidates: [(key: String, tensors: [(String, TensorReference)])] = []
        for (key, value) in top.pairs {
            guard let name = key.asString, case let .dict(inner) = value else { continue }
            let found = tensors(of: inner)
            if !found.isEmpty { candidates.append((name, found)) }
        }
        if candidates.count == 1, let only = candidates.first { return only.tensors }
        for preferred in nestedStateDictKeys {
            if let match = candidates.first(where: { $0.key == preferred }) { return match.tensors }
        }
        if candidates.isEmpty {
            throw CheckpointError.malformed(format: format, detail: "no tensors found in the top-level dict or "
                + "one level below it")
        }
        throw CheckpointError.malformed(format: format, detail: "several dicts of tensors ("
            + candidates.map(\.key).joined(separator: ", ") + "); save the one you need with torch.save")
    }

    private static func tensors(of dict: PickleDict) -> [(String, TensorReference)] {
        dict.pairs.compactMap { pair in
            guard let name = pair.key.asString, case let .tensor(tensor) = pair.value else { return nil }
            return (name, tensor)
        }
    }
}
