import CKernels
import Dispatch
import Foundation

/// Runs body(i) for i in 0..<items on the context's threads (inline with one).
/// Items must write disjoint memory; each is computed the same way on whichever thread runs it.
/// With oneDNN the items run on libgomp's pool, the threads of its GEMMs; with OpenBLAS on Dispatch's
/// (libgomp's spinning on top of OpenBLAS's threads measured 2.5x slower).
func parallelItems(_ items: Int, context: ComputeContext, _ body: (Int) -> Void) {
    guard context.threads > 1, items > 1 else {
        for i in 0..<items { body(i) }
        return
    }
    guard context.backend == .onednn else {
        // As many Dispatch workers as the context has threads, each taking items in turn (Dispatch alone
        // would use every core).
        let next = ItemCounter()
        withoutActuallyEscaping(body) { body in
            let task = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: min(context.threads, items)) { _ in
                while let item = next.take(below: items) { task.value(item) }
            }
        }
        return
    }
    withoutActuallyEscaping(body) { body in
        var task = body
        withUnsafeMutablePointer(to: &task) { task in
            iba_parallel_for(items, Int32(context.threads), { context, item in
                guard let context else { return }
                context.assumingMemoryBound(to: ((Int) -> Void).self).pointee(item)
            }, task)
        }
    }
}

/// Runs body(range) over contiguous chunks of 0..<count (each at least `grain` long, starting at multiples
/// of 16) on the context's threads. For row-wise and elementwise kernels: the result of each row or element
/// does not depend on the chunking, so it does not depend on the thread count.
public func parallelChunks(_ count: Int, grain: Int, context: ComputeContext, _ body: (Range<Int>) -> Void) {
    let threads = context.threads
    // A few chunks per thread, so a thread slowed by other load does not hold the others up.
    let chunks = min(4 * threads, count / max(grain, 1))
    guard threads > 1, chunks > 1 else {
        body(0..<count)
        return
    }
    let size = ((count + chunks - 1) / chunks + 15) / 16 * 16
    parallelItems((count + size - 1) / size, context: context) { c in body(c * size ..< min(count, (c + 1) * size)) }
}

/// Hands out 0, 1, 2, ... to the threads of one parallel loop.
private final class ItemCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0

    func take(below limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < limit else { return nil }
        next += 1
        return next - 1
    }
}

/// Lets a closure over raw buffers cross into `concurrentPerform`; callers guarantee disjoint writes.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
