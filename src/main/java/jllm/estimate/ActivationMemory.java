package jllm.estimate;

import jllm.estimate.Estimate.Unit;

/**
 * Activation memory of training, after Korthikanti et al. 2022, "Reducing Activation Recomputation in Large
 * Transformer Models" (arXiv:2205.05198), Section 4 and Table 2, per transformer layer with s = sequence,
 * b = micro-batch, h = hidden, a = heads, t = tensor-parallel size, 16-bit activations and 1-byte dropout masks:
 * <pre>
 *   no parallelism                         s*b*h*(34 + 5*a*s/h)
 *   tensor parallel                        s*b*h*(10 + 24/t + 5*a*s/(h*t))
 *   tensor + sequence parallel             s*b*h*(34/t + 5*a*s/(h*t))
 *   ... + selective recomputation          the 5*a*s/h terms vanish
 *   full recomputation                     s*b*h*2 (only each layer's input), /t with sequence parallelism
 * </pre>
 * The 34 and the 5as/h come from this breakdown, which is what the code computes, so that it also holds for
 * grouped-query attention (kv heads fewer than heads), a head width other than h/a, any MLP width f, gated
 * (SwiGLU) MLPs with three stored f-wide tensors, models trained without dropout, and 32-bit activations:
 * <pre>
 *   kept whole under tensor parallelism (10 sbh): inputs of both norms 2+2, inputs of QKV and of the MLP 2+2,
 *                                                 two dropout masks 1+1
 *   split by t (24 sbh + 5as^2b):  Q and K 4, softmax output 2as^2b, its dropout mask as^2b and output 2as^2b,
 *                                  V 2, input of the output projection 2, MLP: GeLU input 8 and fc2 input 8
 * </pre>
 * Flash attention (Dao et al. 2022) never stores the a*s*s score tensors, like selective recomputation. Around
 * the layers (Megatron-LM's theoretical_memory_usage.py): the embedding dropout mask s*b*h bytes per micro-batch
 * in flight, and on the last stage the final norm and output projection inputs and the fp32 logits,
 * 4*s*b*h*(1 + v/h) for 16-bit activations. Under 1F1B pipelining the first stage keeps min(m, p) micro-batches
 * of its L/p layers in flight (Narayanan et al. 2021); the peak is the larger of the first and last stage.
 *
 * @param shape          model shape
 * @param seq            sequence length s
 * @param microBatch     micro-batch size b
 * @param tp             tensor-parallel size t
 * @param sp             sequence parallelism (splits the norm and dropout activations too)
 * @param pp             pipeline stages p
 * @param microBatches   micro-batches per step m (with p > 1, how many can be in flight)
 * @param recompute      none, selective (attention core) or full (everything but layer inputs)
 * @param flashAttention scores never materialised
 * @param dropout        the model trains with dropout (GPT, BERT, T5 do; Llama-family models do not)
 * <p>Two refinements, both off in the paper's accounting (the 11-argument constructor): {@code residualBytes}, the
 * bytes of the residual stream (the norms' inputs, each layer's input and the final norm's input), 4 under mixed
 * precision that adds the residuals in fp32 (PyTorch autocast, jllm) while the other activations are 16-bit; and
 * {@code workingBytes}, the backward's working set of one layer at a time, which the paper leaves out: the
 * gradients of that layer's activations (3h + 2 q + 2 kv + 2 or 3 f per token: the norm outputs and residual, Q and
 * the attention output, K and V, the MLP tensors) and, when the backward computes wider than the activations are
 * stored ({@code workingBytes > bytes}), the layer's 16-bit matrix and attention operands decoded to that width
 * (2h + 2 q + 2 kv + 2 or 3 f per token); with full recomputation the recomputed layer is held at that width
 * instead, and nothing is decoded.
 *
 * @param bytes          bytes per activation element (2 for 16-bit training, 4 for fp32)
 * @param residualBytes  bytes per element of the residual stream (the norms' inputs)
 * @param workingBytes   bytes per element of the backward's one-layer working set; 0: not counted
 */
