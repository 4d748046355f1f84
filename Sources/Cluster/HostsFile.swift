import Foundation

/// One line of a hosts file, as GNU parallel's --sshloginfile:
/// `[slots/][user@]host`, where host `:` means this machine.
/// Blank lines and lines starting with '#' are ignored.
public struct HostEntry: Sendable, Equatable {
    /// Worker processes to start there (nil: the launcher decides, e.g. 1).
    public var slots: Int?
    public var user: String?
    public var host: String

    public var isLocal: Bool { host == ":" }
    /// What to hand to ssh: `user@host` or `host`.
    public var sshDestination: String { user.map { "\($0)@\(host)" } ?? host }

    public init(slots: Int? = nil, user: String? = nil, host: String) {
        self.slots = slots
        self.user = user
        self.host = host
    }

    public static func parseFile(_ text: String) throws -> [HostEntry] {
        var entries: [HostEntry] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            do { entries.append(try parse(line)) } catch {
                throw ClusterError.invalidOption("hosts file line \(number + 1): \(error)")
            }
        }
        return entries
    }

    public static func parse(_ line: String) throws -> HostEntry {
        var rest = Substring(line)
        var slots: Int?
        if let slash = rest.firstIndex(of: "/") {
            guard let count = Int(rest[..<slash]), count >= 1 else {
                throw ClusterError.invalidOption("slots before '/' must be a positive number in \"\(line)\"")
            }
            slots = count
            rest = rest[rest.index(after: slash)...]
        }
        var user: String?
        if let at = rest.lastIndex(of: "@") {
            user = String(rest[..<at])
            rest = rest[rest.index(after: at)...]
            guard user?.isEmpty == false else { throw ClusterError.invalidOption("empty user in \"\(line)\"") }
        }
        let host = String(rest)
        guard !host.isEmpty, !host.contains(where: { $0.isWhitespace || $0 == "/" }) else {
            throw ClusterError.invalidOption("bad host in \"\(line)\"")
        }
        return HostEntry(slots: slots, user: user, host: host)
    }
}
