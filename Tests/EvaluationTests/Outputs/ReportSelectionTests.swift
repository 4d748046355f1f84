import XCTest
@testable import Evaluation

final class ReportSelectionTests: XCTestCase {
    func record(_ index: Int, original: Float, first: Float, failed: Bool = false) -> ExampleRecord {
        failed ? .failure(index: index, target: 0, reason: "x")
            : ExampleRecord(index: index, target: 0, tokens: ["a"], attribution: [1], originalProb: original, originalCorrect: true,
                            degradationProb: [first, 0.1], degradationCorrect: [true, false])
    }

    func testMostAndLeastDropAtTheFirstStep() {
        // drops (exact in binary): 100 -> 0.5, 101 -> 0.125, 102 -> 0.875, 103 -> -0.25 (rose), 104 failed, 105 -> 0.5 (ties 100)
        let records = [record(100, original: 0.75, first: 0.25), record(101, original: 0.5, first: 0.375),
                       record(102, original: 1.0, first: 0.125), record(103, original: 0.25, first: 0.5),
                       record(104, original: 0, first: 0, failed: true), record(105, original: 1.0, first: 0.5)]
        let picked = examplesForReport(records, count: 2)
        XCTAssertEqual(picked.mostDropped.map(\.index), [102, 100], "largest drop first; a tie goes to the earlier record")
        XCTAssertEqual(picked.leastDropped.map(\.index), [103, 101], "smallest drop first")
        // Fewer than 2 x count evaluated: split in halves, so the least-dropped list is not empty (it said
        // "no evaluated examples" while five were).
        let all = examplesForReport(records, count: 10)
        XCTAssertEqual(all.mostDropped.map(\.index), [102, 100, 105], "failed records are left out; the larger half")
        XCTAssertEqual(all.leastDropped.map(\.index), [103, 101], "the other half, never an example twice")
        let one = examplesForReport([record(7, original: 0.5, first: 0.25)], count: 10)
        XCTAssertEqual(one.mostDropped.map(\.index), [7])
        XCTAssertTrue(one.leastDropped.isEmpty)
    }
}
