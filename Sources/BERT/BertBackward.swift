import Kernels

/// The backward pass mirrors the forward line by line. Activation gradients always; weight gradients
/// only when a `gradients` store is passed (IBA and IG never pay for them).
extension BertModel {
    /// dlogits (B,K) -> gradient w.r.t. the encoder output, written (not added) into `workspace.dHidden` (R,H).
    public func backwardHead(tape: ForwardTape, dlogits: UnsafePointer<Float>, workspace: BackwardWorkspace, gradients: BertParameters? = nil) {
        workspace.ensure(layout: tape.layout, config: config)
        let h = config.hiddenSize, k = config.numLabels, batch = tape.layout.batch
        workspace.dPooled.zero(batch * h)
        workspace.dCls.zero(batch * h)
        linearBackward(dinp: workspace.dPooled.pointer, dweight: gradients?["classifier.weight"], dbias: gradients?["classifier.bias"],
                       dout: dlogits, inp: tape.headDroppedOut ? tape.pooledDropped.pointer : tape.pooled.pointer,
                       weight: parameters["classifier.weight"], rows: batch, inFeatures: h, outFeatures: k)
        if tape.headDroppedOut { dropoutForward(workspace.dPooled.pointer, mask: tape.pooledMask.pointer, count: batch * h) }
        // tanh backward in place: dPooled becomes the gradient before the activation.
        for i in 0..<(batch * h) { workspace.dPooled.pointer[i] *= 1 - tape.pooled.pointer[i] * tape.pooled.pointer[i] }
        linearBackward(dinp: workspace.dCls.pointer, dweight: gradients?["pooler.dense.weight"], dbias: gradients?["pooler.dense.bias"],
                       dout: workspace.dPooled.pointer, inp: tape.clsRows.pointer, weight: parameters["pooler.dense.weight"],
                       rows: batch, inFeatures: h, outFeatures: h)
        workspace.dHidden.zero(tape.layout.rows * h)
        for b in 0..<batch {
            (workspace.dHidden.pointer + tape.layout.offsets[b] * h).update(from: workspace.dCls.pointer + b * h, count: h)
        }
    }

    /// Backpropagates `workspace.dHidden` (gradient w.r.t. the output of layer upper-1) down through layers
    /// upper-1 ... lower; on return `workspace.dHidden` holds the gradient w.r.t. the hidden state entering `lower`.
    public func backwardLayers(tape: ForwardTape, from upper: Int, downTo lower: Int, workspace: BackwardWorkspace, gradients: BertParameters? = nil) {
        workspace.ensure(layout: tape.layout, config: config)
        var l = upper - 1
        while l >= lower {
            backwardLayer(l, tape: tape, workspace: workspace, gradients: gradients)
            l -= 1
        }
    }

