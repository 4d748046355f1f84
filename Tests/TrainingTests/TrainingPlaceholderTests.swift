import XCTest
import Training

final class TrainingPlaceholderTests: XCTestCase {
    func testModuleLinks() throws { throw XCTSkip("fine-tuning tests arrive with the Training module") }
}
