/// One tokenized example: word-piece ids and token type ids (same length, specials included).
public struct ModelInput: Sendable, Equatable, Codable {
    public var ids: [Int]
    public var types: [Int]
    public init(ids: [Int], types: [Int]) { self.ids = ids; self.types = types }
    public var count: Int { ids.count }
}
