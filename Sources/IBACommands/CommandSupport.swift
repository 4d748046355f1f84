import ArgumentParser
import Foundation
import BERT
import Evaluation
import Kernels
import Reports

/// Writes a line to standard error (progress, notes, warnings): standard output stays machine-readable.
func note(_ message: String) {
    FileHandle.standardError.write(Data((terminalSafe(message, keepingLayout: true) + "\n").utf8))
}

/// A problem with how a command was invoked or set up, with the fix in its message.
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// Turns library errors into a one-line message and exit code 1 (the executables' only job with errors).
func failing(_ body: () throws -> Void) throws {
    do { try body() } catch let error as CleanExit { throw error } catch let error as ExitCode {
        throw error
    } catch let error as ValidationError {
        throw error
    } catch {
        // A Foundation file error that reached here unwrapped is still shown in the one readable form.
        let nsError = error as NSError
        if [NSCocoaErrorDomain, NSPOSIXErrorDomain].contains(nsError.domain),
           let path = nsError.userInfo[NSFilePathErrorKey] as? String {
            note("error: \(FileError(path: path, action: "access", underlying: error))")
        } else {
            note("error: \(error)")
        }
        throw ExitCode.failure
    }
}

/// A file a command could not read or write, as "cannot ACTION PATH: REASON" instead of an NSError dump.
struct FileError: Error, CustomStringConvertible {
    let path: String
    /// What was being done: "read", "write", ...
    let action: String
    let underlying: Error

    var description: String { "cannot \(action) \(path): \(reason)" }

    /// The operating system's reason ("no such file or directory") when Foundation carries one.
    var reason: String {
        let nsError = underlying as NSError
        if nsError.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(nsError.code))).lowercased() }
        if let posix = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(posix.code))).lowercased()
        }
        guard nsError.domain == NSCocoaErrorDomain else { return "\(underlying)" }
        switch CocoaError.Code(rawValue: nsError.code) {
        case .fileNoSuchFile, .fileReadNoSuchFile: return "no such file or directory"
        case .fileReadNoPermission, .fileWriteNoPermission: return "permission denied"
        case .fileWriteVolumeReadOnly: return "read-only file system"
        case .fileWriteOutOfSpace: return "no space left on device"
        case .fileReadCorruptFile, .fileReadInapplicableStringEncoding: return "the file's content cannot be read"
        default: return nsError.localizedDescription
        }
    }
}

/// The bytes of the file at `url`, or a `FileError` naming it.
func readFile(_ url: URL) throws -> Data {
    do { return try Data(contentsOf: url) } catch { throw FileError(path: url.path, action: "read", underlying: error) }
}

/// Writes `data` to `path` atomically, or throws a `FileError` naming it.
func writeFile(_ data: Data, to path: String) throws {
    do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
        throw FileError(path: path, action: "write", underlying: error)
    }
}

/// The project root when running from a build folder (walks up to Package.swift), for the default model.
func projectRoot() -> URL? {
    var url = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath()
        .deletingLastPathComponent()
    for _ in 0..<6 {
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        url.deleteLastPathComponent()
    }
    return nil
}

/// Where `scripts/setup.sh` puts the demo classifier.
let defaultModelDirectory = "models/demo-agnews"

/// `--model` and friends, shared by every command that loads a classifier.
public struct ModelOptions: ParsableArguments {
    @Option(name: [.customLong("model"), .customLong("model_pickled_dir"), .customLong("model_state_dict_path")],
            help: ArgumentHelp(
                "Hugging Face directory, .safetensors file or PyTorch state dict (.bin/.pt/.model/.pth).",
                valueName: "path"))
    var model: String?

    @Option(help: ArgumentHelp("config.json for a checkpoint without one (otherwise inferred from tensor shapes).",
                               valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("vocab.txt or tokenizer.json when the checkpoint has none beside it.",
                               valueName: "file"))
    var vocab: String?

    @Option(name: .customLong("num-labels"), help: "Classes for a checkpoint without a classifier (encoder only).")
    var numLabels: Int?

    @Option(name: .customLong("head-size"), help: "Attention head size used when inferring the architecture.")
    var headSize: Int = 64

    @Option(help: """
        Threads: BLAS threads for one explanation; for evaluate, examples run in parallel \
        (one BLAS thread each). Default: all cores.
        """)
    var threads: Int?

    public init() {}

    /// The GEMM library (`IBA_GEMM`) and `--threads` (default: every core), read once per command.
    var context: ComputeContext { ComputeContext.fromEnvironment(threads: threads) }

    /// The model path: --model, else $IBA_MODEL, else models/demo-agnews (here or in the project root).
    func resolvedPath() throws -> URL {
        if let model { return URL(fileURLWithPath: model) }
        if let env = ProcessInfo.processInfo.environment["IBA_MODEL"], !env.isEmpty { return URL(fileURLWithPath: env) }
        let candidates =
            [URL(fileURLWithPath: defaultModelDirectory)]
            + (projectRoot().map { [$0.appendingPathComponent(defaultModelDirectory)] } ?? [])
        if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) { return found }
        throw CommandError("no model at \(defaultModelDirectory): run scripts/setup.sh, or pass --model PATH")
    }

    func load() throws -> BertModel {
        try loadModel(path: try resolvedPath(), config: config, vocab: vocab, numLabels: numLabels, headSize: headSize)
    }

    /// The model as an evaluation job names it (resolved path, overrides as given).
    func reference() throws -> ModelReference {
        ModelReference(
            path: try resolvedPath().path, config: config, vocab: vocab, numLabels: numLabels, headSize: headSize)
    }
}

/// Loads a classifier and prints what loading noticed (warnings go to standard error).
func loadModel(path: URL, config: String? = nil, vocab: String? = nil, numLabels: Int? = nil,
               headSize: Int = 64) throws -> BertModel {
    var location = ModelLocation(path: path)
    location.config = config.map { URL(fileURLWithPath: $0) }
    location.vocab = vocab.map { URL(fileURLWithPath: $0) }
    location.numLabels = numLabels
    location.headSize = headSize
    let model = try ModelLoader.load(location)
    for warning in model.loadReport.warnings { note("warning: \(warning)") }
    return model
}

/// Default bottleneck layer: the paper's 8 for bert-base-sized models, the middle layer for smaller ones
/// (3 for the 6-layer MiniLM, as the reference runs use).
func defaultLayer(numLayers: Int) -> Int {
    numLayers > 8 ? 8 : numLayers / 2
}

func jsonString<T: Encodable>(_ value: T, pretty: Bool = false) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting =
        pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

func writeOutput(_ text: String, to path: String?) throws {
    guard let path else { print(text, terminator: text.hasSuffix("\n") ? "" : "\n"); return }
    try writeFile(Data(text.utf8), to: path)
    openNote(path)
}

/// The last line of a command that wrote outputs: the one file (or directory) to open next.
func openNote(_ path: String) {
    note("open: \(path)")
}
