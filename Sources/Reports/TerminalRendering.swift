// Attributions in a terminal: the sentence with each token on its viridis colour,
// then the most attributed tokens as a ranked list.

private let escape = "\u{1B}["
private let reset = "\u{1B}[0m"

/// `tokens` coloured by `attribution` (row-normalised viridis), wrapped at `lineWidth` columns,
/// followed by the `topK` highest-attributed tokens with their raw values.
public func renderTerminal(
    tokens: [String], attribution: [Float], colorMode: TerminalColorMode,
    topK: Int = 10, lineWidth: Int = 100
) -> String {
    let count = min(tokens.count, attribution.count)
    let shownTokens = tokens.prefix(count).map { terminalSafe($0) }
    let values = Array(attribution.prefix(count))
    let levels = normalizedForColor(values)
    var out = ""
    if tokens.count != attribution.count {
        out += "(\(tokens.count) tokens but \(attribution.count) attribution values: showing the first \(count))\n"
    }

    // The sentence, wrapped only between words so glued "##" pieces stay on one line.
    let pieces = displayPieces(shownTokens)
    let cellWidths = pieces.map { $0.text.count + (colorMode == .plain ? 6 : 0) }
    var column = 0
    for (index, piece) in pieces.enumerated() {
        if piece.spaceBefore {
            var wordWidth = cellWidths[index]
            var next = index + 1
            while next < pieces.count && !pieces[next].spaceBefore {
                wordWidth += cellWidths[next]
                next += 1
            }
            if column > 0 && column + 1 + wordWidth > lineWidth {
                out += "\n"
                column = 0
            } else {
                out += " "
                column += 1
            }
        }
        out += colorMode == .plain
            ? piece.text + "[" + twoDecimals(levels[index]) + "]"
            : colored(piece.text, level: levels[index], mode: colorMode)
        column += cellWidths[index]
    }
    out += "\n"
    if colorMode != .plain {
        out += "low " + (0..<10).map { colored(" ", level: Float($0) / 9, mode: colorMode) }.joined() + " high\n"
    }

    // The ranked list uses raw tokens (with "##") since each piece is attributed on its own.
    let ranked = values.indices
        .filter { values[$0].isFinite }
        .sorted { values[$0] != values[$1] ? values[$0] > values[$1] : $0 < $1 }
        .prefix(max(0, topK))
    guard !ranked.isEmpty else { return out }
    out += "\ntop \(ranked.count) tokens:\n"
    let tokenWidth = min(24, ranked.map { shownTokens[$0].count }.max() ?? 0)
    let positionWidth = String(count - 1).count
    for (rank, index) in ranked.enumerated() {
        let rankText = leftPad(String(rank + 1), 3) + ". "
        let token = rightPad(shownTokens[index], tokenWidth)
        let position = "#" + rightPad(String(index), positionWidth)
        let bar = String(repeating: "#", count: Int((levels[index] * 20).rounded()))
        let barText = colorMode == .plain ? bar : foreground(bar, level: levels[index], mode: colorMode)
        out +=
            rankText + token + "  " + position + "  " + leftPad(formatValue(values[index]), 9) + "  " + barText + "\n"
    }
    return out
}

/// `text` on the viridis colour for `level`, with black or white text, whichever contrasts more.
private func colored(_ text: String, level: Float, mode: TerminalColorMode) -> String {
    let background = viridis(level)
    let dark = prefersDarkText(on: background)
    switch mode {
    case .plain:
        return text
    case .trueColor:
        let fg = dark ? "38;2;0;0;0" : "38;2;255;255;255"
        return escape + "48;2;\(background.r);\(background.g);\(background.b);" + fg + "m" + text + reset
    case .ansi256:
        let fg = dark ? "38;5;16" : "38;5;231"
        return escape + "48;5;\(ansi256Index(background));" + fg + "m" + text + reset
    }
}

/// `text` in the viridis colour for `level` on the terminal's own background.
private func foreground(_ text: String, level: Float, mode: TerminalColorMode) -> String {
    // The darkest viridis purple is unreadable on dark terminals; start the bars a little higher.
    let colour = viridis(0.25 + 0.75 * level)
    switch mode {
    case .plain: return text
    case .trueColor: return escape + "38;2;\(colour.r);\(colour.g);\(colour.b)m" + text + reset
    case .ansi256: return escape + "38;5;\(ansi256Index(colour))m" + text + reset
    }
}

/// The nearest entry of the xterm 6x6x6 colour cube (indices 16...231).
func ansi256Index(_ c: (r: UInt8, g: UInt8, b: UInt8)) -> Int {
    // Cube levels are 0, 95, 135, 175, 215, 255.
    func level(_ v: UInt8) -> Int {
        let levels = [0, 95, 135, 175, 215, 255]
        var best = 0
        for (i, l) in levels.enumerated() where abs(l - Int(v)) < abs(levels[best] - Int(v)) { best = i }
        return best
    }
    return 16 + 36 * level(c.r) + 6 * level(c.g) + level(c.b)
}

private func twoDecimals(_ v: Float) -> String {
    let hundredths = Int((min(max(v, 0), 1) * 100).rounded())
    return hundredths == 100 ? "1.00" : "0." + leftPad(String(hundredths), 2, with: "0")
}

func leftPad(_ s: String, _ width: Int, with fill: Character = " ") -> String {
    s.count >= width ? s : String(repeating: fill, count: width - s.count) + s
}

func rightPad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
}
