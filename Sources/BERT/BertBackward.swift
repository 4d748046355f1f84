import Kernels

/// The backward pass mirrors the forward line by line. Activation gradients always; weight gradients
/// only when a `gradients` store is passed (IBA and IG never pay for them): it has the parameters' layout,
/// so `gradients.layer(l).outputNormWeight` is the gradient of `parameters.layer(l).outputNormWeight`.
extension BertModel {
    /// dlogits (B,K) -> gradient w.r.t. the encoder output, written (not added) into `workspace.dHidden` (R,H).
    public func backwardHead(tape: ForwardTape, dlogits: UnsafePointer<Float>, workspace: BackwardWorkspace, gradients: BertParameters? = nil) {
        workspace.ensure(layout: tape.layout, config: config)
        let h = config.hiddenSize, k = config.numLabels, batch = tape.layout.batch
        let w = headWeights, g = gradients?.head()
        workspace.dPooled.zero(batch * h)
        workspace.dCls.zero(batch * h)
        linearBackward(dinp: workspace.dPooled.pointer, dweight: g?.classifierWeight, dbias: g?.classifierBias,
                       dout: dlogits, inp: tape.headDroppedOut ? tape.pooledDropped.pointer : tape.pooled.pointer,
                       weight: w.classifierWeight, rows: batch, inFeatures: h, outFeatures: k, context: tape.context)
        if tape.headDroppedOut { dropoutBackward(workspace.dPooled.pointer, mask: tape.pooledMask.pointer, count: batch * h) }
        // tanh backward in place: dPooled becomes the gradient before the activation.
        for i in 0..<(batch * h) { workspace.dPooled.pointer[i] *= 1 - tape.pooled.pointer[i] * tape.pooled.pointer[i] }
        linearBackward(dinp: workspace.dCls.pointer, dweight: g?.poolerWeight, dbias: g?.poolerBias,
                       dout: workspace.dPooled.pointer, inp: tape.clsRows.pointer, weight: w.poolerWeight,
                       rows: batch, inFeatures: h, outFeatures: h, context: tape.context)
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
            backwardLayer(l, tape: tape, workspace: workspace, gradients: gradients?.layer(l))
            l -= 1
        }
    }

    /// `forwardLayer` backwards: ws.dHidden (R,H), the gradient w.r.t. the layer's output, becomes the gradient
    /// w.r.t. its input; `g` (nil: none) accumulates the weight gradients. bfloat16 backward (never with weight
    /// gradients or dropout): each dense product's dout is rounded.
    func backwardLayer(_ l: Int, tape: ForwardTape, workspace ws: BackwardWorkspace, gradients g: EncoderLayerWeights?) {
        let w = layerWeights(l), a = tape.layers[l - tape.firstLayer]
        let x = tape.hiddenState(enteringLayer: l)
        let rows = tape.layout.rows, h = config.hiddenSize, i = config.intermediateSize
        let masks = a.dropoutMasks
        let dense = DenseOperands(tape: tape, weights: tape.precision.backwardInBFloat16 && g == nil && masks == nil ? bfloat16Weights(l, context: tape.context) : nil)
        // feed-forward: LayerNorm, dense + residual (the residual passes the gradient on to attentionNormed), GELU, dense
        ws.dOutputResidual.zero(rows * h)
        layerNormBackward(dinp: ws.dOutputResidual.pointer, dgamma: g?.outputNormWeight, dbeta: g?.outputNormBias,
                          dout: ws.dHidden.pointer, inp: a.outputResidual.pointer, gamma: w.outputNormWeight,
                          mean: a.outputMean.pointer, rstd: a.outputRstd.pointer, rows: rows, channels: h, context: tape.context)
        ws.dAttentionNormed.pointer.update(from: ws.dOutputResidual.pointer, count: rows * h)
        if let masks { dropoutBackward(ws.dOutputResidual.pointer, mask: masks.output, count: rows * h) }
        ws.dActivated.zero(rows * i)
        linearBackward(dinp: ws.dActivated.pointer, dweight: g?.outputWeight, dbias: g?.outputBias,
                       dout: ws.dOutputResidual.pointer, inp: a.activated.pointer, weight: w.outputWeight,
                       rows: rows, inFeatures: i, outFeatures: h, bfloat16: dense.rounding(ws.dOutputResidual.pointer, count: rows * h, \.output), context: tape.context)
        ws.dIntermediate.zero(rows * i)
        geluBackward(dinp: ws.dIntermediate.pointer, inp: a.intermediate.pointer, dout: ws.dActivated.pointer, count: rows * i, context: tape.context)
        linearBackward(dinp: ws.dAttentionNormed.pointer, dweight: g?.intermediateWeight, dbias: g?.intermediateBias,
                       dout: ws.dIntermediate.pointer, inp: a.attentionNormed.pointer, weight: w.intermediateWeight,
                       rows: rows, inFeatures: h, outFeatures: i, bfloat16: dense.rounding(ws.dIntermediate.pointer, count: rows * i, \.intermediate), context: tape.context)
        // attention output: LayerNorm, dense + residual (the residual passes the gradient on to the layer input)
        ws.dAttentionResidual.zero(rows * h)
        layerNormBackward(dinp: ws.dAttentionResidual.pointer, dgamma: g?.attentionNormWeight, dbeta: g?.attentionNormBias,
                          dout: ws.dAttentionNormed.pointer, inp: a.attentionResidual.pointer, gamma: w.attentionNormWeight,
                          mean: a.attentionMean.pointer, rstd: a.attentionRstd.pointer, rows: rows, channels: h, context: tape.context)
        let dInput = ws.dInput.pointer
        dInput.update(from: ws.dAttentionResidual.pointer, count: rows * h)
        if let masks { dropoutBackward(ws.dAttentionResidual.pointer, mask: masks.attentionOutput, count: rows * h) }
        ws.dContext.zero(rows * h)
        linearBackward(dinp: ws.dContext.pointer, dweight: g?.attentionOutputWeight, dbias: g?.attentionOutputBias,
                       dout: ws.dAttentionResidual.pointer, inp: a.context.pointer, weight: w.attentionOutputWeight,
                       rows: rows, inFeatures: h, outFeatures: h,
                       bfloat16: dense.rounding(ws.dAttentionResidual.pointer, count: rows * h, \.attentionOutput), context: tape.context)
        // self-attention
        ws.dq.zero(rows * h); ws.dk.zero(rows * h); ws.dv.zero(rows * h)
        attentionBackward(dq: ws.dq.pointer, dk: ws.dk.pointer, dv: ws.dv.pointer, scratch: ws.scratch.pointer,
                          dout: ws.dContext.pointer, probs: a.probs.pointer, q: a.q.pointer, k: a.k.pointer, v: a.v.pointer,
                          layout: tape.layout, channels: h, dropout: masks?.attention, context: tape.context)
        linearBackward(dinp: dInput, dweight: g?.queryWeight, dbias: g?.queryBias,
                       dout: ws.dq.pointer, inp: x, weight: w.queryWeight, rows: rows, inFeatures: h, outFeatures: h,
                       bfloat16: dense.rounding(ws.dq.pointer, count: rows * h, \.query), context: tape.context)
        linearBackward(dinp: dInput, dweight: g?.keyWeight, dbias: g?.keyBias,
                       dout: ws.dk.pointer, inp: x, weight: w.keyWeight, rows: rows, inFeatures: h, outFeatures: h,
                       bfloat16: dense.rounding(ws.dk.pointer, count: rows * h, \.key), context: tape.context)
        linearBackward(dinp: dInput, dweight: g?.valueWeight, dbias: g?.valueBias,
                       dout: ws.dv.pointer, inp: x, weight: w.valueWeight, rows: rows, inFeatures: h, outFeatures: h,
                       bfloat16: dense.rounding(ws.dv.pointer, count: rows * h, \.value), context: tape.context)
        ws.dHidden.pointer.update(from: dInput, count: rows * h)
    }

    /// Weight gradients of the embeddings from `workspace.dHidden` (gradient w.r.t. the embedding output).
    public func backwardEmbeddings(_ inputs: [ModelInput], tape: ForwardTape, workspace ws: BackwardWorkspace, gradients: BertParameters) {
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
        layerNormBackward(dinp: ws.dInput.pointer, dgamma: g.normWeight, dbeta: g.normBias,
                          dout: dNormed, inp: tape.embeddingSum.pointer, gamma: embeddingWeights.normWeight,
                          mean: tape.embeddingMean.pointer, rstd: tape.embeddingRstd.pointer, rows: rows, channels: h, context: tape.context)
        for (b, input) in inputs.enumerated() {
            for pos in 0..<input.count {
                let d = ws.dInput.pointer + (tape.layout.offsets[b] + pos) * h
                let w = g.word + input.ids[pos] * h, pp = g.position + pos * h, t = g.tokenType + input.types[pos] * h
                for c in 0..<h { w[c] += d[c]; pp[c] += d[c]; t[c] += d[c] }
            }
        }
    }
}
