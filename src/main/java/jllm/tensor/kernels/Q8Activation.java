package jllm.tensor.kernels;

import jllm.tensor.GGMLType;

/**
 * An activation vector quantized to 8 bits, once per matrix-vector product, in the format ggml's CPU backend
 * uses for the weight type at hand, so that {@link RowDotInt8} multiplies the same integers llama.cpp does.
 *
 * <p>Spec: ggml-cpu {@code quantize_row_q8_0} / {@code quantize_row_q8_1} (x86 AVX path) and
 * {@code quantize_row_q8_K_ref}:
 * <ul>
 *   <li>{@link Format#Q8_0} (for Q8_0, Q4_0 and, with the block sums, Q4_1 weights): blocks of 32,
 *   {@code d = amax / 127} stored as f16, {@code q = rint(x * (127 / amax))} (ties to even), and q8_1's
 *   {@code s = f16(d * sum(q))};</li>
 *   <li>{@link Format#Q8_K} (for Q4_K, Q5_K, Q6_K weights): blocks of 256, {@code iscale = -127 / max} where max
 *   is the element of largest magnitude, {@code q = min(127, nearest_int(iscale * x))}, {@code d = 1 / iscale} as a
 *   float, and the sums of q over each 16 elements ({@code bsums}).</li>
 * </ul>
 * A reusable buffer: {@link #quantize} grows it when a longer vector comes and otherwise allocates nothing.
 */
public final class Q8Activation {
    /** ggml's activation block formats. */
    public enum Format { Q8_0, Q8_K }

    Format format = Format.Q8_0;
    int n;
    byte[] q = new byte[0];     // (n)
    float[] d = new float[0];   // (n / 32) or (n / 256): the scale as the dot product uses it
    float[] s = new float[0];   // (n / 32), Q8_0 format: q8_1's f16(d * sum(q)) as a float
    int[] bsums = new int[0];   // (n / 16), Q8_K format: sum of q over each 16 elements
    /**
     * (n / 2): each 32 quants in pairs, {@code pairs[16b + j] = (q[32b + j] << 16) + q[32b + 16 + j]},
     * for the paired-product Q4_0, Q4_1 and Q4_K_R kernels of {@link RowDotInt8}.
     */
    int[] pairs = new int[0];
    /**
     * (n / 32), Q8_K format, with the pairs or the interleaved pairs: each 32-element sub-block's scale (its
     * 256-element block's d) and {@code d * sum(q)} over it, for Q4_K_R and Q4_K_R16. d32 repeats {@link #d}, but the
     * kernel indexing it per sub-block ran faster than one indexing {@code d[b >> 3]} (tg64 1B Q4_K, 2 threads,
     * alternated: 18.9 / 19.6 / 18.9 against 15.7 / 15.8 / 15.2 t/s).
     */
    float[] d32 = new float[0], dsum32 = new float[0];
    /**
     * (n / 2), either format: the pairs of each 16 blocks of 32 (512 quants) interleaved as
     * {@link jllm.tensor.GGMLType#Q4_0_R} interleaves its weights, {@code pairsT[256 g + 16 j + i] = pairs[16 (16 g + i) + j]},
     * so that one 16-lane load gives pair j of 16 blocks; for {@link RowDotInt8#q4_0R}, {@link RowDotInt8#q8_0R} and
     * {@link RowDotInt8#q4_KR16}. Built only when n is a multiple of 512.
     */
    int[] pairsT = new int[0];
    /** Whether {@link #pairs} (and {@link #d32}, {@link #dsum32}) hold this quantization's values. */
    boolean hasPairs;
    /** Whether {@link #pairsT} (and, for Q8_K, {@link #d32}, {@link #dsum32}) hold this quantization's values. */
    boolean hasPairsT;

    /** The format ggml uses for activations multiplied with weights of {@code type}. */
    public static Format formatFor(GGMLType type) {
        return type.fileType().blockSize == 256 ? Format.Q8_K : Format.Q8_0;   // Q4_K_R, Q4_K_R16 too: they are Q4_K, repacked
    }

    /**
     * Quantizes {@code x[xOff .. xOff + n)} to {@code format}, with the pairs the paired-product kernels read;
     * {@code n} must be a multiple of the format's block size.
     */
    public void quantize(Format format, float[] x, int xOff, int n) {
        quantize(format, x, xOff, n, true, true);
    }

