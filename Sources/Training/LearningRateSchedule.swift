/// Linear warm-up from 0 to `peak` over `warmupSteps`, then linear decay to 0 at `totalSteps`:
/// transformers' `get_linear_schedule_with_warmup`. Update t (from 0) uses rate(t), as the Trainer
/// steps the scheduler after the optimizer, so the first update of a warm-up has rate 0.
public struct LinearWarmupSchedule: Sendable, Equatable {
    public var peak: Float
    public var warmupSteps: Int
    public var totalSteps: Int

    public init(peak: Float, warmupSteps: Int, totalSteps: Int) {
        self.peak = peak; self.warmupSteps = warmupSteps; self.totalSteps = totalSteps
    }

    /// Warm-up steps as the Trainer counts them: ceil(totalSteps * warmupFraction).
    public init(peak: Float, warmupFraction: Double, totalSteps: Int) {
        self.init(
            peak: peak, warmupSteps: Int((Double(totalSteps) * warmupFraction).rounded(.up)), totalSteps: totalSteps)
    }

    public func rate(at step: Int) -> Float {
        if step < warmupSteps { return peak * Float(step) / Float(max(1, warmupSteps)) }
        let remaining = Float(totalSteps - step) / Float(max(1, totalSteps - warmupSteps))
        return peak * max(0, remaining)
    }
}
