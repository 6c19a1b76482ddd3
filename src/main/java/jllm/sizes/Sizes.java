package jllm.sizes;

import jllm.tensor.GGMLType;

/**
 * The one set of size functions (ARCHITECTURE invariant 3): bytes of weights, KV caches and activations,
 * used both by the engine's allocators and by the planner ({@code jllm estimate}), so that
 * {@code --verify} compares like with like.
 */
public final class Sizes {
    private Sizes() {}

    /** Bytes of a weight of {@code nElements} elements stored as {@code type} (block scales included). */
    public static long weightBytes(GGMLType type, long nElements) {
        return type.bytes(nElements);
    }

    /**
     * Bytes of a KV cache: keys and values (factor 2) for every layer, context position and KV head.
     * <pre>bytes = 2 * nLayers * nCtx * nKvHeads * headDim * bytesPerElement * batch</pre>
     */
    public static long kvCacheBytes(int nLayers, long nCtx, int nKvHeads, int headDim, double bytesPerElement, long batch) {
        double b = 2.0 * nLayers * (double) nCtx * nKvHeads * headDim * bytesPerElement * batch;
        return Math.round(b);
    }

    /**
     * Bytes of the activation buffers of one decoder forward pass over {@code rows} token rows at once (llama2.c's
     * {@code RunState} widened to a batch of rows, as {@code jllm.model.LlamaModel.State} allocates them). Per
     * row: the residual stream {@code x} and the normed input {@code xb} (dim each), the query {@code q} and the
     * attention output {@code att} (qDim each), this step's key and value (kvDim each), the MLP buffers
     * {@code hb, hb2} (ffnDim each), all at {@code bytesPerElement}; the attention scores (nHeads x ctx per row,
     * fp32) when they are materialised (not with a tiled, flash-attention kernel); and fp32 logits for
     * {@code logitRows} rows.
     * <pre>
     * bytes = rows * (2*dim + 2*qDim + 2*kvDim + 2*ffnDim) * bytesPerElement
     *       + (scores ? rows * nHeads * ctx * 4 : 0)
     *       + logitRows * vocab * 4
     * </pre>
     */
    public static long decoderScratchBytes(long rows, long ctx, long dim, long qDim, long kvDim, long ffnDim,
                                           long nHeads, long vocab, long logitRows, double bytesPerElement,
                                           boolean scores) {
        if (rows < 0 || ctx < 0 || logitRows < 0) {
            throw new IllegalArgumentException("negative rows " + rows + ", ctx " + ctx + " or logit rows " + logitRows);
        }
        double perRow = (2.0 * dim + 2.0 * qDim + 2.0 * kvDim + 2.0 * ffnDim) * bytesPerElement;
        double b = rows * perRow;
        if (scores) b += 4.0 * rows * nHeads * ctx;
        b += 4.0 * logitRows * vocab;
        return Math.round(b);
    }

