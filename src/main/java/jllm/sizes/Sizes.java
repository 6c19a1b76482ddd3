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
}
