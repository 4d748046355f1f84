import Foundation
import XCTest
@testable import Evaluation

/// `--part K/N`: disjoint deterministic slices whose union is the selection, and the job they make.
final class JobPartTests: XCTestCase {
    func testSlicesAreDisjointAndTheirUnionIsTheSelectionInEveryOrder() throws {
        let selection = [17, 3, 99, 4, 250, 8, 61, 0, 12, 5, 77]   // selection order, not sorted
        for count in 1...selection.count {
            let slices = try (1...count).map { try JobPart(number: $0, count: count).slice(selection) }
            XCTAssertEqual(slices.flatMap { $0 }.sorted(), selection.sorted(), "\(count) parts: the selection once")
            let sizes = slices.map(\.count)
            XCTAssertLessThanOrEqual((sizes.max() ?? 0) - (sizes.min() ?? 0), 1, "\(count) parts: sizes within one")
            for slice in slices {   // each part keeps selection order
                let positions = slice.compactMap { selection.firstIndex(of: $0) }
                XCTAssertEqual(positions, positions.sorted())
            }
        }
        // Part 2 of 3: the positions p with p mod 3 = 1 (1, 4, 7, 10).
        XCTAssertEqual(try JobPart(number: 2, count: 3).slice(selection), [3, 250, 0, 77])
    }

    func testParsingRefusesWhatIsNotKOfN() throws {
        XCTAssertEqual(try JobPart(parsing: "2/4"), try JobPart(number: 2, count: 4))
        XCTAssertEqual(try JobPart(parsing: "2/4").description, "2/4")
        for text in ["0/4", "5/4", "2", "2/", "/4", "a/b", "1/0", "-1/4", "1/2/3", ""] {
            XCTAssertThrowsError(try JobPart(parsing: text), text) { error in
                XCTAssertTrue("\(error)".contains("--part"), "\(text): \(error)")
            }
        }
    }

    func job(part: JobPart?, testSample: Int = 7) throws -> EvaluationJob {
        var settings = EvaluationSettings()
        settings.dataPath = try EmbeddedData.agnewsDemoTest().path
        settings.testSample = testSample
        return try EvaluationJob(settings: settings, model: ModelReference(path: "/nowhere"),
                                 outputDirectory: FileManager.default.temporaryDirectory, part: part)
    }

    func testAPartIsItsSliceOfTheSameSelectionWithTheSameSettings() throws {
        let whole = try job(part: nil)
        XCTAssertEqual(whole.selected, 7)
        var union = [Int]()
        for number in 1...3 {
            let part = try job(part: JobPart(number: number, count: 3))
            XCTAssertEqual(part.selected, 7)
            XCTAssertEqual(part.plan.indices, try JobPart(number: number, count: 3).slice(whole.plan.indices))
            XCTAssertEqual(try part.settings.fingerprint(), try whole.settings.fingerprint(),
                           "the settings (and so each example's seed) are the whole job's")
            union += part.plan.indices
        }
        XCTAssertEqual(union.sorted(), whole.plan.indices.sorted())
        XCTAssertThrowsError(try job(part: JobPart(number: 8, count: 8))) { error in
            XCTAssertTrue("\(error)".contains("--part 8/8 holds no example: the job selects 7"), "\(error)")
        }
    }
}
