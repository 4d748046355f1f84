import XCTest
@testable import Reports

final class TerminalRenderingTests: XCTestCase {
    private let tokens = SampleData.tokens
    private var values: [Float] { SampleData.attribution(for: SampleData.tokens, layer: 0, layers: 6) }

    func testColourModesEmitEscapesAndPlainEmitsNone() throws {
        let trueColor = renderTerminal(tokens: tokens, attribution: values, colorMode: .trueColor)
        let palette = renderTerminal(tokens: tokens, attribution: values, colorMode: .ansi256)
        let plain = renderTerminal(tokens: tokens, attribution: values, colorMode: .plain)
        try writeSampleIfRequested(trueColor, name: "terminal-truecolor.txt")
        try writeSampleIfRequested(plain, name: "terminal-plain.txt")
        XCTAssertTrue(trueColor.contains("\u{1B}[48;2;"))
        XCTAssertTrue(palette.contains("\u{1B}[48;5;"))
        XCTAssertFalse(palette.contains("\u{1B}[48;2;"))
        XCTAssertFalse(plain.contains("\u{1B}"))
        XCTAssertTrue(plain.contains("0.00]"), "plain mode shows values in brackets")
    }

    func testWordPiecesJoinAndTopKIsRanked() {
        let plain = renderTerminal(tokens: ["[CLS]", "carl", "##yle", "buys", "aerospace"],
                                   attribution: [0, 0.5, 0.75, 0.25, 1], colorMode: .plain, topK: 2)
        XCTAssertTrue(plain.hasPrefix("[CLS][0.00] carl[0.50]yle[0.75] buys[0.25] aerospace[1.00]\n"), plain)
        let ranked = plain.components(separatedBy: "\n").filter { $0.hasPrefix("  1.") || $0.hasPrefix("  2.") }
        XCTAssertEqual(ranked.count, 2)
        XCTAssertTrue(ranked.first?.contains("aerospace") ?? false)
        XCTAssertTrue(ranked.last?.contains("##yle") ?? false, "ranked list keeps the raw WordPiece")
        XCTAssertFalse(plain.contains("  3."))
    }

    func testPlainLinesWrapAtWordBoundaries() {
        let plain = renderTerminal(tokens: tokens, attribution: values, colorMode: .plain, topK: 0, lineWidth: 60)
        let lines = plain.split(separator: "\n")
        XCTAssertGreaterThan(lines.count, 5)
        for line in lines { XCTAssertLessThanOrEqual(line.count, 60, String(line)) }
        XCTAssertFalse(lines.contains { $0.hasPrefix("yle[") }, "a continuation piece never starts a line")
    }

    func testEscapeCharactersInTokensAreNeutralised() {
        let out = renderTerminal(tokens: ["a\u{1B}[2J"], attribution: [1], colorMode: .plain)
        XCTAssertFalse(out.contains("\u{1B}"))
    }

    func testDetection() {
        XCTAssertEqual(TerminalColorMode.detect(environment: ["COLORTERM": "truecolor"], isTTY: false), .plain)
        XCTAssertEqual(TerminalColorMode.detect(environment: ["COLORTERM": "truecolor", "TERM": "xterm"], isTTY: true), .trueColor)
        XCTAssertEqual(TerminalColorMode.detect(environment: ["TERM": "xterm-256color"], isTTY: true), .ansi256)
        XCTAssertEqual(TerminalColorMode.detect(environment: ["TERM": "dumb"], isTTY: true), .plain)
        XCTAssertEqual(TerminalColorMode.detect(environment: ["TERM": "xterm", "NO_COLOR": "1"], isTTY: true), .plain)
    }

    func testPaletteIndex() {
        XCTAssertEqual(ansi256Index((0, 0, 0)), 16)
        XCTAssertEqual(ansi256Index((255, 255, 255)), 231)
        XCTAssertEqual(ansi256Index((255, 0, 0)), 196)
    }
}
