import Foundation
import XCTest
@testable import Cluster

final class LeaseBookTests: XCTestCase {
    let alice = Data("alice".utf8)
    let bob = Data("bob".utf8)

    func book(_ indices: [Int], maxAttempts: Int = 3, shardSize: Int = 2) throws -> LeaseBook {
        try LeaseBook(indices: indices, alreadyDone: [:], maxAttempts: maxAttempts, shardSize: shardSize, firstLeaseID: 100)
    }

    func testIssuesShardsInSelectionOrderAndAcceptsOwnResults() throws {
        var book = try book([5, 3, 9])
        let first = try XCTUnwrap(book.issue(to: alice, now: 0))
        XCTAssertEqual(first.entries, [LeaseEntry(index: 5, attempt: 1), LeaseEntry(index: 3, attempt: 1)])
        let second = try XCTUnwrap(book.issue(to: bob, now: 0))
        XCTAssertEqual(second.entries, [LeaseEntry(index: 9, attempt: 1)])
        XCTAssertNil(book.issue(to: bob, now: 0))
        XCTAssertEqual(book.recordResult(owner: alice, lease: first.lease, index: 5, attempt: 1, payload: Data("a".utf8)), .accepted(attempt: 1))
        XCTAssertEqual(book.recordResult(owner: alice, lease: first.lease, index: 5, attempt: 1, payload: Data("b".utf8)), .duplicate)
        XCTAssertEqual(book.results[5], .done(Data("a".utf8)))
        XCTAssertFalse(book.isFinished)
        _ = book.recordResult(owner: alice, lease: first.lease, index: 3, attempt: 1, payload: Data())
        _ = book.recordResult(owner: bob, lease: second.lease, index: 9, attempt: 1, payload: Data())
        XCTAssertTrue(book.isFinished)
    }

    /// The counts are kept as results change (not recounted per read): they must follow settles, failures,
    /// revocations and a resumed log exactly.
    func testDoneAndFailedCountsFollowEveryChange() throws {
        var book = try LeaseBook(indices: [1, 2, 3, 4], alreadyDone: [4: Data("old".utf8)], maxAttempts: 1, shardSize: 1,
                                 firstLeaseID: 1)
        XCTAssertEqual([book.doneCount, book.failedCount], [1, 0], "the resumed example counts as done")
        let a = try XCTUnwrap(book.issue(to: alice, now: 0))
        _ = book.recordResult(owner: alice, lease: a.lease, index: a.entries[0].index, attempt: 1, payload: Data())
        book.settle(2, .failed("broken"))
        XCTAssertEqual([book.doneCount, book.failedCount], [2, 1])
        book.revoke([a.entries[0].index, 2], from: alice)
        XCTAssertEqual([book.doneCount, book.failedCount], [1, 0], "a revoked failure no longer counts")
        book.settle(3, .failed("x"))
        book.settle(3, .failed("y"))
        XCTAssertEqual([book.doneCount, book.failedCount], [1, 1], "settling an index twice counts it once")
        book.settle(3, .done(Data()))
        XCTAssertEqual([book.doneCount, book.failedCount], [2, 0])
    }

    func testRejectsForeignStaleAndBogusResults() throws {
        var book = try book([1, 2])
        let lease = try XCTUnwrap(book.issue(to: alice, now: 0))
        guard case .unauthorised = book.recordResult(owner: bob, lease: lease.lease, index: 1, attempt: 1, payload: Data()) else {
            return XCTFail("another worker's lease accepted")
        }
        guard case .stale = book.recordResult(owner: alice, lease: lease.lease, index: 1, attempt: 2, payload: Data()) else {
            return XCTFail("wrong attempt accepted")
        }
        guard case .stale = book.recordResult(owner: alice, lease: 999, index: 1, attempt: 1, payload: Data()) else {
            return XCTFail("unknown lease accepted")
        }
        guard case .unauthorised = book.recordResult(owner: alice, lease: lease.lease, index: 77, attempt: 1, payload: Data()) else {
            return XCTFail("index outside the selection accepted")
        }
        XCTAssertTrue(book.results.isEmpty)
    }

