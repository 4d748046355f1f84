import Foundation
import XCTest

/// The read-only `../shared` folder beside the package root (or `$IBA_SHARED`):
/// reference outputs and models. It is absent on users' machines, so tests
/// that need it skip with a clear message.
public enum Shared {
    public static var directory: URL {
        if let path = ProcessInfo.processInfo.environment["IBA_SHARED"], !path.isEmpty { return URL(fileURLWithPath: path) }
        // Tests/TestSupport/<file>.swift -> package root -> ../shared
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }

    /// The folder itself, or a skip when it (its README) is not there.
    public static func root() throws -> URL {
        try url("README.md").deletingLastPathComponent()
    }

    /// A path inside the folder, or a skip when it is not there.
    public static func url(_ relative: String) throws -> URL {
        let url = directory.appendingPathComponent(relative)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw XCTSkip("shared material \(relative) not found under \(directory.path) (set IBA_SHARED to point at it)")
        }
        return url
    }

    public static func json(_ relative: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: url(relative)))
    }
}

public func maxAbsDifference(_ a: [Float], _ b: [Double]) -> Double {
    precondition(a.count == b.count)
    return zip(a, b).map { abs(Double($0) - $1) }.max() ?? 0
}

public func pearson(_ a: [Float], _ b: [Double]) -> Double {
    let x = a.map(Double.init), n = Double(x.count)
    let mx = x.reduce(0, +) / n, my = b.reduce(0, +) / n
    var sxy = 0.0, sxx = 0.0, syy = 0.0
    for (u, v) in zip(x, b) { sxy += (u - mx) * (v - my); sxx += (u - mx) * (u - mx); syy += (v - my) * (v - my) }
    return sxy / (sxx * syy).squareRoot()
}