    func backwardLayer(_ l: Int, tape: ForwardTape, workspace ws: BackwardWorkspace, gradients g: BertParameters?) {
        let w = layerWeights(l), a = tape.layers[l - tape.firstLayer]
        let x = tape.hiddenState(enteringLayer: l)
        let rows = tape.layout.rows, h = config.hiddenSize, i = config.intermediateSize
        let p = "encoder.layer.\(l)."
        let dOut = ws.dHidden.pointer
        // bfloat16 (never with weight gradients): each dense product's dout is rounded into the tape's scratch.
        let half = tape.precision.backwardInBFloat16 && g == nil && !a.droppedOut ? bfloat16Weights(l) : nil
        func operands(_ dout: UnsafePointer<Float>, count: Int, _ weight: BFloat16Buffer?) -> BFloat16Operands? {
            guard let weight else { return nil }
            return BFloat16Operands(input: tape.roundedToBFloat16(dout, count: count), weight: weight.pointer)
        }
        // output LayerNorm
        ws.dOutputResidual.zero(rows * h)
        layerNormBackward(dinp: ws.dOutputResidual.pointer, dgamma: g?[p + "output.LayerNorm.weight"], dbeta: g?[p + "output.LayerNorm.bias"],
                          dout: dOut, inp: a.outputResidual.pointer, gamma: w.outputNormWeight,
                          mean: a.outputMean.pointer, rstd: a.outputRstd.pointer, rows: rows, channels: h)
        // output dense + residual from attentionNormed
        ws.dAttentionNormed.pointer.update(from: ws.dOutputResidual.pointer, count: rows * h)
        if a.droppedOut { dropoutForward(ws.dOutputResidual.pointer, mask: a.outputMask.pointer, count: rows * h) }
        ws.dActivated.zero(rows * i)
        linearBackward(dinp: ws.dActivated.pointer, dweight: g?[p + "output.dense.weight"], dbias: g?[p + "output.dense.bias"],
                       dout: ws.dOutputResidual.pointer, inp: a.activated.pointer, weight: w.outputWeight,
                       rows: rows, inFeatures: i, outFeatures: h, bfloat16: operands(ws.dOutputResidual.pointer, count: rows * h, half?.output))
        ws.dIntermediate.zero(rows * i)
        geluBackward(dinp: ws.dIntermediate.pointer, inp: a.intermediate.pointer, dout: ws.dActivated.pointer, count: rows * i)
        linearBackward(dinp: ws.dAttentionNormed.pointer, dweight: g?[p + "intermediate.dense.weight"], dbias: g?[p + "intermediate.dense.bias"],
                       dout: ws.dIntermediate.pointer, inp: a.attentionNormed.pointer, weight: w.intermediateWeight,
                       rows: rows, inFeatures: h, outFeatures: i, bfloat16: operands(ws.dIntermediate.pointer, count: rows * i, half?.intermediate))
        // attention LayerNorm
        ws.dAttentionResidual.zero(rows * h)
        layerNormBackward(dinp: ws.dAttentionResidual.pointer, dgamma: g?[p + "attention.output.LayerNorm.weight"],
                          dbeta: g?[p + "attention.output.LayerNorm.bias"], dout: ws.dAttentionNormed.pointer,
                          inp: a.attentionResidual.pointer, gamma: w.attentionNormWeight,
                          mean: a.attentionMean.pointer, rstd: a.attentionRstd.pointer, rows: rows, channels: h)
        // attention output dense + residual from the layer input
        let dInput = ws.dInput.pointer
        dInput.update(from: ws.dAttentionResidual.pointer, count: rows * h)
        if a.droppedOut { dropoutForward(ws.dAttentionResidual.pointer, mask: a.attentionOutputMask.pointer, count: rows * h) }
        ws.dContext.zero(rows * h)
        linearBackward(dinp: ws.dContext.pointer, dweight: g?[p + "attention.output.dense.weight"], dbias: g?[p + "attention.output.dense.bias"],
                       dout: ws.dAttentionResidual.pointer, inp: a.context.pointer, weight: w.attentionOutputWeight,
                       rows: rows, inFeatures: h, outFeatures: h, bfloat16: operands(ws.dAttentionResidual.pointer, count: rows * h, half?.attentionOutput))
        ws.dq.zero(rows * h); ws.dk.zero(rows * h); ws.dv.zero(rows * h)
        if a.droppedOut {
            attentionDropoutBackward(dq: ws.dq.pointer, dk: ws.dk.pointer, dv: ws.dv.pointer, scratch: ws.scratch.pointer,
                                     dout: ws.dContext.pointer, probs: a.probs.pointer, droppedProbs: a.droppedProbs.pointer,
                                     mask: a.probsMask.pointer, q: a.q.pointer, k: a.k.pointer, v: a.v.pointer,
                                     layout: tape.layout, channels: h)
        } else {
            attentionBackward(dq: ws.dq.pointer, dk: ws.dk.pointer, dv: ws.dv.pointer, scratch: ws.scratch.pointer,
                              dout: ws.dContext.pointer, probs: a.probs.pointer, q: a.q.pointer, k: a.k.pointer, v: a.v.pointer,
                              layout: tape.layout, channels: h)
        }
        linearBackward(dinp: dInput, dweight: g?[p + "attention.self.query.weight"], dbias: g?[p + "attention.self.query.bias"],
                       dout: ws.dq.pointer, inp: x, weight: w.queryWeight, rows: rows, inFeatures: h, outFeatures: h,
                       bfloat16: operands(ws.dq.pointer, count: rows * h, half?.query))
        linearBackward(dinp: dInput, dweight: g?[p + "attention.self.key.weight"], dbias: g?[p + "attention.self.key.bias"],
                       dout: ws.dk.pointer, inp: x, weight: w.keyWeight, rows: rows, inFeatures: h, outFeatures: h,
                       bfloat16: operands(ws.dk.pointer, count: rows * h, half?.key))
        linearBackward(dinp: dInput, dweight: g?[p + "attention.self.value.weight"], dbias: g?[p + "attention.self.value.bias"],
                       dout: ws.dv.pointer, inp: x, weight: w.valueWeight, rows: rows, inFeatures: h, outFeatures: h,
                       bfloat16: operands(ws.dv.pointer, count: rows * h, half?.value))
        ws.dHidden.pointer.update(from: dInput, count: rows * h)
    }

