import Foundation
import XCTest
@testable import Cluster

final class CurveKeysTests: XCTestCase {
    func testGeneratedKeysAreZ85AndPublicKeyDerivesFromSecret() throws {
        let pair = try generateCurveKeyPair()
        XCTAssertEqual(pair.publicKey.count, 40)
        XCTAssertEqual(try curvePublicKey(secretKey: pair.secretKey), pair.publicKey)
        XCTAssertNotEqual(try generateCurveKeyPair(), pair)
        XCTAssertThrowsError(try CurveKeyPair(publicKey: "short", secretKey: pair.secretKey))
    }

    func testClusterKeyDirectoryLayout() throws {
        let directory = try temporaryDirectory("keys")
        try CurveKeyFiles.generateCluster(directory: directory, workerNames: ["a", "b"])
        let client = try CurveClientKeys.load(directory: directory, workerName: "a")
        let authorized = try CurveKeyFiles.loadAuthorizedKeys(directory.appendingPathComponent("authorized"))
        XCTAssertEqual(authorized.count, 2)
        XCTAssertTrue(authorized.contains(client.keyPair.publicKey))
        XCTAssertEqual(client.serverPublicKey, try CurveKeyFiles.readKey(directory.appendingPathComponent("coordinator.pub")))
        let secretPath = directory.appendingPathComponent("worker-a.key").path
        let permissions = try FileManager.default.attributesOfItem(atPath: secretPath)[.posixPermissions] as? Int
        XCTAssertEqual(permissions, 0o600)
        // Mismatched pair is refused.
        try Data(try generateCurveKeyPair().publicKey.utf8).write(to: directory.appendingPathComponent("worker-a.pub"))
        XCTAssertThrowsError(try CurveClientKeys.load(directory: directory, workerName: "a"))
    }

    func testAuthorizedKeysFileWithComments() throws {
        let directory = try temporaryDirectory("authfile")
        let key = try generateCurveKeyPair().publicKey
        let file = directory.appendingPathComponent("authorized_keys")
        try Data("# workers of the lab cluster\n\n\(key)\n".utf8).write(to: file)
        XCTAssertEqual(try CurveKeyFiles.loadAuthorizedKeys(file), [key])
        try Data("not a key\n".utf8).write(to: file)
        XCTAssertThrowsError(try CurveKeyFiles.loadAuthorizedKeys(file))
    }
}
