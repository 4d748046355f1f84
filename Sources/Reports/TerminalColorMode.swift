#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// How much colour a terminal can show.
public enum TerminalColorMode: Sendable, Equatable {
    /// 24-bit colour escapes (`ESC[48;2;r;g;bm`).
    case trueColor
    /// The xterm 256-colour palette (`ESC[48;5;nm`).
    case ansi256
    /// No escape codes at all: for pipes, files and logs.
    case plain

    /// The mode for standard output, from isatty(STDOUT) and NO_COLOR / COLORTERM / TERM.
    public static func detect() -> TerminalColorMode {
        detect(environment: ProcessInfo.processInfo.environment, isTTY: isatty(STDOUT_FILENO) != 0)
    }

    /// The mode for a stream that is or is not a terminal, given an environment (testable core of `detect()`).
    public static func detect(environment: [String: String], isTTY: Bool) -> TerminalColorMode {
        guard isTTY else { return .plain }
        // https://no-color.org: any non-empty NO_COLOR disables colour.
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return .plain }
        let term = environment["TERM"]?.lowercased() ?? ""
        if term == "dumb" { return .plain }
        let colorTerm = environment["COLORTERM"]?.lowercased() ?? ""
        if colorTerm == "truecolor" || colorTerm == "24bit" || term.contains("direct") { return .trueColor }
        // Nearly every terminal in use understands the 256-colour palette.
        return .ansi256
    }
}