    func testLostWorkerIsRequeuedWithNextAttemptThenTimeoutsFailIt() throws {
        var book = try book([4], maxAttempts: 2, shardSize: 1)
        let first = try XCTUnwrap(book.issue(to: alice, now: 0))
        XCTAssertTrue(book.release(owner: alice).isEmpty)
        XCTAssertEqual(book.requeues, 1)
        let second = try XCTUnwrap(book.issue(to: bob, now: 1))
        XCTAssertEqual(second.entries, [LeaseEntry(index: 4, attempt: 2)])
        // alice's late result for her dead lease is stale, not a result.
        guard case .stale = book.recordResult(owner: alice, lease: first.lease, index: 4, attempt: 1, payload: Data()) else {
            return XCTFail("result of a released lease accepted")
        }
        // Compute timeouts count as failed attempts; the disconnect above did not.
        XCTAssertTrue(book.expire(olderThan: 5, now: 7).isEmpty)
        _ = try XCTUnwrap(book.issue(to: bob, now: 8))
        let failed = book.expire(olderThan: 5, now: 14)
        XCTAssertEqual(failed.map(\.0), [4])
        guard case .failed = book.results[4] else { return XCTFail("not failed after maxAttempts") }
        XCTAssertTrue(book.isFinished)
    }

    // Issue 12 item 6: a peer that takes leases and vanishes fails nothing (it is not the example's fault) ...
    func testLeasesLostWithTheirWorkerDoNotCountAsAttempts() throws {
        var book = try book([4], maxAttempts: 2, shardSize: 1)
        for _ in 0..<3 {
            _ = try XCTUnwrap(book.issue(to: alice, now: 0))
            XCTAssertTrue(book.release(owner: alice).isEmpty, "a disconnect failed the example")
        }
        let lease = try XCTUnwrap(book.issue(to: bob, now: 0))
        XCTAssertTrue(book.release(leases: [lease.lease]).isEmpty, "a lease lost in transit failed the example")
        XCTAssertEqual(book.pending, [4])
        // ... but a poison example that takes every worker down still ends.
        var poison = try self.book([5], maxAttempts: 1, shardSize: 1)
        var failed: [(Int, WorkResult)] = []
        for _ in 0..<10 where failed.isEmpty {
            _ = poison.issue(to: alice, now: 0)
            failed = poison.release(owner: alice)
        }
        XCTAssertEqual(failed.map(\.0), [5])
    }

    func testSpeculationWaitsUntilALeaseIsOld() throws {
        var book = try book([1], shardSize: 1)
        _ = try XCTUnwrap(book.issue(to: alice, now: 0))
        XCTAssertNil(book.speculate(to: bob, now: 5, minimumAgeSeconds: 10))
        XCTAssertEqual(book.speculate(to: bob, now: 11, minimumAgeSeconds: 10)?.entries, [LeaseEntry(index: 1, attempt: 2)])
    }

    func testErrorsRetryThenFail() throws {
        var book = try book([8], maxAttempts: 2, shardSize: 1)
        for attempt in UInt32(1)...2 {
            let lease = try XCTUnwrap(book.issue(to: alice, now: 0))
            XCTAssertEqual(lease.entries, [LeaseEntry(index: 8, attempt: attempt)])
            let (outcome, final) = book.recordError(owner: alice, lease: lease.lease, index: 8, attempt: attempt, message: "boom")
            XCTAssertEqual(outcome, .accepted(attempt: attempt))
            XCTAssertEqual(final == nil, attempt == 1)
        }
        XCTAssertEqual(book.results[8], .failed("attempt 2: boom"))
    }

