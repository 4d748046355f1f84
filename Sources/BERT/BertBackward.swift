import Kernels

/// The backward pass mirrors the forward line by line. Activation gradients always; weight gradients
/// only when a `gradients` store is passed (IBA and IG never pay for them): it has the parameters' layout,
/// so `gradients.layer(l).outputNormWeight` is the gradient of `parameters.layer(l).outputNormWeight`.
extension BertModel {
    /// dlogits (B,K) -> gradient w.r.t. the encoder output, written (not added) into `workspace.dHidden` (R,H;
    /// (B,H) on a logits-only tape).
    public func backwardHead(
        tape: ForwardTape, dlogits: UnsafePointer<Float>, workspace: BackwardWorkspace, gradients: BertParameters? = nil
    ) {
        workspace.ensure(layout: tape.layout, config: config)
        let h = config.hiddenSize, k = config.numLabels, batch = tape.layout.batch
        let w = headWeights, g = gradients?.head()
        workspace.dPooled.zero(batch * h)
        workspace.dCls.zero(batch * h)
        linearBackward(dinp: workspace.dPooled.pointer, dweight: g?.classifierWeight, dbias: g?.classifierBias,
                       dout: dlogits, inp: tape.headDroppedOut ? tape.pooledDropped.pointer : tape.pooled.pointer,
                       weight: w.classifierWeight, rows: batch, inFeatures: h, outFeatures: k, context: tape.context)
        if tape.headDroppedOut {
            dropoutBackward(workspace.dPooled.pointer, mask: tape.pooledMask.pointer, count: batch * h)
        }
        // tanh backward in place: dPooled becomes the gradient before the activation.
        for i in 0..<(batch * h) { workspace.dPooled.pointer[i] *= 1 - tape.pooled.pointer[i] * tape.pooled.pointer[i] }
        linearBackward(dinp: workspace.dCls.pointer, dweight: g?.poolerWeight, dbias: g?.poolerBias,
                       dout: workspace.dPooled.pointer, inp: tape.clsRows.pointer, weight: w.poolerWeight,
                       rows: batch, inFeatures: h, outFeatures: h, context: tape.context)
        if tape.encoderOutputIsFirstRows {
            workspace.dHidden.pointer.update(from: workspace.dCls.pointer, count: batch * h)
            return
        }
        workspace.dHidden.zero(tape.layout.rows * h)
        for b in 0..<batch {
            (workspace.dHidden.pointer + tape.layout.offsets[b] * h).update(
                from: workspace.dCls.pointer + b * h, count: h)
        }
    }

    /// Backpropagates `workspace.dHidden` (gradient w.r.t. the output of layer upper-1) down through layers
    /// upper-1 ... lower; on return `workspace.dHidden` holds the gradient w.r.t. the hidden state entering `lower`.
    public func backwardLayers(
        tape: ForwardTape, from upper: Int, downTo lower: Int, workspace: BackwardWorkspace,
        gradients: BertParameters? = nil
    ) {
        workspace.ensure(layout: tape.layout, config: config)
        var l = upper - 1
        while l >= lower {
            backwardLayer(l, tape: tape, workspace: workspace, gradients: gradients?.layer(l))
            l -= 1
        }
    }

