import ArgumentParser

/// `iba finetune` (wired to the Training module).
struct FinetuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "finetune", abstract: "Fine-tune a BERT checkpoint into a classifier.")
    func run() throws { throw ValidationError("finetune is not available in this build yet") }
}