    /// Weight gradients of the embeddings from `workspace.dHidden` (gradient w.r.t. the embedding output).
    public func backwardEmbeddings(_ inputs: [ModelInput], tape: ForwardTape, workspace ws: BackwardWorkspace, gradients g: BertParameters) {
        ws.ensure(layout: tape.layout, config: config)
        let rows = tape.layout.rows, h = config.hiddenSize
        ws.dInput.zero(rows * h)
        var dNormed = UnsafePointer(ws.dHidden.pointer)
        if tape.embeddingDroppedOut {
            // Through the embedding dropout into a free buffer, leaving dHidden as the caller's gradient.
            ws.dAttentionResidual.pointer.update(from: ws.dHidden.pointer, count: rows * h)
            dropoutForward(ws.dAttentionResidual.pointer, mask: tape.embeddingMask.pointer, count: rows * h)
            dNormed = UnsafePointer(ws.dAttentionResidual.pointer)
        }
        layerNormBackward(dinp: ws.dInput.pointer, dgamma: g["embeddings.LayerNorm.weight"], dbeta: g["embeddings.LayerNorm.bias"],
                          dout: dNormed, inp: tape.embeddingSum.pointer, gamma: parameters["embeddings.LayerNorm.weight"],
                          mean: tape.embeddingMean.pointer, rstd: tape.embeddingRstd.pointer, rows: rows, channels: h)
        let dWord = g["embeddings.word_embeddings.weight"], dPosition = g["embeddings.position_embeddings.weight"]
        let dType = g["embeddings.token_type_embeddings.weight"]
        for (b, input) in inputs.enumerated() {
            for pos in 0..<input.count {
                let d = ws.dInput.pointer + (tape.layout.offsets[b] + pos) * h
                let w = dWord + input.ids[pos] * h, pp = dPosition + pos * h, t = dType + input.types[pos] * h
                for c in 0..<h { w[c] += d[c]; pp[c] += d[c]; t[c] += d[c] }
            }
        }
    }
}

/// `attentionBackward` when the forward used dropped probabilities P * M for the context (P * M) V:
/// dV += (P * M)^T dout, and the softmax backward sees dP * M. `scratch` holds at least maxLength^2 floats.
func attentionDropoutBackward(
    dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>,
    scratch: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, probs: UnsafePointer<Float>,
    droppedProbs: UnsafePointer<Float>, mask: UnsafePointer<Float>,
    q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
    layout: SequenceLayout, channels: Int
) {
    let heads = layout.heads, d = channels / heads
    let scale = 1 / Float(d).squareRoot()
    for b in 0..<layout.batch {
        let n = layout.lengths[b], row0 = layout.offsets[b]
        for h in 0..<heads {
            let offset = layout.probabilityOffsets[b] + h * n * n
            let p = probs + offset, pd = droppedProbs + offset, m = mask + offset
            let column = row0 * channels + h * d
            // dP = (dout V^T) * M ; dV += (P * M)^T dout
            sgemm(transA: false, transB: true, m: n, n: n, k: d,
                  a: dout + column, lda: channels, b: v + column, ldb: channels, beta: 0, c: scratch, ldc: n)
            for j in 0..<(n * n) { scratch[j] *= m[j] }
            sgemm(transA: true, transB: false, m: n, n: d, k: n,
                  a: pd, lda: n, b: dout + column, ldb: channels, beta: 1, c: dv + column, ldc: channels)
            // dS = P * (dP - rowsum(dP * P)) * scale, as in attentionBackward
            for i in 0..<n {
                let pr = p + i * n, dr = scratch + i * n
                var dot: Float = 0
                for j in 0..<n { dot += pr[j] * dr[j] }
                for j in 0..<n { dr[j] = pr[j] * (dr[j] - dot) * scale }
            }
            sgemm(transA: false, transB: false, m: n, n: d, k: n,
                  a: scratch, lda: n, b: k + column, ldb: channels, beta: 1, c: dq + column, ldc: channels)
            sgemm(transA: true, transB: false, m: n, n: d, k: n,
                  a: scratch, lda: n, b: q + column, ldb: channels, beta: 1, c: dk + column, ldc: channels)
        }
    }
}
