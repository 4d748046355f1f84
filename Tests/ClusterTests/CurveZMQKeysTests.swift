import Foundation
import XCTest
@testable import Cluster

final class CurveZMQKeysTests: XCTestCase {
    func testGeneratedKeysAreZ85AndPublicKeyDerivesFromSecret() throws {
        let pair = try generateCurveZMQKeyPair()
        XCTAssertEqual(pair.publicKey.count, 40)
        XCTAssertEqual(try curveZMQPublicKey(secretKey: pair.secretKey), pair.publicKey)
        XCTAssertNotEqual(try generateCurveZMQKeyPair(), pair)
        XCTAssertThrowsError(try CurveZMQKeyPair(publicKey: "short", secretKey: pair.secretKey))
    }

    func testClusterKeyDirectoryLayout() throws {
        let directory = try temporaryDirectory("keys")
        try CurveZMQKeyFiles.generateCluster(directory: directory, workerNames: ["a", "b"])
        let client = try CurveZMQClientKeys.load(directory: directory, workerName: "a")
        let authorized = try CurveZMQKeyFiles.loadAuthorizedKeys(directory.appendingPathComponent("authorized"))
        XCTAssertEqual(authorized.count, 2)
        XCTAssertTrue(authorized.contains(client.keyPair.publicKey))
        XCTAssertEqual(client.serverPublicKey, try CurveZMQKeyFiles.readKey(directory.appendingPathComponent("coordinator.pub")))
        let secretPath = directory.appendingPathComponent("worker-a.key").path
        let permissions = try FileManager.default.attributesOfItem(atPath: secretPath)[.posixPermissions] as? Int
        XCTAssertEqual(permissions, 0o600)
        // Mismatched pair is refused.
        try Data(try generateCurveZMQKeyPair().publicKey.utf8).write(to: directory.appendingPathComponent("worker-a.pub"))
        XCTAssertThrowsError(try CurveZMQClientKeys.load(directory: directory, workerName: "a"))
    }

    func testAuthorizedKeysFileWithComments() throws {
        let directory = try temporaryDirectory("authfile")
        let key = try generateCurveZMQKeyPair().publicKey
        let file = directory.appendingPathComponent("authorized_keys")
        try Data("# workers of the lab cluster\n\n\(key)\n".utf8).write(to: file)
        XCTAssertEqual(try CurveZMQKeyFiles.loadAuthorizedKeys(file), [key])
        try Data("not a key\n".utf8).write(to: file)
        XCTAssertThrowsError(try CurveZMQKeyFiles.loadAuthorizedKeys(file))
    }
}

final class KeyNameTests: XCTestCase {
    // Issue 12: `keygen --workers a/../../x` wrote outside the key directory.
    func testWorkerNamesThatAreNotPlainAreRefusedBeforeAnyFileIsWritten() throws {
        let directory = try temporaryDirectory("names").appendingPathComponent("keys")
        for bad in ["a/../../x", "../x", ".hidden", "", "a b", "x\u{1b}"] {
            XCTAssertThrowsError(try CurveZMQKeyFiles.generateCluster(directory: directory, workerNames: ["ok", bad]), bad)
            XCTAssertThrowsError(try CurveZMQKeyFiles.addWorker(bad, directory: directory), bad)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.path), "files written despite a bad name")
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.deletingLastPathComponent().appendingPathComponent("x.pub").path))
        XCTAssertNoThrow(try CurveZMQKeyFiles.generateCluster(directory: directory, workerNames: ["node-1.lab_2"]))
    }
}
