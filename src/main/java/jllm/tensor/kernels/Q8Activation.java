package jllm.tensor.kernels;

/**
 * An activation vector quantized to 8-bit blocks of 32, once per matrix-vector product, for the integer
 * dot products of {@link RowDotInt8}: {@code x[i] ~ d[i / 32] * q[i]}.
 *
 * <p>Spec: ggml's activation formats {@code block_q8_0} / {@code block_q8_1} (the latter's {@code s = d * sum(q)}) ({@code quantize_row_q8_0}: {@code d = amax / 127},
 * {@code q = roundf(x / d)}), except that the scale is kept as a float rather than rounded to f16. A reusable
 * buffer: {@link #quantize} grows it when a longer vector comes and otherwise allocates nothing.
 */
public final class Q8Activation {
    byte[] q = new byte[0];     // (n)
    float[] d = new float[0];   // (n / 32)
    float[] ds = new float[0];  // (n / 32): d * sum of the block's q, for the min terms of Q4_1 and the K-quants
    int n;

    /** Quantizes {@code x[xOff .. xOff + n)}; {@code n} must be a multiple of 32. */
    public void quantize(float[] x, int xOff, int n) {
        if (n % 32 != 0) throw new IllegalArgumentException("activation length " + n + " is not a multiple of 32");
        if (q.length < n) {
            q = new byte[n];
            d = new float[n / 32];
            ds = new float[n / 32];
        }
        this.n = n;
        for (int b = 0; b < n / 32; b++) {
            int o = xOff + 32 * b;
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[o + j]));
            float db = amax / 127;
            float id = db != 0 ? 1.0f / db : 0.0f;
            d[b] = db;
            int sum = 0;
            for (int j = 0; j < 32; j++) {
                float v = x[o + j] * id;
                int qi = (int) (v >= 0 ? Math.floor(v + 0.5) : -Math.floor(-(double) v + 0.5));
                q[32 * b + j] = (byte) qi;
                sum += qi;
            }
            ds[b] = db * sum;
        }
    }

    public int length() {
        return n;
    }

    /** The dequantized value {@code d * q} of element {@code i} (for tests). */
    public float value(int i) {
        return d[i / 32] * q[i];
    }
}
