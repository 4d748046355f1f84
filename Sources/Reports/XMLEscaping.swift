// One escaper serves HTML text, HTML attributes, SVG text and SVG attributes:
// tokens are arbitrary model vocabulary and may contain <, &, quotes or control bytes.

/// `text` safe to place in XML/HTML text or in a double- or single-quoted attribute.
public func xmlEscaped(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
        default:
            // XML 1.0 forbids most C0 controls and the non-characters U+FFFE/U+FFFF even as references.
            if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                out += "\u{FFFD}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out
}
