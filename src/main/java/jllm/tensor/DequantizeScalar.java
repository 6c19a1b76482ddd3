package jllm.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * GGML block formats to floats, written straight from the definitions; the reference that the Vector API
 * kernels are tested against.
 *
 * <p>Spec: ggml {@code ggml-quants.c}, {@code dequantize_row_q8_0 / q4_0 / q4_1 / q4_K / q5_K / q6_K}, the block
 * structs of {@code ggml-common.h}, and ggml's {@code GGML_FP16_TO_FP32} / {@code GGML_BF16_TO_FP32}. Each
 * element is computed with the same float operations in the same order as the C code (multiply, then add),
 * with no fused multiply-add.
 *
 * <pre>
 *   Q8_0  block 32:  f16 d; i8 qs[32]                         y[j] = qs[j] * d
 *   Q4_0  block 32:  f16 d; u8 qs[16]                         y[j] = ((qs[j] &amp; 15) - 8) * d,  y[j+16] = ((qs[j] &gt;&gt; 4) - 8) * d
 *   Q4_1  block 32:  f16 d, m; u8 qs[16]                      y[j] = (qs[j] &amp; 15) * d + m,    y[j+16] = (qs[j] &gt;&gt; 4) * d + m
 *   Q4_K  block 256: f16 d, dmin; u8 scales[12]; u8 qs[128]   8 sub-blocks of 32 with 6-bit scale sc and min m:
 *                    y = d*sc * q - dmin*m
 *   Q5_K  block 256: as Q4_K plus u8 qh[32] (the fifth bit)   q = nibble + 16 * bit
 *   Q6_K  block 256: u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d
 *                    y = d * scales[s] * (q - 32), q = 4 low bits from ql, 2 high bits from qh
 * </pre>
 */
