import XCTest
import Cluster

final class ClusterSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
