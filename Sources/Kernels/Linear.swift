/// out (R,OC) = inp (R,C) @ weight(OC,C)^T + bias(OC). Weight in the PyTorch [out, in] layout.
public func linearForward(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
    rows: Int, inFeatures: Int, outFeatures: Int
) {
    if let bias {
        parallelChunks(rows, grain: 64) { chunk in
            for r in chunk { (out + r * outFeatures).update(from: bias, count: outFeatures) }
        }
    }
    sgemm(transA: false, transB: true, m: rows, n: outFeatures, k: inFeatures,
          a: inp, lda: inFeatures, b: weight, ldb: inFeatures,
          beta: bias == nil ? 0 : 1, c: out, ldc: outFeatures)
}

/// dout (R,OC) -> dinp (R,C) += dout @ weight; dweight (OC,C) += dout^T @ inp; dbias (OC) += sum over rows.
/// A nil gradient skips its work (IBA needs only dinp).
public func linearBackward(
    dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>?, dbias: UnsafeMutablePointer<Float>?,
    dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    rows: Int, inFeatures: Int, outFeatures: Int
) {
    if let dinp {
        sgemm(transA: false, transB: false, m: rows, n: inFeatures, k: outFeatures,
              a: dout, lda: outFeatures, b: weight, ldb: inFeatures, beta: 1, c: dinp, ldc: inFeatures)
    }
    if let dweight {
        sgemm(transA: true, transB: false, m: outFeatures, n: inFeatures, k: rows,
              a: dout, lda: outFeatures, b: inp, ldb: inFeatures, beta: 1, c: dweight, ldc: inFeatures)
    }
    if let dbias {
        for r in 0..<rows {
            let row = dout + r * outFeatures
            for o in 0..<outFeatures { dbias[o] += row[o] }
        }
    }
}

/// out (R,OC) = residual (R,OC) + inp (R,C) @ weight(OC,C)^T + bias: BERT's dense + residual before each LayerNorm.
public func linearResidualForward(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    bias: UnsafePointer<Float>, residual: UnsafePointer<Float>, rows: Int, inFeatures: Int, outFeatures: Int
) {
    parallelChunks(rows, grain: 64) { chunk in
        for r in chunk {
            let o = out + r * outFeatures, s = residual + r * outFeatures
            for j in 0..<outFeatures { o[j] = s[j] + bias[j] }
        }
    }
    sgemm(transA: false, transB: true, m: rows, n: outFeatures, k: inFeatures,
          a: inp, lda: inFeatures, b: weight, ldb: inFeatures, beta: 1, c: out, ldc: outFeatures)
}
