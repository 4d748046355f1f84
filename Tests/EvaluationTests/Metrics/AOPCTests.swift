import BERT
import XCTest
@testable import Evaluation

final class AOPCTests: XCTestCase {
    // Expected rationales and inputs come from ferret's _get_id_tokens_percentage /
    // AOPC loops re-run in Python by hand on the same scores (thresholds
    // np.arange(0.1, 1.1, 0.1), only_pos, first and last token dropped).
    let input = ModelInput(ids: [101, 21, 22, 23, 24, 25, 26, 27, 102], types: Array(repeating: 0, count: 9))
    let attribution: [Float] = [0.3, 0.8, 0.1, 0.0, 0.5, -0.2, 0.9, 0.4, 0.7]
    var isSpecial: [Bool] { specialTokenMask(["[CLS]", "a", "b", "c", "d", "e", "f", "g", "[SEP]"]) }

    func testThresholdsAreNumPyArange() {
        // np.arange(0.1, 1.1, 0.1).tolist()
        XCTAssertEqual(AOPCOptions.ferretThresholds, [0.1, 0.2, 0.30000000000000004, 0.4, 0.5, 0.6, 0.7000000000000001, 0.8, 0.9, 1.0])
    }

    func testRationalesSkipEmptyAndRepeatedSets() {
        // k = int(t * 7): 0, 1, 2, 2, 3, 4, 4, 5, 6, 7; the 6- and 7-token sets lose
        // their non-positive scores and repeat the 5-token set.
        let rationales = aopcRationales(attribution: attribution, isSpecial: isSpecial)
        XCTAssertEqual(rationales, [[6], [6, 1], [6, 1, 4], [6, 1, 4, 7], [6, 1, 4, 7, 2]])
    }

    func testComprehensivenessAndSufficiencyInputs() throws {
        let inputs = try aopcInputs(input: input, isSpecial: isSpecial, attribution: attribution)
        XCTAssertEqual(inputs.comprehensiveness.map(\.ids), [
            [101, 21, 22, 23, 24, 25, 27, 102], [101, 22, 23, 24, 25, 27, 102], [101, 22, 23, 25, 27, 102],
            [101, 22, 23, 25, 102], [101, 23, 25, 102],
        ])
        XCTAssertEqual(inputs.sufficiency.map(\.ids), [
            [101, 26, 102], [101, 21, 26, 102], [101, 21, 24, 26, 102], [101, 21, 24, 26, 27, 102],
            [101, 21, 22, 24, 26, 27, 102],
        ])
    }

    func testScoresAreMeanDropsWithFerretsDefaults() {
        // Differences in float64 (ferret's are float32; they agree to ~1e-7), summed in
        // order: Python (p0 - 0.5 + p0 - 0.25 + p0 - 0.125) / 3, p0 = float(np.float32(0.9)).
        XCTAssertEqual(aopcComprehensiveness(originalProbability: 0.9, perturbedProbabilities: [0.5, 0.25, 0.125]),
                       0.6083333094914755, accuracy: 1e-15)
        XCTAssertEqual(aopcSufficiency(originalProbability: 0.9, perturbedProbabilities: [0.5, 0.25, 0.125]),
                       0.6083333094914755, accuracy: 1e-15)
        XCTAssertEqual(aopcComprehensiveness(originalProbability: 0.9, perturbedProbabilities: []), 0)
        XCTAssertEqual(aopcSufficiency(originalProbability: 0.9, perturbedProbabilities: []), 1)
    }

    func testAreaBetweenCurvesIsTrapezoid() throws {
        // np.trapezoid(np.array(lerf) - np.array(morf), np.linspace(0, 1, 4)) = 0.31666666666666665
        let area = try areaBetweenCurves(morf: [0.9, 0.5, 0.3, 0.2], lerf: [0.9, 0.85, 0.8, 0.4], fractions: linspaceUnit(4))
        XCTAssertEqual(area, 0.31666666666666665, accuracy: 1e-12)
        let fromTests = try areaBetweenCurves(originalProbability: 0.9, morf: [0.5, 0.3, 0.2], lerf: [0.85, 0.8, 0.4])
        XCTAssertEqual(fromTests, 0.31666666666666665, accuracy: 1e-6)
        XCTAssertThrowsError(try areaBetweenCurves(morf: [1], lerf: [1, 2], fractions: [0, 1]))
    }
}