    func testSpeculationReissuesOldestAndFirstResultWins() throws {
        var book = try book([1, 2], shardSize: 1)
        let slow = try XCTUnwrap(book.issue(to: alice, now: 0))
        let fast = try XCTUnwrap(book.issue(to: bob, now: 1))
        _ = book.recordResult(owner: bob, lease: fast.lease, index: 2, attempt: 1, payload: Data())
        XCTAssertNil(book.speculate(to: alice, now: 2), "never speculate on one's own lease")
        let twin = try XCTUnwrap(book.speculate(to: bob, now: 2))
        XCTAssertEqual(twin.entries, [LeaseEntry(index: 1, attempt: 2)])
        XCTAssertNil(book.speculate(to: bob, now: 2), "one twin per example")
        XCTAssertEqual(book.recordResult(owner: bob, lease: twin.lease, index: 1, attempt: 2, payload: Data("bob".utf8)), .accepted(attempt: 2))
        XCTAssertEqual(book.recordResult(owner: alice, lease: slow.lease, index: 1, attempt: 1, payload: Data("alice".utf8)), .duplicate)
        XCTAssertEqual(book.results[1], .done(Data("bob".utf8)))
        XCTAssertTrue(book.release(owner: alice).isEmpty)
        XCTAssertEqual(book.requeues, 0)
    }

    func testExpiredLeaseIsRequeued() throws {
        var book = try book([6], shardSize: 1)
        _ = try XCTUnwrap(book.issue(to: alice, now: 0))
        XCTAssertTrue(book.expire(olderThan: 10, now: 5).isEmpty)
        XCTAssertEqual(book.pending, [])
        _ = book.expire(olderThan: 10, now: 11)
        XCTAssertEqual(book.pending, [6])
    }

    func testResumedResultsAreNotReissued() throws {
        var book = try LeaseBook(indices: [1, 2, 3], alreadyDone: [2: Data("x".utf8), 99: Data()], maxAttempts: 3,
                                 shardSize: 10, firstLeaseID: 1)
        XCTAssertEqual(book.results.count, 1)
        XCTAssertEqual(book.issue(to: alice, now: 0)?.entries.map(\.index), [1, 3])
    }

    func testRejectsBadSelections() {
        XCTAssertThrowsError(try book([1, 1]))
        XCTAssertThrowsError(try book([-1]))
        XCTAssertThrowsError(try book([1], maxAttempts: 0))
    }

    // A forging or broken peer cannot use up an example's attempts: what failed on it goes to another live worker first.
    func testFailedExampleGoesToAnotherLiveWorkerFirst() throws {
        var book = try book([1, 2], shardSize: 1)
        let live: Set<Data> = [alice, bob]
        let first = try XCTUnwrap(book.issue(to: alice, now: 0, live: live))
        XCTAssertEqual(first.entries, [LeaseEntry(index: 1, attempt: 1)])
        _ = book.recordError(owner: alice, lease: first.lease, index: 1, attempt: 1, message: "invalid result")
        XCTAssertEqual(book.issue(to: alice, now: 0, live: live)?.entries, [LeaseEntry(index: 2, attempt: 1)], "example 1 waits for bob")
        XCTAssertEqual(book.issue(to: bob, now: 0, live: live)?.entries, [LeaseEntry(index: 1, attempt: 2)])
        // Alone, the worker that failed gets it again rather than nobody.
        var alone = try self.book([1], shardSize: 1)
        let lease = try XCTUnwrap(alone.issue(to: alice, now: 0, live: [alice]))
        _ = alone.recordError(owner: alice, lease: lease.lease, index: 1, attempt: 1, message: "x")
        XCTAssertEqual(alone.issue(to: alice, now: 0, live: [alice])?.entries, [LeaseEntry(index: 1, attempt: 2)])
    }

