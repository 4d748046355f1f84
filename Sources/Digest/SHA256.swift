import Crypto

/// SHA-256, streaming, as lower-case hex: the content hash of run manifests, model identity,
/// shipped files and the results log's chain. A thin wrapper over swift-crypto, kept so the
/// callers need one small API (and never their own cryptography).
public struct SHA256 {
    private var hasher = Crypto.SHA256()

    public init() {}

    public mutating func add(_ bytes: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bytes) }

    public mutating func add<C: Sequence>(_ bytes: C) where C.Element == UInt8 {
        let array = Array(bytes)
        array.withUnsafeBytes { hasher.update(bufferPointer: $0) }
    }

    /// The digest as 64 lower-case hex digits; `self` is not usable afterwards.
    public mutating func finish() -> String { hexadecimal(hasher.finalize()) }
}

/// HMAC-SHA-256 with a secret key, streaming, as lower-case hex: a chain that only the key's
/// holder can recompute (the results log with `--log-key`).
public struct HMACSHA256 {
    private var authenticator: HMAC<Crypto.SHA256>

    public init(key: [UInt8]) { authenticator = HMAC(key: SymmetricKey(data: key)) }

    public mutating func add<C: Sequence>(_ bytes: C) where C.Element == UInt8 {
        let array = Array(bytes)
        array.withUnsafeBytes { authenticator.update(data: $0) }
    }

    /// The tag as 64 lower-case hex digits; `self` is not usable afterwards.
    public mutating func finish() -> String { hexadecimal(authenticator.finalize()) }
}

/// Compares two hex strings in time independent of where they differ (a tag check).
public func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let left = Array(a.utf8), right = Array(b.utf8)
    guard left.count == right.count else { return false }
    var difference: UInt8 = 0
    for (x, y) in zip(left, right) { difference |= x ^ y }
    return difference == 0
}

private func hexadecimal(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var text = [UInt8]()
    for byte in bytes {
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0xf)])
    }
    return String(decoding: text, as: UTF8.self)
}