public record ActivationMemory(ModelShape shape, long seq, long microBatch, int tp, boolean sp, int pp,
                               long microBatches, Recompute recompute, boolean flashAttention, boolean dropout,
                               int bytes, int residualBytes, int workingBytes) {

    /** The paper's accounting: the residual stream at {@code bytes}, the backward's working set not counted. */
    public ActivationMemory(ModelShape shape, long seq, long microBatch, int tp, boolean sp, int pp, long microBatches,
                            Recompute recompute, boolean flashAttention, boolean dropout, int bytes) {
        this(shape, seq, microBatch, tp, sp, pp, microBatches, recompute, flashAttention, dropout, bytes, bytes, 0);
    }

    /** Activation recomputation (checkpointing) policy. */
    public enum Recompute { NONE, SELECTIVE, FULL }

    /** Per-layer activation bytes, split into the part tensor parallelism keeps whole and the part it splits. */
    record PerLayer(double replicated, double split, double squared) {
        /** Bytes per GPU under tensor parallelism t, with or without sequence parallelism. */
        double perGpu(int t, boolean sp) {
            double s = split + squared;
            return sp ? (replicated + s) / t : replicated + s / t;
        }
    }

    /** The breakdown above for one layer; {@code cross} adds a cross-attention block (encoder-decoder decoders). */
    PerLayer layer(boolean cross) {
        double sb = (double) seq * microBatch;
        double h = shape.hidden(), q = shape.qDim(), kv = shape.kvDim(), f = shape.ffn();
        double mask = dropout ? 1 : 0;
        int attnBlocks = cross ? 2 : 1;
        double replicated = sb * h * (attnBlocks * (residualBytes + bytes + mask) + residualBytes + bytes + mask);
        double attentionSplit = sb * ((q + kv) * bytes + kv * bytes + q * bytes);
        double mlpSplit = sb * f * (shape.gatedMlp() ? 3 : 2) * bytes;
        double squared = (double) shape.heads() * seq * seq * microBatch * (bytes + (dropout ? bytes + mask : 0));
        if (flashAttention || recompute == Recompute.SELECTIVE) squared = 0;
        return new PerLayer(replicated, attnBlocks * attentionSplit + mlpSplit, attnBlocks * squared);
    }

    /** Bytes of one layer per GPU as stored between forward and backward. */
    double storedPerLayer(boolean cross) {
        if (recompute == Recompute.FULL) {
            double input = (double) seq * microBatch * shape.hidden() * residualBytes;
            return sp ? input / tp : input;
        }
        return layer(cross).perGpu(tp, sp);
    }

    /** The backward's working set of one layer (see the class comment), 0 when {@code workingBytes} is 0. */
    double backwardWorkingSet() {
        if (workingBytes == 0) return 0;
        double sb = (double) seq * microBatch, h = shape.hidden(), q = shape.qDim(), kv = shape.kvDim(), f = shape.ffn();
        double mlp = (shape.gatedMlp() ? 3 : 2) * f;
        double perToken = 3 * h + 2 * q + 2 * kv + mlp;
        if (workingBytes > bytes && recompute != Recompute.FULL) perToken += 2 * h + 2 * q + 2 * kv + mlp;
        return sb * perToken * workingBytes / tp;
    }

    /** Activation bytes per GPU at the peak, without recording a derivation. */
    public long bytesOnly() {
        return estimate(null);
    }

    /** Activation bytes per GPU at the peak, with the derivation recorded in {@code e} (when not null). */
    public long estimate(Estimate e) {
        double sbh = (double) seq * microBatch * shape.hidden();
        long inFlight = pp > 1 ? Math.min(microBatches, pp) : 1;
        double enc = storedPerLayer(false);
        String formulaId = recompute == Recompute.FULL ? "act_layer_full" : sp ? "act_layer_sp" : "act_layer_tp";
        PerLayer pl = layer(false);
        String numbers = recompute == Recompute.FULL
                ? seq + " × " + microBatch + " × " + shape.hidden() + " × " + bytes + (sp ? " / " + tp : "")
                : sp ? "(" + Units.n(pl.replicated()) + " + " + Units.n(pl.split()) + " + " + Units.n(pl.squared()) + ") / " + tp
                : Units.n(pl.replicated()) + " + (" + Units.n(pl.split()) + " + " + Units.n(pl.squared()) + ") / " + tp;
        if (e != null) {
            e.step(formulaId, numbers, null, enc, Unit.BYTES, seq, microBatch, shape.hidden(), tp,
                    Units.n(sbh == 0 ? 0 : enc / sbh));
        }
        if (e != null && recompute != Recompute.FULL && pl.squared() > 0) {
            e.note("act_squared", Units.bytes(pl.squared() / tp));
        }

        double dec = 0;
        int encLayers = shape.layers(), decLayers = shape.decoderLayers();
        if (decLayers > 0) {
            dec = storedPerLayer(true);
            if (e != null) e.step("act_layer_cross", Units.n(dec), null, dec, Unit.BYTES);
        }
        double allLayers = encLayers * enc + decLayers * dec;
        double stageLayers = allLayers / pp;

        double embedDropout = dropout ? sbh / (sp ? tp : 1) : 0;
        double vocab = shape.arch() == ModelShape.Arch.ENCODER ? 0 : shape.vocab();
        double output = (double) seq * microBatch * ((double) shape.hidden() * (residualBytes + bytes) + 4.0 * vocab) / tp;

        double first = stageLayers * inFlight + embedDropout * inFlight + (pp == 1 ? output : 0);
        double last = pp == 1 ? first : stageLayers + output;
        double peak = Math.max(first, last);
        String n2 = Units.n(stageLayers) + " × " + inFlight + " + " + Units.n(embedDropout) + " × " + inFlight
                + " + " + Units.n(output);
        double working = 0;
        if (recompute == Recompute.FULL) {
            // Backward recomputes one layer at a time, so one layer's full activations are live on top.
            // ... at the width the backward computes in (workingBytes, when counted).
            int w = Math.max(bytes, workingBytes);
            working = new ActivationMemory(shape, seq, microBatch, tp, sp, pp, microBatches, Recompute.NONE,
                    flashAttention, dropout, w, Math.max(residualBytes, w), 0).storedPerLayer(decLayers > 0);
            n2 += " + " + Units.n(working);
        }
        double backward = backwardWorkingSet();
        if (backward > 0) n2 += " + " + Units.n(backward);
        working += backward;
        long total = Math.round(peak + working);
        if (e == null) return total;
        e.step(recompute == Recompute.FULL ? "act_total_full" : "act_total", n2, "activations_bytes", total,
                Unit.BYTES, encLayers + decLayers, pp, inFlight);
        if (recompute == Recompute.NONE && !flashAttention && pl.squared() > pl.split()) {
            e.warn("act_quadratic_dominates", seq);
        }
        return total;
    }
}
