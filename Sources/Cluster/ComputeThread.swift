import CZMQ
import Foundation

/// The worker's compute side: runs `setup` and the per-example closure on its
/// own thread, so the socket thread keeps heartbeating through minute-long
/// examples and model loading. Talks to the socket thread over an inproc PAIR
/// (`ComputeWire`), one request at a time.
final class ComputeThread: @unchecked Sendable {
    /// The per-example closure gets the example's index and the bytes its TASK carried.
    typealias Setup = (JobManifest) throws -> ((Int, Data) throws -> Data)

    /// How often an idle compute thread checks whether it should quit.
    static let quitCheckSeconds = 0.05
    /// How long the socket thread waits for the compute thread to attach.
    static let attachTimeoutSeconds = 30.0

    private let context: ZMQContext
    private let endpoint: String
    private let setup: Setup
    private let lock = NSLock()
    private var quitRequested = false
    private var members = 2  // socket side + compute side; the last to leave terminates the context
    private let exited = DispatchSemaphore(value: 0)

    /// The caller must already have bound a PAIR at `endpoint`.
    init(context: ZMQContext, endpoint: String, setup: @escaping Setup) {
        self.context = context
        self.endpoint = endpoint
        self.setup = setup
    }

    func start() {
        let thread = Thread { [self] in
            self.main()
            self.exited.signal()
            self.leave()
        }
        thread.name = "iba-compute"
        thread.start()
    }

    /// Called by the socket thread after closing its sockets: asks the compute
    /// thread to stop, waits up to `graceSeconds` for it (an example in progress
    /// cannot be interrupted), and leaves context termination to whoever is last.
    func stop(graceSeconds: Double) {
        lock.withLock { quitRequested = true }
        _ = exited.wait(timeout: .now() + graceSeconds)
        leave()
    }

    private var shouldQuit: Bool { lock.withLock { quitRequested } }

    private func leave() {
        let last: Bool = lock.withLock {
            members -= 1
            return members == 0
        }
        if last { context.terminate() }
    }

    private func main() {
        guard let pair = try? ZMQSocket(context, type: ZMQ_PAIR), (try? pair.connect(endpoint)) != nil else { return }
        defer { pair.close() }
        // Until this arrives the socket thread sends nothing: a PAIR drops
        // (EAGAIN) what is sent before its peer has connected.
        guard (try? pair.send([ComputeWire.attached])) == .sent else { return }
        var compute: ((Int, Data) throws -> Data)?
        while !shouldQuit {
            guard (try? pollReadable([pair], timeoutSeconds: Self.quitCheckSeconds))?.first == true else { continue }
            while !shouldQuit, let request = try? pair.receive(maxFrames: 8) {
                let frames = request.frames
                if frames.count == 2, frames[0] == ComputeWire.setup {
                    do {
                        compute = try setup(try JobManifest.decode(frames[1]))
                        _ = try? pair.send([ComputeWire.setupOK])
                    } catch let ClusterError.modelUnavailable(reason) {
                        compute = nil
                        _ = try? pair.send([ComputeWire.setupNeedsFiles, Wire.text(reason)])
                    } catch {
                        compute = nil
                        _ = try? pair.send([ComputeWire.setupFailed, Wire.text(String(describing: error))])
                    }
                } else if frames.count == 5, frames[0] == ComputeWire.work,
                          let index = try? Wire.decodeIndex(frames[2], "index") {
                    let tag = Array(frames[1...3])
                    let reply: [Data]
                    do {
                        guard let compute else { throw ClusterError.setupRefused("work before a successful setup") }
                        let payload = try compute(index, frames[4])
                        reply = [ComputeWire.workDone] + tag + [payload]
                    } catch {
                        reply = [ComputeWire.workFailed] + tag + [Wire.text(String(describing: error))]
                    }
                    // Replies are small in number (one per request): a full pipe means the socket side is gone.
                    _ = try? pair.send(reply)
                }
            }
        }
    }
}