    /**
     * As {@link #quantize(Format, float[], int, int)}, building {@link #pairs}, {@link #d32} and {@link #dsum32} only when
     * {@code withPairs} and {@link #pairsT} only when {@code transposed}: {@link MatMul} skips them for weight types whose
     * kernels do not read them ({@link RowDotInt8#usesPairs}, {@link RowDotInt8#usesTransposedPairs}), saving a pass over
     * the activation per product.
     */
    void quantize(Format format, float[] x, int xOff, int n, boolean withPairs, boolean transposed) {
        int bs = format == Format.Q8_K ? 256 : 32;
        if (n % bs != 0) throw new IllegalArgumentException("activation length " + n + " is not a multiple of " + bs + " for " + format);
        if (q.length < n) {
            q = new byte[n];
            d = new float[n / 32];
            s = new float[n / 32];
            bsums = new int[n / 16];
            pairs = new int[n / 2];
            pairsT = new int[n / 2];
            d32 = new float[n / 32];
            dsum32 = new float[n / 32];
        }
        this.format = format;
        this.n = n;
        if (format == Format.Q8_0) {
            for (int b = 0; b < n / 32; b++) quantizeQ8_0Block(x, xOff + 32 * b, b);
        } else {
            for (int b = 0; b < n / 256; b++) quantizeQ8_KBlock(x, xOff + 256 * b, b);
        }
        hasPairsT = transposed && n % 512 == 0;
        if (hasPairsT) {
            for (int g = 0; g < n / 512; g++) {
                for (int i = 0; i < 16; i++) {
                    int b = 16 * g + i;
                    for (int j = 0; j < 16; j++) pairsT[256 * g + 16 * j + i] = pair(b, j);
                }
            }
        }
        hasPairs = withPairs;
        if (withPairs) {
            for (int b = 0; b < n / 32; b++) {
                for (int j = 0; j < 16; j++) pairs[16 * b + j] = pair(b, j);
            }
        }
        if (format == Format.Q8_K && (withPairs || hasPairsT)) {
            for (int t = 0; t < n / 32; t++) {
                d32[t] = d[t / 8];
                dsum32[t] = d[t / 8] * (bsums[2 * t] + bsums[2 * t + 1]);
            }
        }
    }

    /** Quants j and j + 16 of 32-element block b as one paired-product operand: {@code (q_j << 16) + q_(j+16)}. */
    private int pair(int b, int j) {
        return (q[32 * b + j] << 16) + q[32 * b + 16 + j];
    }

    private void quantizeQ8_0Block(float[] x, int o, int b) {
        float max = 0;
        for (int j = 0; j < 32; j++) max = Math.max(max, Math.abs(x[o + j]));
        float db = max / 127.f;
        float id = max != 0.0f ? 127.f / max : 0.0f;
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            int v = (int) Math.rint(x[o + j] * id);
            q[32 * b + j] = (byte) v;
            sum += v;
        }
        d[b] = Float.float16ToFloat(Float.floatToFloat16(db));
        s[b] = Float.float16ToFloat(Float.floatToFloat16(db * sum));
    }

    private void quantizeQ8_KBlock(float[] x, int o, int b) {
        float max = 0, amax = 0;
        for (int j = 0; j < 256; j++) {
            float ax = Math.abs(x[o + j]);
            if (ax > amax) {
                amax = ax;
                max = x[o + j];
            }
        }
        if (amax == 0) {
            d[b] = 0;
            for (int j = 0; j < 256; j++) q[256 * b + j] = 0;
            for (int j = 0; j < 16; j++) bsums[16 * b + j] = 0;
            return;
        }
        float iscale = -127.f / max;
        for (int j = 0; j < 256; j++) {
            float t = iscale * x[o + j] + 12582912.f;     // ggml's nearest_int: round half to even
            int v = (Float.floatToRawIntBits(t) & 0x007fffff) - 0x00400000;
            q[256 * b + j] = (byte) Math.min(127, v);
        }
        for (int j = 0; j < 16; j++) {
            int sum = 0;
            for (int i = 0; i < 16; i++) sum += q[256 * b + 16 * j + i];
            bsums[16 * b + j] = sum;
        }
        d[b] = 1 / iscale;
    }

    public Format format() {
        return format;
    }

    public int length() {
        return n;
    }

    /** The dequantized value {@code d * q} of element {@code i}. */
    public float value(int i) {
        return d[i / blockSize()] * q[i];
    }

    /** The magnitude of the quantization step of element {@code i}'s block, {@code |d|}. */
    public float step(int i) {
        return Math.abs(d[i / blockSize()]);
    }

    private int blockSize() {
        return format == Format.Q8_K ? 256 : 32;
    }
}