public final class DequantizeScalar {
    private DequantizeScalar() {}

    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * Dequantizes {@code n} elements of {@code type} starting at byte {@code offset} of {@code src} into
     * {@code dst[dstOff .. dstOff + n)}. {@code n} must be a multiple of the type's block size.
     */
    public static void dequantize(GGMLType type, MemorySegment src, long offset, float[] dst, int dstOff, int n) {
        if (n % type.blockSize != 0) {
            throw new IllegalArgumentException(type + ": element count " + n + " is not a multiple of block size " + type.blockSize);
        }
        switch (type) {
            case F32 -> {
                for (int i = 0; i < n; i++) dst[dstOff + i] = src.get(F32, offset + 4L * i);
            }
            case F16 -> {
                for (int i = 0; i < n; i++) dst[dstOff + i] = f16(src, offset + 2L * i);
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) dst[dstOff + i] = bf16(src, offset + 2L * i);
            }
            case Q8_0 -> {
                for (int b = 0; b < n / 32; b++) q8_0(src, offset + 34L * b, dst, dstOff + 32 * b);
            }
            case Q4_0 -> {
                for (int b = 0; b < n / 32; b++) q4_0(src, offset + 18L * b, dst, dstOff + 32 * b);
            }
            case Q4_1 -> {
                for (int b = 0; b < n / 32; b++) q4_1(src, offset + 20L * b, dst, dstOff + 32 * b);
            }
            case Q4_K -> {
                for (int b = 0; b < n / 256; b++) q4_K(src, offset + 144L * b, dst, dstOff + 256 * b);
            }
            case Q5_K -> {
                for (int b = 0; b < n / 256; b++) q5_K(src, offset + 176L * b, dst, dstOff + 256 * b);
            }
            case Q6_K -> {
                for (int b = 0; b < n / 256; b++) q6_K(src, offset + 210L * b, dst, dstOff + 256 * b);
            }
            case Q4_K_R -> {
                for (int b = 0; b < n / 32; b++) q4_K_R(src, offset + 24L * b, dst, dstOff + 32 * b);
            }
            case Q4_0_R, Q8_0_R, Q4_K_R16 -> interleavedBlocks(type, dst, dstOff, src, offset, 0, n / 32);
        }
    }

    /** IEEE half at byte {@code off}, little-endian ({@code GGML_FP16_TO_FP32}). */
    public static float f16(MemorySegment s, long off) {
        return Float.float16ToFloat(s.get(I16, off));
    }

    /** bfloat16 at byte {@code off}: the top 16 bits of a float ({@code GGML_BF16_TO_FP32}). */
    public static float bf16(MemorySegment s, long off) {
        return Float.intBitsToFloat((s.get(I16, off) & 0xFFFF) << 16);
    }

    private static int u8(MemorySegment s, long off) {
        return s.get(ValueLayout.JAVA_BYTE, off) & 0xFF;
    }

    private static int i8(MemorySegment s, long off) {
        return s.get(ValueLayout.JAVA_BYTE, off);
    }

    private static void q8_0(MemorySegment s, long b, float[] y, int o) {
        float d = f16(s, b);
        for (int j = 0; j < 32; j++) y[o + j] = i8(s, b + 2 + j) * d;
    }

    private static void q4_0(MemorySegment s, long b, float[] y, int o) {
        float d = f16(s, b);
        for (int j = 0; j < 16; j++) {
            int q = u8(s, b + 2 + j);
            y[o + j] = ((q & 0x0F) - 8) * d;
            y[o + j + 16] = ((q >> 4) - 8) * d;
        }
    }

    /**
     * Blocks {@code [first, first + count)} (32 weights each) of the row at {@code rowOff} of an interleaved type
     * ({@link GGMLType#isInterleaved}), to {@code y[o ..]}: a whole row, or the blocks of a 512-weight group that a panel
     * of 128 columns in {@code Sgemm} needs (each block decodes on its own).
     */
    public static void interleavedBlocks(GGMLType type, float[] y, int o, MemorySegment s, long rowOff, int first, int count) {
        switch (type) {
            case Q4_0_R -> q4_0RBlocks(y, o, s, rowOff, first, count);
            case Q8_0_R -> q8_0RBlocks(y, o, s, rowOff, first, count);
            case Q4_K_R16 -> q4_KR16Blocks(y, o, s, rowOff, first, count);
            default -> throw new IllegalArgumentException(type + " is not an interleaved type");
        }
    }

    /**
     * Blocks {@code [first, first + count)} (32 weights each) of the {@link GGMLType#Q4_0_R} row at {@code rowOff}, to
     * {@code y[o ..]}, as Q4_0 decodes them (block i of a group: scale at 2 i, byte j at 32 + 16 j): a whole row, or part
     * of a 512-weight group, as a panel of 128 columns in {@code Sgemm} needs.
     */
    public static void q4_0RBlocks(float[] y, int o, MemorySegment s, long rowOff, int first, int count) {
        for (int b = first; b < first + count; b++) {
            long g = rowOff + 288L * (b / 16);
            int i = b % 16, yb = o + 32 * (b - first);
            float d = f16(s, g + 2L * i);
            for (int j = 0; j < 16; j++) {
                int q = u8(s, g + 32 + 16L * j + i);
                y[yb + j] = ((q & 0x0F) - 8) * d;
                y[yb + j + 16] = ((q >> 4) - 8) * d;
            }
        }
    }

    /** As {@link #q4_0RBlocks} for {@link GGMLType#Q8_0_R} (groups of 544 bytes, byte j of block i at 32 + 16 j + i). */
    public static void q8_0RBlocks(float[] y, int o, MemorySegment s, long rowOff, int first, int count) {
        for (int b = first; b < first + count; b++) {
            long g = rowOff + 544L * (b / 16);
            int i = b % 16, yb = o + 32 * (b - first);
            float d = f16(s, g + 2L * i);
            for (int j = 0; j < 32; j++) y[yb + j] = i8(s, g + 32 + 16L * j + i) * d;
        }
    }

    /**
     * As {@link #q4_0RBlocks} for {@link GGMLType#Q4_K_R16} (groups of 384 bytes: scale of sub-block i at 4 i, its min at
     * 64 + 4 i, byte j at 128 + 16 j + i holding elements j and j + 16), {@code d * q - m} as ggml dequantizes Q4_K.
     */
    public static void q4_KR16Blocks(float[] y, int o, MemorySegment s, long rowOff, int first, int count) {
        for (int b = first; b < first + count; b++) {
            long g = rowOff + 384L * (b / 16);
            int i = b % 16, yb = o + 32 * (b - first);
            float d = s.get(F32, g + 4L * i), m = s.get(F32, g + 64 + 4L * i);
            for (int j = 0; j < 16; j++) {
                int q = u8(s, g + 128 + 16L * j + i);
                y[yb + j] = d * (q & 0x0F) - m;
                y[yb + j + 16] = d * (q >> 4) - m;
            }
        }
    }

    /** One 32-element sub-block of {@link GGMLType#Q4_K_R}: {@code d * q - m}, as ggml dequantizes Q4_K. */
    private static void q4_K_R(MemorySegment s, long b, float[] y, int o) {
        float d = s.get(F32, b);
        float m = s.get(F32, b + 4);
        for (int j = 0; j < 16; j++) {
            int q = u8(s, b + 8 + j);
            y[o + j] = d * (q & 0x0F) - m;
            y[o + j + 16] = d * (q >> 4) - m;
        }
    }

    private static void q4_1(MemorySegment s, long b, float[] y, int o) {
        float d = f16(s, b);
        float m = f16(s, b + 2);
        for (int j = 0; j < 16; j++) {
            int q = u8(s, b + 4 + j);
            y[o + j] = (q & 0x0F) * d + m;
            y[o + j + 16] = (q >> 4) * d + m;
        }
    }

    /**
     * The 6-bit scale ({@code which = 0}) or min ({@code which = 1}) of sub-block {@code j} (0..7) of a Q4_K /
     * Q5_K block, packed in the 12 bytes at {@code sc} (ggml's {@code get_scale_min_k4}).
     */
    public static int scaleMinK4(MemorySegment s, long sc, int j, int which) {
        if (j < 4) {
            return u8(s, sc + j + 4 * which) & 63;
        }
        if (which == 0) {
            return (u8(s, sc + j + 4) & 0xF) | ((u8(s, sc + j - 4) >> 6) << 4);
        }
        return (u8(s, sc + j + 4) >> 4) | ((u8(s, sc + j) >> 6) << 4);
    }

    private static void q4_K(MemorySegment s, long b, float[] y, int o) {
        float d = f16(s, b);
        float min = f16(s, b + 2);
        long sc = b + 4;
        long q = b + 16;
        for (int g = 0; g < 4; g++) {        // 4 groups of 64: low nibbles then high nibbles of 32 bytes
            float d1 = d * scaleMinK4(s, sc, 2 * g, 0);
            float m1 = min * scaleMinK4(s, sc, 2 * g, 1);
            float d2 = d * scaleMinK4(s, sc, 2 * g + 1, 0);
            float m2 = min * scaleMinK4(s, sc, 2 * g + 1, 1);
            for (int l = 0; l < 32; l++) y[o + 64 * g + l] = d1 * (u8(s, q + 32 * g + l) & 0xF) - m1;
            for (int l = 0; l < 32; l++) y[o + 64 * g + 32 + l] = d2 * (u8(s, q + 32 * g + l) >> 4) - m2;
        }
    }

    private static void q5_K(MemorySegment s, long b, float[] y, int o) {
        float d = f16(s, b);
        float min = f16(s, b + 2);
        long sc = b + 4;
        long qh = b + 16;
        long ql = b + 48;
        for (int g = 0; g < 4; g++) {
            float d1 = d * scaleMinK4(s, sc, 2 * g, 0);
            float m1 = min * scaleMinK4(s, sc, 2 * g, 1);
            float d2 = d * scaleMinK4(s, sc, 2 * g + 1, 0);
            float m2 = min * scaleMinK4(s, sc, 2 * g + 1, 1);
            int u1 = 1 << (2 * g);
            int u2 = 2 << (2 * g);
            for (int l = 0; l < 32; l++) {
                int h = (u8(s, qh + l) & u1) != 0 ? 16 : 0;
                y[o + 64 * g + l] = d1 * ((u8(s, ql + 32 * g + l) & 0xF) + h) - m1;
            }
            for (int l = 0; l < 32; l++) {
                int h = (u8(s, qh + l) & u2) != 0 ? 16 : 0;
                y[o + 64 * g + 32 + l] = d2 * ((u8(s, ql + 32 * g + l) >> 4) + h) - m2;
            }
        }
    }

    private static void q6_K(MemorySegment s, long b, float[] y, int o) {
        float d = f16(s, b + 208);
        for (int half = 0; half < 2; half++) {   // two halves of 128 elements
            long ql = b + 64 * half;
            long qh = b + 128 + 32 * half;
            long sc = b + 192 + 8 * half;
            int yo = o + 128 * half;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int h = u8(s, qh + l);
                int q1 = ((u8(s, ql + l) & 0xF) | (((h >> 0) & 3) << 4)) - 32;
                int q2 = ((u8(s, ql + l + 32) & 0xF) | (((h >> 2) & 3) << 4)) - 32;
                int q3 = ((u8(s, ql + l) >> 4) | (((h >> 4) & 3) << 4)) - 32;
                int q4 = ((u8(s, ql + l + 32) >> 4) | (((h >> 6) & 3) << 4)) - 32;
                y[yo + l] = d * i8(s, sc + is) * q1;
                y[yo + l + 32] = d * i8(s, sc + is + 2) * q2;
                y[yo + l + 64] = d * i8(s, sc + is + 4) * q3;
                y[yo + l + 96] = d * i8(s, sc + is + 6) * q4;
            }
        }
    }
}
