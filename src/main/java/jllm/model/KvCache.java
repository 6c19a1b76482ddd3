package jllm.model;

import jllm.sizes.Sizes;

/**
 * The key/value cache of a decoder (preallocated once, never grown): for every layer and context position the
 * rotated key and the value of each KV head, in float32.
 * <pre>  keys, values: (nLayers, nCtx, kvDim)   kvDim = nKvHeads * headDim</pre>
 * Its size is {@link Sizes#kvCacheBytes} with 4 bytes per element, the same function the planner uses.
 */
public final class KvCache {
    public final int nLayers;
    public final int nCtx;
    public final int kvDim;
    final float[][] keys;   // [layer] -> (nCtx, kvDim)
    final float[][] values; // [layer] -> (nCtx, kvDim)

    public KvCache(ModelConfig config, int nCtx) {
        if (nCtx <= 0) throw new IllegalArgumentException("context size must be positive, got " + nCtx);
        long bytes = bytes(config, nCtx);
        long perLayer = (long) nCtx * config.kvDim();
        if (perLayer > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("KV cache of " + nCtx + " positions x " + config.kvDim()
                    + " is too large for one layer array (" + bytes + " bytes in all); use a smaller --ctx");
        }
        long max = Runtime.getRuntime().maxMemory();
        if (bytes > max) {
            throw new IllegalArgumentException("KV cache for " + nCtx + " positions needs " + bytes + " bytes but the heap allows "
                    + max + "; use a smaller --ctx or raise -Xmx");
        }
        this.nLayers = config.nLayers();
        this.nCtx = nCtx;
        this.kvDim = config.kvDim();
        this.keys = new float[nLayers][(int) perLayer];
        this.values = new float[nLayers][(int) perLayer];
    }

    /** Bytes this cache allocates for {@code nCtx} positions. */
    public static long bytes(ModelConfig c, long nCtx) {
        return Sizes.kvCacheBytes(c.nLayers(), nCtx, c.nKvHeads(), c.headDim(), Float.BYTES, 1);
    }

    public long bytes() {
        return 2L * nLayers * nCtx * kvDim * Float.BYTES;
    }

    public float[] keys(int layer) { return keys[layer]; }
    public float[] values(int layer) { return values[layer]; }
}
