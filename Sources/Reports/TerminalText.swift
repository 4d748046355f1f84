// Untrusted text (class names from a config, tokens from a vocabulary, example text, what a peer sends)
// reaches terminals: ESC, BEL, NUL and friends there could set the window title, move the cursor or
// forge a line, so they are shown as U+FFFD instead.

/// `text` with every C0 control, DEL and C1 control (U+0080-U+009F: a single-byte CSI in some terminals)
/// replaced by U+FFFD; line feeds and tabs are kept when `keepingLayout` (text laid out in lines).
public func terminalSafe(_ text: String, keepingLayout: Bool = false) -> String {
    String(String.UnicodeScalarView(text.unicodeScalars.map { scalar in
        let v = scalar.value
        if keepingLayout, v == 0x0A || v == 0x09 { return scalar }
        return v < 0x20 || (0x7F...0x9F).contains(v) ? "\u{FFFD}" : scalar
    }))
}
