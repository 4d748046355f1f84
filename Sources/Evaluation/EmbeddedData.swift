import Foundation

/// Small AG News samples shipped inside the package, so a demo runs without
/// downloading data (see Resources/README.txt for how the rows were chosen).
public enum EmbeddedData {
    /// 1,000 training rows, 250 per class, in the AG News CSV format.
    public static func agnewsDemoTrain() throws -> URL { try resource("agnews-demo-train") }

    /// 200 test rows, 50 per class, in the AG News CSV format.
    public static func agnewsDemoTest() throws -> URL { try resource("agnews-demo-test") }

    private static func resource(_ name: String) throws -> URL {
        guard let url = Bundle.module.url(forResource: name, withExtension: "csv", subdirectory: "Resources") else {
            throw EvaluationError.missingResource("Resources/\(name).csv")
        }
        return url
    }
}
