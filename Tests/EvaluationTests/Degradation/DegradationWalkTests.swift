import BERT
import XCTest
@testable import Evaluation

final class DegradationWalkTests: XCTestCase {
    // Expected values come from running the original's DegradationTest._truncate_words
    // in Python by hand (np.argsort with kind='stable' for our tie rule).
    func testLastOrderPositionIsNeverVisited() {
        let tokens = ["[CLS]", "a", "b", "c", "[SEP]"]
        let order = removalOrder(attribution: [0.6, 0.9, 0.5, 0.1, 0.7], reverse: false)
        XCTAssertEqual(order, [1, 4, 0, 2, 3])
        let special = specialTokenMask(tokens)
        XCTAssertEqual(special, [true, false, false, false, true])
        let removed = degradationCounts(tokenCount: 5).map { tokensToRemove(order: order, count: $0, isSpecial: special) }
        // "c" (position 3) is last in the order: never removed, even when 5 are asked.
        XCTAssertEqual(removed, [[1], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2], [1, 2]])
    }

    func testTiesBreakByPositionAndReverseOrder() {
        let attribution: [Float] = [0.9, 0.5, 0.1, 0.5, 0.7, 0.95, 0.2, 0.3, 0.0]
        XCTAssertEqual(removalOrder(attribution: attribution, reverse: false), [5, 0, 4, 1, 3, 7, 6, 2, 8])
        XCTAssertEqual(removalOrder(attribution: attribution, reverse: true), [8, 2, 6, 7, 1, 3, 4, 0, 5])
        XCTAssertEqual(removalOrder(attribution: [1, .nan, 2], reverse: false), [2, 0, 1])
        XCTAssertEqual(removalOrder(attribution: [1, .nan, 2], reverse: true), [0, 2, 1])
    }

    func testDeletionKeepsOrderAndTokenTypesAndReplacementKeepsLength() {
        let input = ModelInput(ids: [101, 11, 12, 13, 14, 102, 15, 16, 102], types: [0, 0, 0, 0, 0, 0, 1, 1, 1])
        XCTAssertEqual(degradedInput(input, removing: [4, 1, 3, 7], replaceWith: nil),
                       ModelInput(ids: [101, 12, 102, 15, 102], types: [0, 0, 0, 1, 1]))
        XCTAssertEqual(degradedInput(input, removing: [4, 1], replaceWith: 103),
                       ModelInput(ids: [101, 103, 12, 13, 103, 102, 15, 16, 102], types: input.types))
    }
}