    /**
     * Bytes of the activations a training step keeps (jllm.model.LlamaModel.State in its training modes), for B
     * sequences of T tokens, N = B*T rows, L layers. Per layer (every layer, or with {@code recompute} one shared set
     * that each block's backward refills by running the block again):
     * <pre>
     *   mid, ln1, ln2 (3 dim)  q, att (2 qDim)  k, v (2 kvDim)  lse (nHeads)  up, hid (+ gate) (2 or 3 ffnDim)
     *   norm statistics (4)                                                  -- per row, float32
     * </pre>
     * plus the block inputs res[0..L] (L+1 times N dim), the final norm (dim + 2 per row), the logits (vocab per
     * row), the loss rows (2 per row), the backward's gradient buffers (3 dim + 2 qDim + 2 kvDim + 2 or 3 ffnDim per
     * row, shared by all layers), the RoPE angle table (T ropeDim), and per thread a position row (dim) and an
     * attention tile (16 x 64 + 32 + 16 headDim), all float32.
     *
     * <p>With {@code bf16} (mixed precision) and without recomputation, the operands of the products and of
     * attention, ln1, ln2, q, k, v, att, up, hid (+ gate), are kept per layer in bfloat16 (2 bytes) and computed in
     * one float32 set shared by the layers; mid, lse and the norm statistics stay float32 per layer:
     * <pre>
     *   per layer:  (dim + nHeads + 4) * 4  +  (2 dim + 2 qDim + 2 kvDim + (2 or 3) ffnDim) * 2   bytes per row
     *   once:       (2 dim + 2 qDim + 2 kvDim + (2 or 3) ffnDim) * 4                             bytes per row
     * </pre>
     * With recomputation the one per-layer set is float32 either way.
     */
    public static long trainingActivationBytes(int nLayers, int dim, int qDim, int kvDim, int nHeads, int headDim,
                                               int ffnDim, boolean gatedMlp, long vocab, int ropeDim, int B, int T,
                                               boolean recompute, boolean bf16, int threads) {
        long N = (long) B * T;
        long ffnBufs = gatedMlp ? 3 : 2;
        long halvable = 2L * dim + 2L * qDim + 2L * kvDim + ffnBufs * ffnDim; // ln1 ln2 q att k v up hid (gate)
        long f32PerLayer = dim + nHeads + 4;                                   // mid, lse, norm statistics
        long layerBytes;
        if (recompute) {
            layerBytes = N * (f32PerLayer + halvable) * Float.BYTES;
        } else if (bf16) {
            layerBytes = nLayers * N * (f32PerLayer * Float.BYTES + halvable * 2) + N * halvable * Float.BYTES;
        } else {
            layerBytes = nLayers * N * (f32PerLayer + halvable) * Float.BYTES;
        }
        long floats = (nLayers + 1L) * N * dim                     // block inputs
                + N * (2L * dim + 2)                           // tmp, final norm output, its statistics
                + N * vocab                                    // logits (then their gradient, in place)
                + 2 * N                                        // per-row loss and log-sum-exp
                + N * (3L * dim + 2L * qDim + 2L * kvDim + ffnBufs * ffnDim) // backward buffers
                + (long) T * ropeDim                           // RoPE cos and sin table
                + (long) threads * (dim + 16 * 64 + 32 + 16L * headDim);
        return layerBytes + floats * Float.BYTES;
    }

    /**
     * Bytes of a training run's model states for {@code params} trainable scalars: float32 master weights and
     * gradients, {@code optimizerStates} float32 values per parameter (AdamW 2, SGD with momentum 1), and with
     * mixed precision a bfloat16 working copy of the {@code matrixParams} scalars of matrices and embeddings.
     * <pre>weights = 4 P (+ 2 P_matrix),  gradients = 4 P,  optimizer = 4 k P</pre>
     */
    public static long[] trainingStateBytes(long params, long matrixParams, int optimizerStates, boolean mixedPrecision) {
        return new long[] {4 * params + (mixedPrecision ? 2 * matrixParams : 0), 4 * params, 4L * optimizerStates * params};
    }

    /**
     * Trainable parameters of a LoRA on one adapted layer of {@code in} inputs and {@code out} outputs (Hu et al.
     * 2021, Sec. 4.1): A (r, in) and B (out, r), so {@code r (in + out)}. GPT-2's fused c_attn is one such layer
     * (out = 3 dim), not three.
     */
    public static long loraParams(int r, long in, long out) {
        if (r <= 0 || in <= 0 || out <= 0) throw new IllegalArgumentException("LoRA r " + r + ", in " + in + ", out " + out + " must be positive");
        return (long) r * (in + out);
    }

    /**
     * Bytes of the working buffers of the LoRA paths of a forward over {@code rows} rows (jllm.model.LoRALinear's
     * Scratch; float32): u (rows, r) and the B product (rows, maxOut), and in training the gradient of u (rows, r);
     * with dropout in training also the dropped-out input and its gradient (2 x (rows, maxIn)). Nothing per layer:
     * the backward recomputes u from the block input the model keeps.
     */
    public static long loraScratchBytes(long rows, long maxIn, long maxOut, int r, boolean training, boolean dropout) {
        long floats = rows * r + rows * maxOut;
        if (training) floats += rows * r;
        if (training && dropout) floats += 2 * rows * maxIn;
        return floats * Float.BYTES;
    }
}
