import Foundation
import XCTest
@testable import Cluster

final class HostsFileTests: XCTestCase {
    func testParsesTheExampleFile() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../cluster/hosts.example").standardized
        let entries = try HostEntry.parseFile(try String(contentsOf: url, encoding: .utf8))
        XCTAssertEqual(entries, [
            HostEntry(slots: 2, host: ":"),
            HostEntry(host: "gpu-node-01"),
            HostEntry(slots: 4, user: "alice", host: "compute-02.lab.example.org"),
            HostEntry(user: "bob", host: "10.0.3.17"),
        ])
        XCTAssertTrue(entries[0].isLocal)
        XCTAssertEqual(entries[2].sshDestination, "alice@compute-02.lab.example.org")
    }

    func testRejectsBadLines() {
        for line in ["0/host", "x/host", "@host", "2/", "a b"] {
            XCTAssertThrowsError(try HostEntry.parse(line), line)
        }
    }
}
