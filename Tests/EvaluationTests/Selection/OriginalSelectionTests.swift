import XCTest
@testable import Evaluation

final class OriginalSelectionTests: XCTestCase {
    // Raw outputs printed by NumPy 2.4 by hand:
    // np.random.seed(s); np.random.randint(0, 2**32, size=k, dtype=np.uint32)
    // (a full-range uint32 draw returns the generator's outputs unchanged).
    func testMT19937OutputsMatchNumPy() {
        var three = LegacyMT19937(seed: 3)
        XCTAssertEqual((0..<5).map { _ in three.nextUInt32() }, [2365658986, 303761048, 3041471737, 3607553667, 1249426360])
        var standard = LegacyMT19937(seed: 5489)
        XCTAssertEqual((0..<3).map { _ in standard.nextUInt32() }, [3499211612, 581869302, 3890346734])
        // Outputs 623, 624 and 999 straddle the first state regeneration.
        var long = LegacyMT19937(seed: 3)
        let outputs = (0..<1000).map { _ in long.nextUInt32() }
        XCTAssertEqual([outputs[623], outputs[624], outputs[999]], [1771377942, 1855105112, 1870191509])
    }

    // np.random.seed(3); np.random.random_sample(3)
    func testNextDoubleMatchesRandomSample() {
        var generator = LegacyMT19937(seed: 3)
        XCTAssertEqual((0..<3).map { _ in generator.nextDouble() }, [0.5507979025745755, 0.7081478226181048, 0.2909047389129443])
    }

    // np.random.seed(3); np.random.choice(n, k, replace=False).tolist()
    func testSelectionMatchesNumPyChoice() throws {
        let cases: [(Int, Int, [Int])] = [
            (10, 10, [5, 4, 1, 2, 9, 6, 7, 0, 3, 8]),
            (5, 3, [3, 4, 1]),
            (1, 1, [0]),
            (100, 5, [93, 67, 6, 64, 96]),
            (70000, 4, [2758, 37134, 29158, 5365]),
            (139, 10, [15, 86, 6, 3, 38, 115, 31, 45, 27, 98]),
            (1900, 20, [1221, 1553, 800, 1494, 1121, 1006, 1490, 689, 1570, 112,
                        1336, 312, 617, 1523, 1708, 1800, 1263, 31, 1853, 1271]),
        ]
        for (population, count, expected) in cases {
            XCTAssertEqual(try originalSelection(populationSize: population, count: count), expected, "choice(\(population), \(count))")
        }
    }

    // np.random.seed(3); np.random.choice(1900, 20, replace=False); np.random.uniform(size=4)
    func testGeneratorAfterSelectionContinuesLikeTheOriginalsRandomBaseline() {
        var generator = generatorAfterOriginalSelection(populationSize: 1900)
        XCTAssertEqual((0..<4).map { _ in generator.nextDouble() },
                       [0.9467972913410748, 0.973087040584615, 0.5861713727948309, 0.6935389309981217])
    }

    func testAllIsDatasetOrderAndTooManyIsAnError() throws {
        XCTAssertEqual(try originalSelection(populationSize: 4, count: nil), [0, 1, 2, 3])
        XCTAssertThrowsError(try originalSelection(populationSize: 4, count: 5)) { error in
            XCTAssertEqual(error as? EvaluationError, .selectionTooLarge(requested: 5, available: 4))
        }
    }

    func testSelectionEqualsTheReferenceIndices() throws {
        for (name, population) in [("iba-agnews-layer3.json", 1900), ("iba-rte-layer3.json", 139)] {
            let reference = try loadReference(name)
            let indices = reference.examples.map(\.index)
            XCTAssertEqual(try originalSelection(populationSize: population, count: indices.count), indices, name)
        }
    }

    // The reference's targets are the gold labels of the selected rows, so our
    // readers and selection agree with the run that produced it.
    func testReferenceTargetsAreTheSelectedRowsLabels() throws {
        let shared = try sharedDirectory()
        for (name, kind, file) in [("iba-agnews-layer3.json", DatasetKind.agnews, "data/agnews/test.csv"),
                                   ("iba-rte-layer3.json", .rte, "data/rte/dev.tsv")] {
            let examples = try loadDataset(kind, path: shared.appendingPathComponent(file), skipBadRows: false).examples
            for entry in try loadReference(name).examples {
                XCTAssertEqual(examples[entry.index].label, entry.target, "\(name) index \(entry.index)")
            }
        }
    }
}