    /// `forwardLayer` backwards: ws.dHidden, the gradient w.r.t. the layer's output (M,H), becomes the gradient
    /// w.r.t. its input (R,H); `g` (nil: none) accumulates the weight gradients. bfloat16 backward (never with
    /// weight gradients or dropout): each dense product's dout is rounded.
    func backwardLayer(_ l: Int, tape: ForwardTape, workspace ws: BackwardWorkspace,
                       gradients g: EncoderLayerWeights?) {
        let w = layerWeights(l), a = tape.layers[l - tape.firstLayer], context = tape.context
        let x = tape.hiddenState(enteringLayer: l)
        let rows = tape.layout.rows, h = config.hiddenSize, i = config.intermediateSize
        let queries = tape.queries(atLayer: l), m = tape.layout.queryRows(queries)
        let xq = queries == .all ? UnsafePointer(x) : UnsafePointer(a.queryInput.pointer)
        let masks = a.dropoutMasks
        let dense = DenseOperands(tape: tape, weights: tape.precision.backwardInBFloat16 && g == nil && masks == nil
                                  ? bfloat16Weights(l, context: context) : nil)
        // feed-forward: LayerNorm, dense + residual (the residual passes the gradient on to attentionNormed),
        // GELU, dense
        ws.dOutputResidual.zero(m * h)
        layerNormBackward(
            dinp: ws.dOutputResidual.pointer, dgamma: g?.outputNormWeight, dbeta: g?.outputNormBias,
            dout: ws.dHidden.pointer, inp: a.outputResidual.pointer, gamma: w.outputNormWeight,
            mean: a.outputMean.pointer, rstd: a.outputRstd.pointer, rows: m, channels: h, context: context)
        ws.dAttentionNormed.pointer.update(from: ws.dOutputResidual.pointer, count: m * h)
        if let masks { dropoutBackward(ws.dOutputResidual.pointer, mask: masks.output, count: m * h) }
        ws.dActivated.zero(m * i)
        linearBackward(
            dinp: ws.dActivated.pointer, dweight: g?.outputWeight, dbias: g?.outputBias,
            dout: ws.dOutputResidual.pointer, inp: a.activated.pointer, weight: w.outputWeight,
            rows: m, inFeatures: i, outFeatures: h,
            bfloat16: dense.rounding(ws.dOutputResidual.pointer, count: m * h, \.output), context: context)
        ws.dIntermediate.zero(m * i)
        geluBackward(
            dinp: ws.dIntermediate.pointer, inp: a.intermediate.pointer, dout: ws.dActivated.pointer, count: m * i,
            context: context)
        linearBackward(
            dinp: ws.dAttentionNormed.pointer, dweight: g?.intermediateWeight, dbias: g?.intermediateBias,
            dout: ws.dIntermediate.pointer, inp: a.attentionNormed.pointer, weight: w.intermediateWeight,
            rows: m, inFeatures: h, outFeatures: i,
            bfloat16: dense.rounding(ws.dIntermediate.pointer, count: m * i, \.intermediate), context: context)
        // attention output: LayerNorm, dense + residual (the residual passes the gradient on to the queries' input)
        ws.dAttentionResidual.zero(m * h)
        layerNormBackward(
            dinp: ws.dAttentionResidual.pointer, dgamma: g?.attentionNormWeight, dbeta: g?.attentionNormBias,
            dout: ws.dAttentionNormed.pointer, inp: a.attentionResidual.pointer, gamma: w.attentionNormWeight,
            mean: a.attentionMean.pointer, rstd: a.attentionRstd.pointer, rows: m, channels: h, context: context)
        let dInput = ws.dInput.pointer, dQueryInput = queries == .all ? dInput : ws.dQueryInput.pointer
        dQueryInput.update(from: ws.dAttentionResidual.pointer, count: m * h)
        if let masks { dropoutBackward(ws.dAttentionResidual.pointer, mask: masks.attentionOutput, count: m * h) }
        ws.dContext.zero(m * h)
        linearBackward(
            dinp: ws.dContext.pointer, dweight: g?.attentionOutputWeight, dbias: g?.attentionOutputBias,
            dout: ws.dAttentionResidual.pointer, inp: a.context.pointer, weight: w.attentionOutputWeight,
            rows: m, inFeatures: h, outFeatures: h,
            bfloat16: dense.rounding(ws.dAttentionResidual.pointer, count: m * h, \.attentionOutput), context: context)
        // self-attention: queries from xq, keys and values from every row of x
        ws.dq.zero(m * h); ws.dk.zero(rows * h); ws.dv.zero(rows * h)
        attentionBackward(
            dq: ws.dq.pointer, dk: ws.dk.pointer, dv: ws.dv.pointer, scratch: ws.scratch.pointer,
            dout: ws.dContext.pointer, probs: a.probs.pointer, q: a.q.pointer, k: a.k.pointer, v: a.v.pointer,
            layout: tape.layout, channels: h, queries: queries, dropout: masks?.attention, context: context)
        linearBackward(dinp: dQueryInput, dweight: g?.queryWeight, dbias: g?.queryBias,
                       dout: ws.dq.pointer, inp: xq, weight: w.queryWeight, rows: m, inFeatures: h, outFeatures: h,
                       bfloat16: dense.rounding(ws.dq.pointer, count: m * h, \.query), context: context)
        if queries == .first { ws.dInput.zero(rows * h) }
        linearBackward(dinp: dInput, dweight: g?.keyWeight, dbias: g?.keyBias,
                       dout: ws.dk.pointer, inp: x, weight: w.keyWeight, rows: rows, inFeatures: h, outFeatures: h,
                       bfloat16: dense.rounding(ws.dk.pointer, count: rows * h, \.key), context: context)
        linearBackward(dinp: dInput, dweight: g?.valueWeight, dbias: g?.valueBias,
                       dout: ws.dv.pointer, inp: x, weight: w.valueWeight, rows: rows, inFeatures: h, outFeatures: h,
                       bfloat16: dense.rounding(ws.dv.pointer, count: rows * h, \.value), context: context)
        if queries == .first {
            for b in 0..<tape.layout.batch {
                let row = dInput + tape.layout.offsets[b] * h, cls = dQueryInput + b * h
                for c in 0..<h { row[c] += cls[c] }
            }
        }
        ws.dHidden.pointer.update(from: dInput, count: rows * h)
    }

    /// Weight gradients of the embeddings from `workspace.dHidden` (gradient w.r.t. the embedding output).
    public func backwardEmbeddings(
        _ inputs: [ModelInput], tape: ForwardTape, workspace ws: BackwardWorkspace, gradients: BertParameters
    ) {
        ws.ensure(layout: tape.layout, config: config)
        let rows = tape.layout.rows, h = config.hiddenSize, g = gradients.embeddings()
        ws.dInput.zero(rows * h)
        var dNormed = UnsafePointer(ws.dHidden.pointer)
        if tape.embeddingDroppedOut {
            // Through the embedding dropout into a free buffer, leaving dHidden as the caller's gradient.
            ws.dAttentionResidual.pointer.update(from: ws.dHidden.pointer, count: rows * h)
            dropoutBackward(ws.dAttentionResidual.pointer, mask: tape.embeddingMask.pointer, count: rows * h)
            dNormed = UnsafePointer(ws.dAttentionResidual.pointer)
        }
        layerNormBackward(
            dinp: ws.dInput.pointer, dgamma: g.normWeight, dbeta: g.normBias,
            dout: dNormed, inp: tape.embeddingSum.pointer, gamma: embeddingWeights.normWeight,
            mean: tape.embeddingMean.pointer, rstd: tape.embeddingRstd.pointer, rows: rows, channels: h,
            context: tape.context)
        for (b, input) in inputs.enumerated() {
            for pos in 0..<input.count {
                let d = ws.dInput.pointer + (tape.layout.offsets[b] + pos) * h
                let w = g.word + input.ids[pos] * h, pp = g.position + pos * h, t = g.tokenType + input.types[pos] * h
                for c in 0..<h { w[c] += d[c]; pp[c] += d[c]; t[c] += d[c] }
            }
        }
    }
}
