import CZMQ
import Foundation

// CURVE keys as Z85 text (40 characters for 32 bytes), as libzmq takes them.
// Files: NAME.pub holds the public key, NAME.key the secret key (mode 0600),
// one key per file on one line. The coordinator's key directory holds
// coordinator.key, coordinator.pub and authorized/ (one *.pub per admitted
// worker); a worker needs coordinator.pub and its own worker-NAME.key/.pub.

public struct CurveZMQKeyPair: Sendable, Equatable {
    public let publicKey: String
    public let secretKey: String

    public init(publicKey: String, secretKey: String) throws {
        try validateZ85Key(publicKey)
        try validateZ85Key(secretKey)
        self.publicKey = publicKey
        self.secretKey = secretKey
    }
}

/// What a worker needs to talk to a CURVE coordinator.
public struct CurveZMQClientKeys: Sendable, Equatable {
    public var serverPublicKey: String
    public var keyPair: CurveZMQKeyPair

    public init(serverPublicKey: String, keyPair: CurveZMQKeyPair) throws {
        try validateZ85Key(serverPublicKey)
        self.serverPublicKey = serverPublicKey
        self.keyPair = keyPair
    }

    /// Reads DIR/coordinator.pub and DIR/worker-NAME.key/.pub.
    public static func load(directory: URL, workerName: String) throws -> CurveZMQClientKeys {
        try CurveZMQKeyFiles.validateWorkerName(workerName)
        return try CurveZMQClientKeys(
            serverPublicKey: try CurveZMQKeyFiles.readKey(
                directory.appendingPathComponent("\(CurveZMQKeyFiles.coordinatorName).pub")),
            keyPair: try CurveZMQKeyFiles.loadKeyPair(
                name: CurveZMQKeyFiles.workerFileName(workerName), from: directory))
    }
}

public func generateCurveZMQKeyPair() throws -> CurveZMQKeyPair {
    var publicKey = [CChar](repeating: 0, count: 41)
    var secretKey = [CChar](repeating: 0, count: 41)
    guard zmq_curve_keypair(&publicKey, &secretKey) == 0 else { throw zmqError("zmq_curve_keypair") }
    return try CurveZMQKeyPair(publicKey: cText(publicKey), secretKey: cText(secretKey))
}

/// The Z85 public key that belongs to a Z85 secret key.
public func curveZMQPublicKey(secretKey: String) throws -> String {
    try validateZ85Key(secretKey)
    var publicKey = [CChar](repeating: 0, count: 41)
    guard zmq_curve_public(&publicKey, secretKey) == 0 else { throw zmqError("zmq_curve_public") }
    return cText(publicKey)
}

func validateZ85Key(_ key: String) throws {
    guard key.utf8.count == 40 else {
        throw ClusterError.invalidKey("expected 40 Z85 characters, got \(key.utf8.count)")
    }
    var decoded = [UInt8](repeating: 0, count: 32)
    guard zmq_z85_decode(&decoded, key) != nil else { throw ClusterError.invalidKey("not Z85 text") }
}

/// Raw 32-byte key (as ZAP hands it over) to Z85 text.
func z85Encode(_ key: Data) -> String? {
    guard key.count == 32 else { return nil }
    var text = [CChar](repeating: 0, count: 41)
    let bytes = [UInt8](key)
    guard zmq_z85_encode(&text, bytes, 32) != nil else { return nil }
    return cText(text)
}

