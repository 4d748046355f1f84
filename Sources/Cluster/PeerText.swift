import Foundation

/// Text a peer sent (HELLO name, REFUSE reason, ERROR message), made safe to
/// print: control and format characters become \u{…} escapes, so a peer
/// cannot forge log lines (newlines) or drive the terminal (ANSI escapes),
/// and long text is cut at `limit` characters.
func printable(_ text: String, limit: Int = 300) -> String {
    var out = ""
    var count = 0
    for scalar in text.unicodeScalars {
        guard count < limit else { return out + "…" }
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
            out += "\\u{" + String(scalar.value, radix: 16) + "}"
        default:
            out.unicodeScalars.append(scalar)
        }
        count += 1
    }
    return out
}
