package jllm.model;

import jllm.sizes.Sizes;

/**
 * The key/value cache of a decoder: for every layer and context position the rotated key and the value of each KV
 * head, in float32.
 * <pre>  keys, values: (nLayers, capacity, kvDim)   kvDim = nKvHeads * headDim,  capacity <= nCtx</pre>
 * The arrays grow with the positions held ({@link #ensureCapacity}, doubling from {@link #INITIAL_POSITIONS} up to
 * {@code nCtx}), so a short chat with a 128k context does not allocate (and zero, and fault in) the whole context up
 * front: 256 MiB for Llama-3.2-1B at 4,096 positions took 0.7 s before the first token. Its size at {@code nCtx}
 * positions is {@link Sizes#kvCacheBytes} with 4 bytes per element, the same function the planner uses; the heap's
 * free room is checked for that size when the cache is made (after one collection if it looks short), so growing never
 * runs out of memory half-way through a reply, even when the engine has put the weights on the heap.
 */
public final class KvCache {
    /**
     * Refuses a cache of {@code bytes} that the heap ({@code max} in all, {@code free} of it free now) cannot take once
     * full; garbage counts as used until collected, so a short-looking room is measured again after {@code collect}.
     */
    static void checkRoom(int nCtx, long bytes, long max, java.util.function.LongSupplier free, Runnable collect) {
        if (bytes > max) {
            throw new IllegalArgumentException("KV cache for " + nCtx + " positions needs " + bytes + " bytes but the heap allows "
                    + max + "; use a smaller --ctx or raise -Xmx");
        }
        if (bytes <= free.getAsLong()) return;
        collect.run();
        long room = free.getAsLong();
        if (bytes > room) {
            throw new IllegalArgumentException("KV cache for " + nCtx + " positions needs " + bytes + " bytes but only " + room
                    + " of the heap's " + max + " are free (the weights the engine holds on the heap and its buffers take the"
                    + " rest); use a smaller --ctx, raise -Xmx, or -Djllm.repack=false to leave the weights in the file's mapping");
        }
    }

    /** Bytes the heap can still take: its maximum less what is allocated now (live or not yet collected). */
    static long freeHeap() {
        Runtime rt = Runtime.getRuntime();
        return rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    }

    /** Positions allocated at first (or nCtx if smaller). */
    public static final int INITIAL_POSITIONS = 256;

    public final int nLayers;
    public final int nCtx;
    public final int kvDim;
    private int capacity;   // positions allocated
    final float[][] keys;   // [layer] -> (capacity, kvDim)
    final float[][] values; // [layer] -> (capacity, kvDim)

    public KvCache(ModelConfig config, int nCtx) {
        if (nCtx <= 0) throw new IllegalArgumentException("context size must be positive, got " + nCtx);
        long bytes = bytes(config, nCtx);
        long perLayer = (long) nCtx * config.kvDim();
        if (perLayer > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("KV cache of " + nCtx + " positions x " + config.kvDim()
                    + " is too large for one layer array (" + bytes + " bytes in all); use a smaller --ctx");
        }
        checkRoom(nCtx, bytes, Runtime.getRuntime().maxMemory(), KvCache::freeHeap, System::gc);
        this.nLayers = config.nLayers();
        this.nCtx = nCtx;
        this.kvDim = config.kvDim();
        this.capacity = Math.min(nCtx, INITIAL_POSITIONS);
        this.keys = new float[nLayers][capacity * kvDim];
        this.values = new float[nLayers][capacity * kvDim];
    }

    /** Positions the arrays hold now. */
    public int capacity() { return capacity; }

    /**
     * Grows the arrays to hold at least {@code positions} positions (to twice the capacity, at most nCtx), keeping what
     * they hold. The model calls it before writing positions; callers that size memory up front may call it too.
     */
    public void ensureCapacity(int positions) {
        if (positions > nCtx) throw new IllegalArgumentException(positions + " positions do not fit the context of " + nCtx);
        if (positions <= capacity) return;
        int grown = (int) Math.min(nCtx, Math.max(positions, 2L * capacity));
        for (int l = 0; l < nLayers; l++) {
            keys[l] = java.util.Arrays.copyOf(keys[l], grown * kvDim);
            values[l] = java.util.Arrays.copyOf(values[l], grown * kvDim);
        }
        capacity = grown;
    }

    /** Bytes this cache allocates for {@code nCtx} positions. */
    public static long bytes(ModelConfig c, long nCtx) {
        return Sizes.kvCacheBytes(c.nLayers(), nCtx, c.nKvHeads(), c.headDim(), Float.BYTES, 1);
    }

    /** Bytes the arrays hold now (capacity positions); {@link #bytes(ModelConfig, long)} of nCtx once full. */
    public long bytes() {
        return 2L * nLayers * capacity * kvDim * Float.BYTES;
    }

    public float[] keys(int layer) { return keys[layer]; }
    public float[] values(int layer) { return values[layer]; }
}