    func testVerificationReissuesToAnotherWorkerAndRevokes() throws {
        var book = try book([1], shardSize: 1)
        let first = try XCTUnwrap(book.issue(to: alice, now: 0))
        XCTAssertEqual(book.recordResult(owner: alice, lease: first.lease, index: 1, attempt: 1, payload: Data("a".utf8), provisional: true),
                       .accepted(attempt: 1))
        XCTAssertNil(book.results[1], "a provisional result is not final")
        book.reissue(1, excluding: [alice])
        XCTAssertNil(book.issue(to: alice, now: 0), "the same worker cannot verify itself")
        XCTAssertEqual(book.blocked(for: [alice]), [1])
        XCTAssertEqual(book.blocked(for: [alice, bob]), [])
        let second = try XCTUnwrap(book.issue(to: bob, now: 0))
        XCTAssertEqual(second.entries, [LeaseEntry(index: 1, attempt: 2)])
        _ = book.recordResult(owner: bob, lease: second.lease, index: 1, attempt: 2, payload: Data("a".utf8), provisional: true)
        book.settle(1, .done(Data("a".utf8)))
        XCTAssertTrue(book.isFinished)
        book.revoke([1], from: bob)
        XCTAssertFalse(book.isFinished)
        XCTAssertNil(book.issue(to: bob, now: 0), "a revoked result is not computed again by its worker")
        XCTAssertEqual(book.issue(to: alice, now: 0)?.entries, [LeaseEntry(index: 1, attempt: 3)])
    }
}

/// A lease book whose caller keeps the payloads itself (`keepsPayloads` false): done examples are bits.
final class PayloadlessLeaseBookTests: XCTestCase {
    func testDoneResultsKeepNoPayloadAndFailuresKeepTheirReason() throws {
        var book = try LeaseBook(indices: [5, 9, 200], alreadyDone: [9: Data("old".utf8)], maxAttempts: 1, shardSize: 1,
                                 firstLeaseID: 1, keepsPayloads: false)
        XCTAssertEqual(book.results[9], .done(Data()))
        let owner = Data("w".utf8)
        guard let (lease, entries) = book.issue(to: owner, now: 0) else { return XCTFail("nothing issued") }
        XCTAssertEqual(book.leaseCount(of: owner), 1)
        XCTAssertEqual(book.recordResult(owner: owner, lease: lease, index: entries[0].index, attempt: 1,
                                         payload: Data("big".utf8)), .accepted(attempt: 1))
        XCTAssertEqual(book.results[entries[0].index], .done(Data()))
        XCTAssertEqual(book.leaseCount(of: owner), 0)
        guard let (second, more) = book.issue(to: owner, now: 0) else { return XCTFail("nothing issued") }
        _ = book.recordError(owner: owner, lease: second, index: more[0].index, attempt: 1, message: "boom")
        XCTAssertEqual(book.results[more[0].index], .failed("attempt 1: boom"))
        XCTAssertEqual(book.results.count, 3)
        XCTAssertEqual(book.results.failures.count, 1)
        XCTAssertEqual(Set(book.results.dictionary.keys), [5, 9, 200])
        XCTAssertTrue(book.isFinished)
    }

    /// Leases by owner stay exact through release and expiry (dispatch asks per worker; no scan of all leases).
    func testLeaseCountsPerOwnerFollowReleaseAndExpiry() throws {
        var book = try LeaseBook(indices: Array(0..<6), alreadyDone: [:], maxAttempts: 3, shardSize: 1, firstLeaseID: 1)
        let a = Data("a".utf8), b = Data("b".utf8)
        _ = book.issue(to: a, now: 0); _ = book.issue(to: a, now: 0); _ = book.issue(to: b, now: 5)
        XCTAssertEqual([book.leaseCount(of: a), book.leaseCount(of: b)], [2, 1])
        _ = book.release(owner: a)
        XCTAssertEqual([book.leaseCount(of: a), book.leaseCount(of: b)], [0, 1])
        _ = book.expire(olderThan: 1, now: 10)
        XCTAssertEqual(book.leaseCount(of: b), 0)
        XCTAssertEqual(book.leases(of: b).count, 0)
    }
}
