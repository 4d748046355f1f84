import Foundation

/// Refuses an output path that is, or contains, one of the inputs (a model directory or file, a vocabulary,
/// a config, data): saving there would overwrite what was read. Paths are compared after resolving `.`,
/// `..` and symbolic links, so two spellings of one directory are one path.
public func checkOutputIsNotAnInput(_ output: String, inputs: [String]) throws {
    let resolvedOutput = resolvedComponents(output)
    for input in inputs {
        let resolvedInput = resolvedComponents(input)
        if resolvedInput.starts(with: resolvedOutput) {
            throw TrainingError.outputOverlapsInput(output: output, input: input)
        }
    }
}

/// The path's components with symbolic links resolved (as far as the path exists).
private func resolvedComponents(_ path: String) -> [String] {
    URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().pathComponents
}
