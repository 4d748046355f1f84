import XCTest
import Tokenizer

final class TokenizerSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
