import XCTest
import BERT

final class BERTSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
