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
}
