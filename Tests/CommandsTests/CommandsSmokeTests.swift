import XCTest
import IBACommands

final class CommandsSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
