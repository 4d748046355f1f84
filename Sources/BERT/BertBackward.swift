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
                       dout: dlogits, inp: tape.pooled.pointer, weight: parameters["classifier.weight"],
                       rows: batch, inFeatures: h, outFeatures: k)
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
        // output LayerNorm
        ws.dOutputResidual.zero(rows * h)
        layerNormBackward(dinp: ws.dOutputResidual.pointer, dgamma: g?[p + "output.LayerNorm.weight"], dbeta: g?[p + "output.LayerNorm.bias"],
                          dout: dOut, inp: a.outputResidual.pointer, gamma: w.outputNormWeight,
                          mean: a.outputMean.pointer, rstd: a.outputRstd.pointer, rows: rows, channels: h)
        // output dense + residual from attentionNormed
        ws.dAttentionNormed.pointer.update(from: ws.dOutputResidual.pointer, count: rows * h)
        ws.dActivated.zero(rows * i)
        linearBackward(dinp: ws.dActivated.pointer, dweight: g?[p + "output.dense.weight"], dbias: g?[p + "output.dense.bias"],
                       dout: ws.dOutputResidual.pointer, inp: a.activated.pointer, weight: w.outputWeight,
                       rows: rows, inFeatures: i, outFeatures: h)
        ws.dIntermediate.zero(rows * i)
        geluBackward(dinp: ws.dIntermediate.pointer, inp: a.intermediate.pointer, dout: ws.dActivated.pointer, count: rows * i)
        linearBackward(dinp: ws.dAttentionNormed.pointer, dweight: g?[p + "intermediate.dense.weight"], dbias: g?[p + "intermediate.dense.bias"],
                       dout: ws.dIntermediate.pointer, inp: a.attentionNormed.pointer, weight: w.intermediateWeight,
                       rows: rows, inFeatures: h, outFeatures: i)
        // attention LayerNorm
        ws.dAttentionResidual.zero(rows * h)
        layerNormBackward(dinp: ws.dAttentionResidual.pointer, dgamma: g?[p + "attention.output.LayerNorm.weight"],
                          dbeta: g?[p + "attention.output.LayerNorm.bias"], dout: ws.dAttentionNormed.pointer,
                          inp: a.attentionResidual.pointer, gamma: w.attentionNormWeight,
                          mean: a.attentionMean.pointer, rstd: a.attentionRstd.pointer, rows: rows, channels: h)
        // attention output dense + residual from the layer input
        let dInput = ws.dInput.pointer
        dInput.update(from: ws.dAttentionResidual.pointer, count: rows * h)
        ws.dContext.zero(rows * h)
        linearBackward(dinp: ws.dContext.pointer, dweight: g?[p + "attention.output.dense.weight"], dbias: g?[p + "attention.output.dense.bias"],
                       dout: ws.dAttentionResidual.pointer, inp: a.context.pointer, weight: w.attentionOutputWeight,
                       rows: rows, inFeatures: h, outFeatures: h)
        ws.dq.zero(rows * h); ws.dk.zero(rows * h); ws.dv.zero(rows * h)
        attentionBackward(dq: ws.dq.pointer, dk: ws.dk.pointer, dv: ws.dv.pointer, scratch: ws.scratch.pointer,
                          dout: ws.dContext.pointer, probs: a.probs.pointer, q: a.q.pointer, k: a.k.pointer, v: a.v.pointer,
                          layout: tape.layout, channels: h)
        linearBackward(dinp: dInput, dweight: g?[p + "attention.self.query.weight"], dbias: g?[p + "attention.self.query.bias"],
                       dout: ws.dq.pointer, inp: x, weight: w.queryWeight, rows: rows, inFeatures: h, outFeatures: h)
        linearBackward(dinp: dInput, dweight: g?[p + "attention.self.key.weight"], dbias: g?[p + "attention.self.key.bias"],
                       dout: ws.dk.pointer, inp: x, weight: w.keyWeight, rows: rows, inFeatures: h, outFeatures: h)
        linearBackward(dinp: dInput, dweight: g?[p + "attention.self.value.weight"], dbias: g?[p + "attention.self.value.bias"],
                       dout: ws.dv.pointer, inp: x, weight: w.valueWeight, rows: rows, inFeatures: h, outFeatures: h)
        ws.dHidden.pointer.update(from: dInput, count: rows * h)
    }

    /// Weight gradients of the embeddings from `workspace.dHidden` (gradient w.r.t. the embedding output).
    public func backwardEmbeddings(_ inputs: [ModelInput], tape: ForwardTape, workspace ws: BackwardWorkspace, gradients g: BertParameters) {
        let rows = tape.layout.rows, h = config.hiddenSize
        ws.dInput.zero(rows * h)
        layerNormBackward(dinp: ws.dInput.pointer, dgamma: g["embeddings.LayerNorm.weight"], dbeta: g["embeddings.LayerNorm.bias"],
                          dout: ws.dHidden.pointer, inp: tape.embeddingSum.pointer, gamma: parameters["embeddings.LayerNorm.weight"],
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
