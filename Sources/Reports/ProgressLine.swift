import Foundation

/// One progress line: `[#####.....]  50%  50/100  2.5 ex/s  ETA 20s  extra`.
/// `width` is the bar's width in characters (0 leaves the bar out); rate and ETA assume a steady pace;
/// `unit` names what is counted in the rate (ex = examples, step = optimiser steps...); `alreadyDone` of `done`
/// came from an earlier run (a resume) and is kept out of the rate, so the ETA is this run's pace.
public func formatProgressLine(done: Int, total: Int, elapsedSeconds: Double, extra: String?, width: Int,
                               unit: String = "ex", alreadyDone: Int = 0) -> String {
    let fraction = total > 0 ? min(max(Double(done) / Double(total), 0), 1) : 1
    var parts: [String] = []
    if width > 0 {
        let filled = Int((fraction * Double(width)).rounded(.down))
        parts.append("[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]")
    }
    parts.append(leftPad("\(Int((fraction * 100).rounded(.down)))%", 4))
    parts.append("\(leftPad(String(done), String(total).count))/\(total)")
    let rate = elapsedSeconds > 0 ? Double(max(0, done - alreadyDone)) / elapsedSeconds : 0
    if done >= total && total > 0 {
        parts.append(formatRate(rate, unit: unit))
        parts.append("done in " + formatDuration(elapsedSeconds))
    } else if rate > 0 {
        parts.append(formatRate(rate, unit: unit))
        parts.append("ETA " + formatDuration(Double(total - done) / rate))
    } else {
        parts.append("ETA ?")
    }
    if let extra, !extra.isEmpty { parts.append(extra) }
    return parts.joined(separator: "  ")
}

/// Units per second, or seconds per unit when slower than one a second.
func formatRate(_ rate: Double, unit: String = "ex") -> String {
    guard rate > 0 && rate.isFinite else { return "? \(unit)/s" }
    return rate >= 1 ? formatValue(rate) + " \(unit)/s" : formatValue(1 / rate) + " s/\(unit)"
}

/// A duration as "42s", "3m05s", "1h02m" or "2d03h".
public func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "?" }
    let s = Int(max(0, seconds).rounded())
    if s < 60 { return "\(s)s" }
    if s < 3600 { return "\(s / 60)m" + leftPad(String(s % 60), 2, with: "0") + "s" }
    if s < 86400 { return "\(s / 3600)h" + leftPad(String(s % 3600 / 60), 2, with: "0") + "m" }
    return "\(s / 86400)d" + leftPad(String(s % 86400 / 3600), 2, with: "0") + "h"
}
