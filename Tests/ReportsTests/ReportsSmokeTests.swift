import XCTest
import Reports

final class ReportsSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
