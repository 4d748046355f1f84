import XCTest
import Attribution

final class AttributionSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
