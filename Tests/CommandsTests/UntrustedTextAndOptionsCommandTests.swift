import Foundation
import XCTest

/// Issue 24 item 6, through the executables: option combinations that used to be half ignored, and class
/// names (untrusted: they come from a downloaded config.json) that used to reach the terminal raw.
final class UntrustedTextAndOptionsCommandTests: XCTestCase {
    func testConflictingOrRepeatedChoicesAreRefusedByName() throws {
        let iba = try Executables.url("iba")
        let cases: [(arguments: [String], expected: String)] = [
            (["evaluate", "--method", "ig", "--methods", "random"], "--method ig and --methods random"),
            (["explain", "--layers", "0,0"], "--layers names layer 0 more than once"),
            (["explain", "--layers", "1, 2,1"], "--layers names layer 1 more than once"),
            (["explain", "--layer", "3", "--layers", "all"], "--layer 3 and --layers all"),
        ]
        for (arguments, expected) in cases {
            let result = try runCommand(iba, arguments)
            XCTAssertNotEqual(result.status, 0, "\(arguments)")
            XCTAssertTrue(result.stderr.contains(expected), "\(arguments): \(result.stderr)")
        }
    }

    /// ESC, BEL and NUL in an id2label name (an xterm title sequence) are printed as U+FFFD by predict and
    /// text explain; JSON keeps the name exact, escaped.
    func testControlCharactersInClassNamesDoNotReachTheTerminal() throws {
        let iba = try Executables.url("iba")
        let names = ["\u{1B}]0;pwned\u{07}World", "Sports\u{0}", "Busi\u{9B}ness", "Sci/Tech"]
        let model = try makeFixtureModel(in: try temporaryDirectory(self), labelNames: names)
        let text = "Oil prices rose as markets fell"
        for arguments in [["predict", "--model", model.path, "--text", text],
                          ["explain", "--model", model.path, "--text", text, "--method", "random", "--target", "0",
                           "--format", "text"],
                          ["explain", "--model", model.path, "--text", text, "--target", "Business"]] {
            let result = try runCommand(iba, arguments)
            let output = result.stdout + result.stderr
            for control in ["\u{1B}", "\u{07}", "\u{0}", "\u{9B}"] {
                let code = control.unicodeScalars.first?.value ?? 0
                XCTAssertFalse(output.contains(control), "\(arguments[0]) printed \(code): \(output)")
            }
            if arguments.contains("predict") || arguments.contains("random") {
                XCTAssertEqual(result.status, 0, result.stderr)
            }
            if arguments.contains("random") { XCTAssertTrue(output.contains("\u{FFFD}]0;pwned\u{FFFD}World"), output) }
        }
        let json = try runCommand(iba, ["predict", "--model", model.path, "--text", text, "--json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        XCTAssertFalse(json.stdout.contains("\u{1B}"), json.stdout)
    }
}
