package jllm.model;

/**
 * The activations a mixed-precision training step keeps for the backward in bfloat16 (Kalamkar et al. 2019, "A Study
 * of BFLOAT16 for Deep Learning Training": the top 16 bits of an IEEE float32), one copy per layer of each of a set
 * of float32 buffers that the layers share: after layer l's forward {@link #save} stores the buffers' bits, before
 * layer l's backward {@link #restore} puts them back. Both are exact because the buffers already hold values rounded
 * to bfloat16 (LlamaModel rounds them in the forward), so storage halves the bytes and changes no bit.
 */
final class BF16Activations {
    private final short[][][] saved; // [buffer][layer](length of the buffer), null for an absent buffer
    private final long bytes;

    /** Copies for {@code layers} layers of each buffer in {@code buffers} (each buffers[i][0] gives the length). */
    BF16Activations(float[][][] buffers, int layers) {
        saved = new short[buffers.length][][];
        long b = 0;
        for (int i = 0; i < buffers.length; i++) {
            if (buffers[i] == null) continue;
            saved[i] = new short[layers][];
            for (int l = 0; l < layers; l++) {
                saved[i][l] = new short[buffers[i][0].length];
                b += 2L * saved[i][l].length;
            }
        }
        bytes = b;
    }

    /** Bytes of the bf16 copies, as allocated. */
    long bytes() {
        return bytes;
    }

    /** The bf16 bits of buffers[i][l] into layer l's copies (the buffers hold bf16 values). */
    void save(int l, float[][][] buffers, Linear pool) {
        for (int i = 0; i < buffers.length; i++) {
            if (buffers[i] == null) continue;
            float[] src = buffers[i][l];
            short[] dst = saved[i][l];
            pool.parallelRange(dst.length, (from, to, worker) -> {
                for (int j = from; j < to; j++) dst[j] = (short) (Float.floatToRawIntBits(src[j]) >>> 16);
            });
        }
    }

    /** Layer l's copies decoded into buffers[i][l]. */
    void restore(int l, float[][][] buffers, Linear pool) {
        for (int i = 0; i < buffers.length; i++) {
            if (buffers[i] == null) continue;
            float[] dst = buffers[i][l];
            short[] src = saved[i][l];
            pool.parallelRange(src.length, (from, to, worker) -> {
                for (int j = from; j < to; j++) dst[j] = Float.intBitsToFloat(src[j] << 16);
            });
        }
    }
}
