/// out (R,OC) = inp (R,C) @ weight(OC,C)^T + bias(OC). Weight in the PyTorch [out, in] layout.
/// With `bfloat16` (copies of inp and weight) the product runs in bfloat16 with float32 accumulation.
public func linearForward(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
    rows: Int, inFeatures: Int, outFeatures: Int, bfloat16: BFloat16Operands? = nil, context: ComputeContext
) {
    if let bias {
        parallelChunks(rows, grain: 64, context: context) { chunk in
            for r in chunk { (out + r * outFeatures).update(from: bias, count: outFeatures) }
        }
    }
    productWithTransposedWeight(out: out, inp: inp, weight: weight, beta: bias == nil ? 0 : 1,
                                rows: rows, inFeatures: inFeatures, outFeatures: outFeatures, bfloat16: bfloat16,
                                context: context)
}

/// out (R,OC) = inp (R,C) @ weight(OC,C)^T + beta * out, in bfloat16 when given the copies.
func productWithTransposedWeight(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, beta: Float,
    rows: Int, inFeatures: Int, outFeatures: Int, bfloat16: BFloat16Operands?, context: ComputeContext
) {
    if let bfloat16, gemmBFloat16(transA: false, transB: true, m: rows, n: outFeatures, k: inFeatures,
                                  a: bfloat16.input, lda: inFeatures, b: bfloat16.weight, ldb: inFeatures,
                                  beta: beta, c: out, ldc: outFeatures, context: context) {
        return
    }
    sgemm(transA: false, transB: true, m: rows, n: outFeatures, k: inFeatures,
          a: inp, lda: inFeatures, b: weight, ldb: inFeatures, beta: beta, c: out, ldc: outFeatures, context: context)
}

/// dout (R,OC) -> dinp (R,C) += dout @ weight; dweight (OC,C) += dout^T @ inp; dbias (OC) += sum over rows.
/// A nil gradient skips its work (IBA needs only dinp). With `bfloat16` (copies of dout and weight) the
/// dinp product runs in bfloat16 with float32 accumulation.
public func linearBackward(
    dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>?, dbias: UnsafeMutablePointer<Float>?,
    dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    rows: Int, inFeatures: Int, outFeatures: Int, bfloat16: BFloat16Operands? = nil, context: ComputeContext
) {
    if let dinp {
        let done = bfloat16.map {
            gemmBFloat16(transA: false, transB: false, m: rows, n: inFeatures, k: outFeatures,
                         a: $0.input, lda: outFeatures, b: $0.weight, ldb: inFeatures, beta: 1, c: dinp,
                         ldc: inFeatures, context: context)
        } ?? false
        if !done {
            sgemm(transA: false, transB: false, m: rows, n: inFeatures, k: outFeatures,
                  a: dout, lda: outFeatures, b: weight, ldb: inFeatures, beta: 1, c: dinp, ldc: inFeatures,
                  context: context)
        }
    }
    if let dweight {
        sgemm(transA: true, transB: false, m: outFeatures, n: inFeatures, k: rows,
              a: dout, lda: outFeatures, b: inp, ldb: inFeatures, beta: 1, c: dweight, ldc: inFeatures,
              context: context)
    }
    if let dbias {
        for r in 0..<rows {
            let row = dout + r * outFeatures
            for o in 0..<outFeatures { dbias[o] += row[o] }
        }
    }
}

/// out (R,OC) = residual (R,OC) + inp (R,C) @ weight(OC,C)^T + bias: BERT's dense + residual before each LayerNorm.
/// With `dropoutMask` (R,OC), training mode: out = residual + mask * (inp @ weight^T + bias).
public func linearResidualForward(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    bias: UnsafePointer<Float>, residual: UnsafePointer<Float>, rows: Int, inFeatures: Int, outFeatures: Int,
    dropoutMask: UnsafePointer<Float>? = nil, bfloat16: BFloat16Operands? = nil, context: ComputeContext
) {
    if let dropoutMask {
        linearForward(out: out, inp: inp, weight: weight, bias: bias, rows: rows, inFeatures: inFeatures,
                      outFeatures: outFeatures, bfloat16: bfloat16, context: context)
        for j in 0..<(rows * outFeatures) { out[j] = out[j] * dropoutMask[j] + residual[j] }
        return
    }
    parallelChunks(rows, grain: 64, context: context) { chunk in
        for r in chunk {
            let o = out + r * outFeatures, s = residual + r * outFeatures
            for j in 0..<outFeatures { o[j] = s[j] + bias[j] }
        }
    }
    productWithTransposedWeight(out: out, inp: inp, weight: weight, beta: 1,
                                rows: rows, inFeatures: inFeatures, outFeatures: outFeatures, bfloat16: bfloat16,
                                context: context)
}
