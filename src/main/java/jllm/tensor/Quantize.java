package jllm.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Floats to GGML block bytes with ggml's reference quantizers, so that jllm writes the bytes llama.cpp's
 * quantizer writes for the same floats (without an importance matrix).
 *
 * <p>Spec: ggml {@code ggml-quants.c}: {@code quantize_row_q8_0_ref}, {@code quantize_row_q4_0_ref},
 * {@code quantize_row_q4_1_ref}, {@code quantize_row_q4_K_ref} (with {@code make_qkx2_quants}),
 * {@code quantize_row_q5_K_ref}, {@code quantize_row_q6_K_ref} (with {@code make_qx_quants}, rmse_type 1),
 * the rounding helper {@code nearest_int}, and ggml's {@code GGML_FP32_TO_FP16} (round to nearest even) and
 * {@code GGML_FP32_TO_BF16}. The float operations follow the C source's order without fused multiply-add; a
 * C build that contracts {@code a*b+c} into FMA (e.g. {@code -march=native}) can differ in rare last-bit ties.
 *
 * <p>The K-quant search ({@link KQuants}) lives in its own file.
 */
public final class Quantize {
    private Quantize() {}

    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * Quantizes {@code src[srcOff .. srcOff + n)} to {@code type}, writing {@code type.bytes(n)} bytes at byte
     * {@code dstOff} of {@code dst}. {@code n} must be a multiple of the type's block size.
     */
    public static void quantize(GGMLType type, float[] src, int srcOff, int n, MemorySegment dst, long dstOff) {
        long need = type.bytes(n);
        if (srcOff < 0 || (long) srcOff + n > src.length) {
            throw new IndexOutOfBoundsException("source range [" + srcOff + ", " + ((long) srcOff + n) + ") outside float[" + src.length + "]");
        }
        if (dstOff < 0 || dstOff + need > dst.byteSize()) {
            throw new IndexOutOfBoundsException(type + ": " + need + " bytes at " + dstOff + " do not fit a segment of " + dst.byteSize());
        }
        switch (type) {
            case F32 -> {
                for (int i = 0; i < n; i++) dst.set(F32, dstOff + 4L * i, src[srcOff + i]);
            }
            case F16 -> {
                for (int i = 0; i < n; i++) dst.set(I16, dstOff + 2L * i, Float.floatToFloat16(src[srcOff + i]));
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) dst.set(I16, dstOff + 2L * i, floatToBf16(src[srcOff + i]));
            }
            case Q8_0 -> {
                for (int b = 0; b < n / 32; b++) q8_0(src, srcOff + 32 * b, dst, dstOff + 34L * b);
            }
            case Q4_0 -> {
                for (int b = 0; b < n / 32; b++) q4_0(src, srcOff + 32 * b, dst, dstOff + 18L * b);
            }
            case Q4_1 -> {
                for (int b = 0; b < n / 32; b++) q4_1(src, srcOff + 32 * b, dst, dstOff + 20L * b);
            }
            case Q4_K -> {
                for (int b = 0; b < n / 256; b++) KQuants.q4_K(src, srcOff + 256 * b, dst, dstOff + 144L * b);
            }
            case Q5_K -> {
                for (int b = 0; b < n / 256; b++) KQuants.q5_K(src, srcOff + 256 * b, dst, dstOff + 176L * b);
            }
            case Q6_K -> {
                for (int b = 0; b < n / 256; b++) KQuants.q6_K(src, srcOff + 256 * b, dst, dstOff + 210L * b);
            }
            case Q4_K_R -> {     // ggml's Q4_K quantizer, then the repacking the engine applies at load time
                MemorySegment block = MemorySegment.ofArray(new byte[144]);
                for (int b = 0; b < n / 256; b++) {
                    KQuants.q4_K(src, srcOff + 256 * b, block, 0);
                    Q4KRepack.block(block, 0, dst, dstOff + 192L * b);
                }
            }
            case Q4_K_R16 -> {   // ggml's Q4_K quantizer, then the interleaving the engine applies at load time
                byte[] pair = new byte[384], group = new byte[384];
                MemorySegment block = MemorySegment.ofArray(new byte[144]), sub = MemorySegment.ofArray(pair);
                for (int g = 0; g < n / 512; g++) {
                    for (int h = 0; h < 2; h++) {
                        KQuants.q4_K(src, srcOff + 512 * g + 256 * h, block, 0);
                        Q4KRepack.block(block, 0, sub, 192L * h);
                    }
                    Q4KRepack.group16(pair, group, 0);
                    MemorySegment.copy(group, 0, dst, ValueLayout.JAVA_BYTE, dstOff + 384L * g, 384);
                }
            }
            case Q4_0_R, Q8_0_R -> {     // ggml's Q4_0 / Q8_0 quantizer, then the interleaving the engine applies at load time
                int groupBytes = type.typeSize, blockBytes = groupBytes / 16;
                MemorySegment group = MemorySegment.ofArray(new byte[groupBytes]);
                for (int g = 0; g < n / 512; g++) {
                    for (int b = 0; b < 16; b++) {
                        if (type == GGMLType.Q4_0_R) q4_0(src, srcOff + 512 * g + 32 * b, group, (long) blockBytes * b);
                        else q8_0(src, srcOff + 512 * g + 32 * b, group, (long) blockBytes * b);
                    }
                    if (!BlockInterleave.group(group, 0, dst, dstOff + (long) groupBytes * g, groupBytes)) {
                        throw new IllegalArgumentException(type + " holds finite scales only: values near element " + (srcOff + 512 * g) + " overflow a half");
                    }
                }
            }
        }
    }

    /** ggml's {@code GGML_FP32_TO_BF16}: round to nearest even on the top 16 bits; NaN made quiet. */
    public static short floatToBf16(float f) {
        int u = Float.floatToRawIntBits(f);
        if ((u & 0x7fffffff) > 0x7f800000) {
            return (short) ((u >>> 16) | 64);
        }
        return (short) ((u + (0x7fff + ((u >>> 16) & 1))) >>> 16);
    }

    /** C's {@code roundf}: round half away from zero. */
    static float roundf(float x) {
        double r = Math.floor(Math.abs((double) x) + 0.5);   // exact: a float plus 0.5 fits a double
        return (float) Math.copySign(r, x);
    }

    static void putF16(MemorySegment dst, long off, float v) {
        dst.set(I16, off, Float.floatToFloat16(v));
    }

    /** {@code quantize_row_q8_0_ref}: d = amax / 127, q = roundf(x / d). */
    private static void q8_0(float[] x, int o, MemorySegment y, long b) {
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[o + j]));
        float d = amax / 127;
        float id = d != 0 ? 1.0f / d : 0.0f;
        putF16(y, b, d);
        for (int j = 0; j < 32; j++) {
            y.set(ValueLayout.JAVA_BYTE, b + 2 + j, (byte) (int) roundf(x[o + j] * id));
        }
    }

    /** {@code quantize_row_q4_0_ref}: d = max / -8 where max has the largest magnitude, q = min(15, (int)(x/d + 8.5)). */
    private static void q4_0(float[] x, int o, MemorySegment y, long b) {
        float amax = 0.0f;
        float max = 0.0f;
        for (int j = 0; j < 32; j++) {
            float v = x[o + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -8;
        float id = d != 0 ? 1.0f / d : 0.0f;
        putF16(y, b, d);
        for (int j = 0; j < 16; j++) {
            float x0 = x[o + j] * id;
            float x1 = x[o + 16 + j] * id;
            int xi0 = Math.min(15, (int) (x0 + 8.5f));
            int xi1 = Math.min(15, (int) (x1 + 8.5f));
            y.set(ValueLayout.JAVA_BYTE, b + 2 + j, (byte) (xi0 | (xi1 << 4)));
        }
    }

    /** {@code quantize_row_q4_1_ref}: d = (max - min) / 15, m = min, q = min(15, (int)((x - min)/d + 0.5)). */
    private static void q4_1(float[] x, int o, MemorySegment y, long b) {
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (int j = 0; j < 32; j++) {
            float v = x[o + j];
            if (v < min) min = v;
            if (v > max) max = v;
        }
        float d = (max - min) / 15;
        float id = d != 0 ? 1.0f / d : 0.0f;
        putF16(y, b, d);
        putF16(y, b + 2, min);
        for (int j = 0; j < 16; j++) {
            float x0 = (x[o + j] - min) * id;
            float x1 = (x[o + 16 + j] - min) * id;
            int xi0 = Math.min(15, (int) (x0 + 0.5f));
            int xi1 = Math.min(15, (int) (x1 + 0.5f));
            y.set(ValueLayout.JAVA_BYTE, b + 4 + j, (byte) (xi0 | (xi1 << 4)));
        }
    }
}
