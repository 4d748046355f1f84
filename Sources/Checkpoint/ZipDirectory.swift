/// The entries of a zip archive, read from its central directory. PyTorch stores tensor
/// data uncompressed (and 64-byte aligned), so each entry is a plain byte range of the
/// mapped file. ZIP64 records, which torch always writes, are understood.
struct ZipDirectory {
    struct Entry {
        let name: String
        let data: ByteView
    }

    private static let endOfDirectorySignature: UInt32 = 0x0605_4B50
    private static let zip64LocatorSignature: UInt32 = 0x0706_4B50
    private static let zip64EndSignature: UInt32 = 0x0606_4B50
    private static let directoryEntrySignature: UInt32 = 0x0201_4B50
    private static let localHeaderSignature: UInt32 = 0x0403_4B50

    /// Entry name -> entry location, without reading any data yet.
    private(set) var records: [String: Record] = [:]
    private(set) var names: [String] = []
    private let file: ByteView

    struct Record {
        let localHeaderOffset: Int
        let compressedSize: Int
        let uncompressedSize: Int
        let method: UInt16
        let flags: UInt16
    }

    init(_ file: ByteView) throws {
        self.file = file
        let end = try Self.findEndOfDirectory(file)
        var entryCount = Int(try file.uint16(at: end + 10))
        var directorySize = Int(try file.uint32(at: end + 12))
        var directoryOffset = Int(try file.uint32(at: end + 16))
        if entryCount == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            let zip64 = try Self.zip64EndOfDirectory(file, before: end)
            entryCount = zip64.entryCount
            directorySize = zip64.directorySize
            directoryOffset = zip64.directoryOffset
        }
        let directory = try file.slice(offset: directoryOffset, length: directorySize, "the zip central directory")
        var position = 0
        for _ in 0..<entryCount {
            guard try directory.uint32(at: position) == Self.directoryEntrySignature else {
                throw Self.malformed(
                    "central directory entry at offset \(directoryOffset + position) has a bad signature")
            }
            let flags = try directory.uint16(at: position + 8)
            let method = try directory.uint16(at: position + 10)
            var compressedSize = UInt64(try directory.uint32(at: position + 20))
            var uncompressedSize = UInt64(try directory.uint32(at: position + 24))
            let nameLength = Int(try directory.uint16(at: position + 28))
            let extraLength = Int(try directory.uint16(at: position + 30))
            let commentLength = Int(try directory.uint16(at: position + 32))
            var localOffset = UInt64(try directory.uint32(at: position + 42))
            let nameBytes = try directory.bytes(at: position + 46, length: nameLength)
            let extra = try directory.slice(
                offset: position + 46 + nameLength, length: extraLength, "a zip extra field")
            try Self.applyZip64Extra(extra, uncompressed: &uncompressedSize, compressed: &compressedSize,
                                     localOffset: &localOffset)
            guard let name = String(validating: nameBytes, as: UTF8.self) else {
                throw Self.malformed("an entry name is not valid UTF-8")
            }
            guard compressedSize <= UInt64(file.count), uncompressedSize <= UInt64(Int.max),
                  localOffset <= UInt64(file.count) else {
                throw Self.malformed("entry '\(name)' claims sizes or offsets beyond the file")
            }
            if records[name] == nil { names.append(name) }
            records[name] = Record(localHeaderOffset: Int(localOffset), compressedSize: Int(compressedSize),
                                   uncompressedSize: Int(uncompressedSize), method: method, flags: flags)
            position += 46 + nameLength + extraLength + commentLength
        }
    }

    /// The stored bytes of an entry, located through its local header.
    func entry(_ name: String) throws -> Entry? {
        guard let record = records[name] else { return nil }
        if record.flags & 1 != 0 {
            throw CheckpointError.unsupported("zip entry '\(name)' is encrypted")
        }
        guard record.method == 0 else {
            let method = record.method == 8 ? "deflate-compressed" : "compressed (method \(record.method))"
            throw CheckpointError.unsupported("zip entry '\(name)' is \(method); PyTorch writes entries uncompressed, "
                + "so re-save the file with torch.save instead of re-zipping it")
        }
        guard record.compressedSize == record.uncompressedSize else {
            throw Self.malformed("stored entry '\(name)' has different compressed and uncompressed sizes")
        }
        let header = record.localHeaderOffset
        guard try file.uint32(at: header) == Self.localHeaderSignature else {
            throw Self.malformed("entry '\(name)' has no local header at offset \(header)")
        }
        let nameLength = Int(try file.uint16(at: header + 26))
        let extraLength = Int(try file.uint16(at: header + 28))
        let dataOffset = header + 30 + nameLength + extraLength
        let data = try file.slice(offset: dataOffset, length: record.compressedSize, "zip entry '\(name)'")
        return Entry(name: name, data: data)
    }

    private static func malformed(_ detail: String) -> CheckpointError {
        .malformed(format: .torchZip, detail: detail)
    }

    /// The end-of-central-directory record is 22 bytes plus a comment of up to 65535 bytes.
    private static func findEndOfDirectory(_ file: ByteView) throws -> Int {
        guard file.count >= 22 else { throw CheckpointError.truncated("zip archive shorter than its end record") }
        let lowest = max(0, file.count - 22 - 0xFFFF)
        var candidate = file.count - 22
        while candidate >= lowest {
            if try file.uint32(at: candidate) == endOfDirectorySignature {
                let commentLength = Int(try file.uint16(at: candidate + 20))
                if candidate + 22 + commentLength == file.count { return candidate }
            }
            candidate -= 1
        }
        throw CheckpointError.truncated("zip archive without an end-of-central-directory record "
            + "(an interrupted download or copy?)")
    }

    private static func zip64EndOfDirectory(_ file: ByteView, before end: Int)
        throws -> (entryCount: Int, directorySize: Int, directoryOffset: Int) {
        let locator = end - 20
        guard locator >= 0, try file.uint32(at: locator) == zip64LocatorSignature else {
            throw malformed("the end record announces ZIP64 but there is no ZIP64 locator")
        }
        guard try file.uint32(at: locator + 16) <= 1 else {
            throw CheckpointError.unsupported("multi-disk zip archives")
        }
        let recordOffset = try file.uint64(at: locator + 8)
        guard recordOffset <= UInt64(file.count) else { throw malformed("ZIP64 end record offset beyond the file") }
        let record = Int(recordOffset)
        guard try file.uint32(at: record) == zip64EndSignature else {
            throw malformed("no ZIP64 end record at offset \(record)")
        }
        let entryCount = try file.uint64(at: record + 32)
        let directorySize = try file.uint64(at: record + 40)
        let directoryOffset = try file.uint64(at: record + 48)
        let limit = UInt64(file.count)
        guard entryCount <= limit, directorySize <= limit, directoryOffset <= limit else {
            throw malformed("ZIP64 end record describes a directory beyond the file")
        }
        return (Int(entryCount), Int(directorySize), Int(directoryOffset))
    }

    /// ZIP64 extended information (tag 1): 8-byte values for the fields saturated at 0xFFFFFFFF,
    /// in the order uncompressed size, compressed size, local header offset.
    private static func applyZip64Extra(_ extra: ByteView, uncompressed: inout UInt64, compressed: inout UInt64,
                                        localOffset: inout UInt64) throws {
        var position = 0
        while position + 4 <= extra.count {
            let tag = try extra.uint16(at: position)
            let size = Int(try extra.uint16(at: position + 2))
            let field = try extra.slice(offset: position + 4, length: size, "a zip extra field")
            if tag == 1 {
                var cursor = 0
                for target in [0, 1, 2] {
                    let saturated: Bool
                    switch target {
                    case 0: saturated = uncompressed == 0xFFFF_FFFF
                    case 1: saturated = compressed == 0xFFFF_FFFF
                    default: saturated = localOffset == 0xFFFF_FFFF
                    }
                    guard saturated else { continue }
                    let value = try field.uint64(at: cursor)
                    cursor += 8
                    switch target {
                    case 0: uncompressed = value
                    case 1: compressed = value
                    default: localOffset = value
                    }
                }
            }
            position += 4 + size
        }
    }
}