/// A NUL-terminated C buffer as a String.
func cText(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

public enum CurveZMQKeyFiles {
    public static let coordinatorName = "coordinator"
    public static let authorizedDirectory = "authorized"

    public static func workerFileName(_ workerName: String) -> String { "worker-\(workerName)" }

    /// Writes NAME.pub and NAME.key (0600) into `directory`, creating it.
    public static func write(_ pair: CurveZMQKeyPair, name: String, to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let secret = directory.appendingPathComponent("\(name).key")
        do {
            try Data((pair.publicKey + "\n").utf8).write(to: directory.appendingPathComponent("\(name).pub"))
            _ = FileManager.default.createFile(
                atPath: secret.path, contents: nil, attributes: [.posixPermissions: 0o600])
            try Data((pair.secretKey + "\n").utf8).write(to: secret)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: secret.path)
        } catch {
            throw ClusterError.keyFile("cannot write \(name) keys in \(directory.path): \(error)")
        }
    }

    public static func loadKeyPair(name: String, from directory: URL) throws -> CurveZMQKeyPair {
        let secret = try readKey(directory.appendingPathComponent("\(name).key"))
        let publicKey = try readKey(directory.appendingPathComponent("\(name).pub"))
        guard try curveZMQPublicKey(secretKey: secret) == publicKey else {
            throw ClusterError.keyFile("\(name).pub does not belong to \(name).key in \(directory.path)")
        }
        return try CurveZMQKeyPair(publicKey: publicKey, secretKey: secret)
    }

    /// A key file: its first key line (see `keyLines`).
    public static func readKey(_ url: URL) throws -> String {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw ClusterError.keyFile("cannot read \(url.path)")
        }
        let keys = keyLines(text)
        guard let key = keys.first else { throw ClusterError.keyFile("no key in \(url.path)") }
        do { try validateZ85Key(key) } catch { throw ClusterError.keyFile("\(url.path): \(error)") }
        return key
    }

    /// Public keys admitted by the coordinator: every *.pub in a directory, or
    /// every key line of a single file.
    public static func loadAuthorizedKeys(_ url: URL) throws -> Set<String> {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw ClusterError.keyFile("authorized keys \(url.path) not found")
        }
        var keys = Set<String>()
        if isDirectory.boolValue {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
            for name in names.sorted() where name.hasSuffix(".pub") {
                keys.insert(try readKey(url.appendingPathComponent(name)))
            }
        } else {
            guard let text = try? String(contentsOf: url, encoding: .utf8) else {
                throw ClusterError.keyFile("cannot read \(url.path)")
            }
            for key in keyLines(text) {
                do { try validateZ85Key(key) } catch { throw ClusterError.keyFile("\(url.path): \(error)") }
                keys.insert(key)
            }
        }
        return keys
    }

    /// Key generation for a whole cluster: coordinator keys plus one pair per
    /// worker name, each worker's public key copied into authorized/.
    public static func generateCluster(directory: URL, workerNames: [String]) throws {
        for worker in workerNames { try validateWorkerName(worker) }  // before any file is written
        try write(try generateCurveZMQKeyPair(), name: coordinatorName, to: directory)
        for worker in workerNames {
            try addWorker(worker, directory: directory)
        }
    }

    /// New worker-NAME key pair in `directory`, authorised in authorized/.
    public static func addWorker(_ workerName: String, directory: URL) throws {
        try validateWorkerName(workerName)
        let pair = try generateCurveZMQKeyPair()
        try write(pair, name: workerFileName(workerName), to: directory)
        let authorized = directory.appendingPathComponent(authorizedDirectory)
        try FileManager.default.createDirectory(at: authorized, withIntermediateDirectories: true)
        do {
            try Data((pair.publicKey + "\n").utf8).write(
                to: authorized.appendingPathComponent("\(workerFileName(workerName)).pub"))
        } catch {
            throw ClusterError.keyFile("cannot write into \(authorized.path): \(error)")
        }
    }

    /// A worker name becomes part of file names: [A-Za-z0-9._-], 1...100
    /// characters, not starting with a dot (so "a/../../x" cannot leave the directory).
    public static func validateWorkerName(_ name: String) throws {
        guard (1...100).contains(name.count), !name.hasPrefix("."),
              name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
            throw ClusterError.keyFile("worker name \"\(printable(name, limit: 64))\" "
                + "must be 1...100 characters of [A-Za-z0-9._-], not starting with a dot")
        }
    }

    /// Non-empty lines that are not comments. '#' is a Z85 character, so a
    /// line starting with '#' is a comment only if it cannot be a key
    /// (keys are exactly 40 characters without spaces).
    static func keyLines(_ text: String) -> [String] {
        text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { line in
                guard !line.isEmpty else { return false }
                guard line.hasPrefix("#") else { return true }
                return line.utf8.count == 40 && !line.contains(" ")
            }
    }
}
