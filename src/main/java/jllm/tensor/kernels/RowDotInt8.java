package jllm.tensor.kernels;

import static jllm.tensor.kernels.Simd.B;
import static jllm.tensor.kernels.Simd.F;
import static jllm.tensor.kernels.Simd.I;
import static jllm.tensor.kernels.Simd.L;
import static jllm.tensor.kernels.Simd.LE;
import static jllm.tensor.kernels.Simd.f16;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jllm.tensor.GGMLType;

/**
 * The int8 path: dot products of quantized weight rows with a {@link Q8Activation}, integer within each group
 * that shares a scale and scaled once per group, with the Vector API; {@link #dotScalar} is the scalar twin of
 * the same algorithm.
 *
 * <p>Spec: ggml's {@code ggml_vec_dot_q8_0_q8_0}, {@code _q4_0_q8_0}, {@code _q4_1_q8_1}, {@code _q4_K_q8_K},
 * {@code _q5_K_q8_K}, {@code _q6_K_q8_K}: per group {@code d_w d_x sum(q_w q_x)}, and for types with a min
 * ({@code x = d q + m} or {@code d sc q - dmin m}) the min times {@code d_x sum(q_x)}. The activation uses blocks
 * of 32 (ggml uses 256 for the K-quants; each K-quant sub-block of 32 or 16 lies in one of ours). Integer sums
 * are exact, so the vector and scalar versions differ only in the float accumulation order.
 */
public final class RowDotInt8 {
    private RowDotInt8() {}

    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Whether the int8 path has a kernel for {@code type} (every quantized type). */
    public static boolean supports(GGMLType type) {
        return type.isQuantized();
    }

    /** {@code sum_i w_i x_i} for a row of {@code a.length()} elements of {@code type} at byte {@code off}. */
    public static float dot(GGMLType type, MemorySegment w, long off, Q8Activation a) {
        return switch (type) {
            case Q8_0 -> q8_0(w, off, a.q, a.d, a.n);
            case Q4_0 -> q4_0(w, off, a.q, a.d, a.n);
            case Q4_1 -> q4_1(w, off, a.q, a.d, a.ds, a.n);
            case Q4_K -> q4_K(w, off, a.q, a.d, a.ds, a.n);
            case Q5_K -> q5_K(w, off, a.q, a.d, a.ds, a.n);
            case Q6_K -> q6_K(w, off, a.q, a.d, a.n);
            default -> throw new IllegalArgumentException("the int8 path has no kernel for " + type);
        };
    }

    static float q8_0(MemorySegment w, long off, byte[] qx, float[] dx, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 32; b++) {
            long p = off + 34L * b;
            IntVector s = IntVector.zero(I);
            for (int k = 0; k < 32; k += L) {
                IntVector wq = (IntVector) ByteVector.fromMemorySegment(B, w, p + 2 + k, LE).convertShape(VectorOperators.B2I, I, 0);
                IntVector xq = (IntVector) ByteVector.fromArray(B, qx, 32 * b + k).convertShape(VectorOperators.B2I, I, 0);
                s = s.add(wq.mul(xq));
            }
            acc = ((FloatVector) s.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, f16(w, p) * dx[b]), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    static float q4_0(MemorySegment w, long off, byte[] qx, float[] dx, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 32; b++) {
            long p = off + 18L * b;
            IntVector s = IntVector.zero(I);
            for (int k = 0; k < 16; k += L) {
                IntVector wq = (IntVector) ByteVector.fromMemorySegment(B, w, p + 2 + k, LE).convertShape(VectorOperators.B2I, I, 0);
                IntVector x0 = (IntVector) ByteVector.fromArray(B, qx, 32 * b + k).convertShape(VectorOperators.B2I, I, 0);
                IntVector x1 = (IntVector) ByteVector.fromArray(B, qx, 32 * b + 16 + k).convertShape(VectorOperators.B2I, I, 0);
                s = s.add(wq.and(0x0F).sub(8).mul(x0)).add(wq.lanewise(VectorOperators.LSHR, 4).and(0x0F).sub(8).mul(x1));
            }
            acc = ((FloatVector) s.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, f16(w, p) * dx[b]), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    static float q4_1(MemorySegment w, long off, byte[] qx, float[] dx, float[] ds, int n) {
        FloatVector acc = FloatVector.zero(F);
        float mins = 0;
        for (int b = 0; b < n / 32; b++) {
            long p = off + 20L * b;
            IntVector s = IntVector.zero(I);
            for (int k = 0; k < 16; k += L) {
                IntVector wq = (IntVector) ByteVector.fromMemorySegment(B, w, p + 4 + k, LE).convertShape(VectorOperators.B2I, I, 0);
                IntVector x0 = (IntVector) ByteVector.fromArray(B, qx, 32 * b + k).convertShape(VectorOperators.B2I, I, 0);
                IntVector x1 = (IntVector) ByteVector.fromArray(B, qx, 32 * b + 16 + k).convertShape(VectorOperators.B2I, I, 0);
                s = s.add(wq.and(0x0F).mul(x0)).add(wq.lanewise(VectorOperators.LSHR, 4).and(0x0F).mul(x1));
            }
            acc = ((FloatVector) s.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, f16(w, p) * dx[b]), acc);
            mins += f16(w, p + 2) * ds[b];
        }
        return acc.reduceLanes(VectorOperators.ADD) + mins;
    }

    static float q4_K(MemorySegment w, long off, byte[] qx, float[] dx, float[] ds, int n) {
        float s = 0;
        for (int b = 0; b < n / 256; b++) {
            long p = off + 144L * b;
            float d = f16(w, p), dmin = f16(w, p + 2);
            long lo = w.get(I64, p + 4);
            int hi = w.get(I32, p + 12);
            int xb = 8 * b;   // activation block index of sub-block 0
            s += kHalf(w, p + 16, 0, 0, qx, dx, xb,
                    d * RowDot.sc03(lo, 0), d * RowDot.sc03(lo, 1), d * RowDot.sc03(lo, 2), d * RowDot.sc03(lo, 3));
            s += kHalf(w, p + 80, 0, 0, qx, dx, xb + 4,
                    d * RowDot.sc47(lo, hi, 0), d * RowDot.sc47(lo, hi, 1), d * RowDot.sc47(lo, hi, 2), d * RowDot.sc47(lo, hi, 3));
            s -= dmin * (RowDot.m03(lo, 0) * ds[xb] + RowDot.m03(lo, 1) * ds[xb + 1] + RowDot.m03(lo, 2) * ds[xb + 2]
                    + RowDot.m03(lo, 3) * ds[xb + 3] + RowDot.m47(lo, hi, 0) * ds[xb + 4] + RowDot.m47(lo, hi, 1) * ds[xb + 5]
                    + RowDot.m47(lo, hi, 2) * ds[xb + 6] + RowDot.m47(lo, hi, 3) * ds[xb + 7]);
        }
        return s;
    }

    static float q5_K(MemorySegment w, long off, byte[] qx, float[] dx, float[] ds, int n) {
        float s = 0;
        for (int b = 0; b < n / 256; b++) {
            long p = off + 176L * b;
            float d = f16(w, p), dmin = f16(w, p + 2);
            long lo = w.get(I64, p + 4);
            int hi = w.get(I32, p + 12);
            int xb = 8 * b;
            s += kHalf(w, p + 48, p + 16, 0, qx, dx, xb,
                    d * RowDot.sc03(lo, 0), d * RowDot.sc03(lo, 1), d * RowDot.sc03(lo, 2), d * RowDot.sc03(lo, 3));
            s += kHalf(w, p + 112, p + 16, 4, qx, dx, xb + 4,
                    d * RowDot.sc47(lo, hi, 0), d * RowDot.sc47(lo, hi, 1), d * RowDot.sc47(lo, hi, 2), d * RowDot.sc47(lo, hi, 3));
            s -= dmin * (RowDot.m03(lo, 0) * ds[xb] + RowDot.m03(lo, 1) * ds[xb + 1] + RowDot.m03(lo, 2) * ds[xb + 2]
                    + RowDot.m03(lo, 3) * ds[xb + 3] + RowDot.m47(lo, hi, 0) * ds[xb + 4] + RowDot.m47(lo, hi, 1) * ds[xb + 5]
                    + RowDot.m47(lo, hi, 2) * ds[xb + 6] + RowDot.m47(lo, hi, 3) * ds[xb + 7]);
        }
        return s;
    }

    /**
     * Half a Q4_K / Q5_K block against activation blocks {@code xb .. xb + 3}: 64 nibble bytes at {@code ql}
     * (sub-blocks 0-3: low, high nibbles of bytes 0-31, then of bytes 32-63) and, for Q5_K ({@code qh != 0}),
     * the fifth bits in bits {@code shift .. shift + 3} of the 32 bytes at {@code qh}; {@code d0..d3} are the
     * sub-block scales times d. Returns {@code sum_j d_j dx_j sum(q_w q_x)}.
     */
    private static float kHalf(MemorySegment w, long ql, long qh, int shift, byte[] qx, float[] dx, int xb,
                               float d0, float d1, float d2, float d3) {
        IntVector s0 = IntVector.zero(I), s1 = s0, s2 = s0, s3 = s0;
        int xo = 32 * xb;
        for (int k = 0; k < 32; k += L) {
            IntVector qa = (IntVector) ByteVector.fromMemorySegment(B, w, ql + k, LE).convertShape(VectorOperators.B2I, I, 0);
            IntVector qb = (IntVector) ByteVector.fromMemorySegment(B, w, ql + 32 + k, LE).convertShape(VectorOperators.B2I, I, 0);
            IntVector w0 = qa.and(0x0F), w1 = qa.lanewise(VectorOperators.LSHR, 4).and(0x0F);
            IntVector w2 = qb.and(0x0F), w3 = qb.lanewise(VectorOperators.LSHR, 4).and(0x0F);
            if (qh != 0) {
                IntVector h = ((IntVector) ByteVector.fromMemorySegment(B, w, qh + k, LE).convertShape(VectorOperators.B2I, I, 0))
                        .lanewise(VectorOperators.LSHR, shift);
                w0 = w0.or(h.and(1).lanewise(VectorOperators.LSHL, 4));
                w1 = w1.or(h.and(2).lanewise(VectorOperators.LSHL, 3));
                w2 = w2.or(h.and(4).lanewise(VectorOperators.LSHL, 2));
                w3 = w3.or(h.and(8).lanewise(VectorOperators.LSHL, 1));
            }
            s0 = s0.add(w0.mul((IntVector) ByteVector.fromArray(B, qx, xo + k).convertShape(VectorOperators.B2I, I, 0)));
            s1 = s1.add(w1.mul((IntVector) ByteVector.fromArray(B, qx, xo + 32 + k).convertShape(VectorOperators.B2I, I, 0)));
            s2 = s2.add(w2.mul((IntVector) ByteVector.fromArray(B, qx, xo + 64 + k).convertShape(VectorOperators.B2I, I, 0)));
            s3 = s3.add(w3.mul((IntVector) ByteVector.fromArray(B, qx, xo + 96 + k).convertShape(VectorOperators.B2I, I, 0)));
        }
        FloatVector acc = ((FloatVector) s0.convert(VectorOperators.I2F, 0)).mul(d0 * dx[xb])
                .add(((FloatVector) s1.convert(VectorOperators.I2F, 0)).mul(d1 * dx[xb + 1]))
                .add(((FloatVector) s2.convert(VectorOperators.I2F, 0)).mul(d2 * dx[xb + 2]))
                .add(((FloatVector) s3.convert(VectorOperators.I2F, 0)).mul(d3 * dx[xb + 3]));
        return acc.reduceLanes(VectorOperators.ADD);
    }

    static float q6_K(MemorySegment w, long off, byte[] qx, float[] dx, int n) {
        float s = 0;
        for (int b = 0; b < n / 256; b++) {
            long p = off + 210L * b;
            float d = f16(w, p + 208);
            for (int half = 0; half < 2; half++) {
                for (int k = 0; k < 32; k += 16) {
                    s += q6_KQuarter(w, p + 64 * half + k, p + 128 + 32 * half + k, p + 192 + 8 * half + k / 16, d,
                            qx, dx, 256 * b + 128 * half + k);
                }
            }
        }
        return s;
    }

    /**
     * 64 elements of a Q6_K block (see {@link RowDot}): for l in [0, 16) the elements l, l + 32, l + 64, l + 96
     * after activation element {@code xe}, each group of 16 with its own scale.
     */
    private static float q6_KQuarter(MemorySegment w, long ql, long qh, long sc, float d, byte[] qx, float[] dx, int xe) {
        IntVector s1 = IntVector.zero(I), s2 = s1, s3 = s1, s4 = s1;
        for (int k = 0; k < 16; k += L) {
            IntVector a = (IntVector) ByteVector.fromMemorySegment(B, w, ql + k, LE).convertShape(VectorOperators.B2I, I, 0);
            IntVector c = (IntVector) ByteVector.fromMemorySegment(B, w, ql + 32 + k, LE).convertShape(VectorOperators.B2I, I, 0);
            IntVector h = ((IntVector) ByteVector.fromMemorySegment(B, w, qh + k, LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 4);
            IntVector q1 = a.and(0x0F).or(h.and(0x30)).sub(32);
            IntVector q2 = c.and(0x0F).or(h.lanewise(VectorOperators.LSHR, 2).and(0x30)).sub(32);
            IntVector q3 = a.lanewise(VectorOperators.LSHR, 4).and(0x0F).or(h.lanewise(VectorOperators.LSHR, 4).and(0x30)).sub(32);
            IntVector q4 = c.lanewise(VectorOperators.LSHR, 4).and(0x0F).or(h.lanewise(VectorOperators.LSHR, 6).and(0x30)).sub(32);
            s1 = s1.add(q1.mul((IntVector) ByteVector.fromArray(B, qx, xe + k).convertShape(VectorOperators.B2I, I, 0)));
            s2 = s2.add(q2.mul((IntVector) ByteVector.fromArray(B, qx, xe + 32 + k).convertShape(VectorOperators.B2I, I, 0)));
            s3 = s3.add(q3.mul((IntVector) ByteVector.fromArray(B, qx, xe + 64 + k).convertShape(VectorOperators.B2I, I, 0)));
            s4 = s4.add(q4.mul((IntVector) ByteVector.fromArray(B, qx, xe + 96 + k).convertShape(VectorOperators.B2I, I, 0)));
        }
        FloatVector acc = ((FloatVector) s1.convert(VectorOperators.I2F, 0)).mul(d * w.get(ValueLayout.JAVA_BYTE, sc) * dx[xe / 32])
                .add(((FloatVector) s2.convert(VectorOperators.I2F, 0)).mul(d * w.get(ValueLayout.JAVA_BYTE, sc + 2) * dx[xe / 32 + 1]))
                .add(((FloatVector) s3.convert(VectorOperators.I2F, 0)).mul(d * w.get(ValueLayout.JAVA_BYTE, sc + 4) * dx[xe / 32 + 2]))
                .add(((FloatVector) s4.convert(VectorOperators.I2F, 0)).mul(d * w.get(ValueLayout.JAVA_BYTE, sc + 6) * dx[xe / 32 + 3]));
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /**
     * Scalar twin, from the definitions: each weight group's integer quants ({@link jllm.tensor.DequantizeScalar}
     * layout) times the activation's, summed exactly in int, scaled by the group's float scale times the
     * activation block's d, accumulated in double; the min terms likewise.
     */
    public static float dotScalar(GGMLType type, MemorySegment w, long off, Q8Activation a) {
        double acc = 0;
        int n = a.n;
        switch (type) {
            case Q8_0, Q4_0, Q4_1 -> {
                for (int b = 0; b < n / 32; b++) {
                    long p = off + (long) type.typeSize * b;
                    int s = 0;
                    for (int j = 0; j < 32; j++) s += smallQuant(type, w, p, j) * a.q[32 * b + j];
                    acc += (double) (f16(w, p) * a.d[b]) * s;
                    if (type == GGMLType.Q4_1) acc += f16(w, p + 2) * a.ds[b];
                }
            }
            case Q4_K, Q5_K -> {
                for (int b = 0; b < n / 256; b++) {
                    long p = off + (long) type.typeSize * b;
                    float d = f16(w, p), dmin = f16(w, p + 2);
                    for (int j = 0; j < 8; j++) {
                        int s = 0;
                        for (int l = 0; l < 32; l++) s += kQuant(type, w, p, 32 * j + l) * a.q[256 * b + 32 * j + l];
                        int sc = RowDot.scaleMin(w, p + 4, j, 0), m = RowDot.scaleMin(w, p + 4, j, 1);
                        acc += (double) (d * sc * a.d[8 * b + j]) * s;
                        acc -= (double) dmin * m * a.ds[8 * b + j];
                    }
                }
            }
            case Q6_K -> {
                for (int b = 0; b < n / 256; b++) {
                    long p = off + 210L * b;
                    float d = f16(w, p + 208);
                    for (int g = 0; g < 16; g++) {   // 16 groups of 16 elements, element order of dequantize_row_q6_K
                        int s = 0;
                        for (int l = 0; l < 16; l++) s += q6Quant(w, p, 16 * g + l) * a.q[256 * b + 16 * g + l];
                        acc += (double) (d * w.get(ValueLayout.JAVA_BYTE, p + 192 + g) * a.d[8 * b + g / 2]) * s;
                    }
                }
            }
            default -> throw new IllegalArgumentException("the int8 path has no kernel for " + type);
        }
        return (float) acc;
    }

    /** Integer quant of element j (0..31) of a Q8_0 / Q4_0 / Q4_1 block at p (Q4_0 minus 8, Q4_1 without min). */
    private static int smallQuant(GGMLType type, MemorySegment w, long p, int j) {
        return switch (type) {
            case Q8_0 -> w.get(ValueLayout.JAVA_BYTE, p + 2 + j);
            case Q4_0 -> (j < 16 ? Simd.u8(w, p + 2 + j) & 0xF : Simd.u8(w, p + 2 + j - 16) >> 4) - 8;
            default -> j < 16 ? Simd.u8(w, p + 4 + j) & 0xF : Simd.u8(w, p + 4 + j - 16) >> 4;
        };
    }

    /** Integer quant (0..15 or 0..31) of element e (0..255) of a Q4_K / Q5_K block at p. */
    private static int kQuant(GGMLType type, MemorySegment w, long p, int e) {
        int g = e / 64, l = e % 32;
        boolean high = (e % 64) >= 32;
        long q = p + (type == GGMLType.Q4_K ? 16 : 48) + 32 * g + l;
        int v = high ? Simd.u8(w, q) >> 4 : Simd.u8(w, q) & 0xF;
        if (type == GGMLType.Q5_K) {
            int bit = 2 * g + (high ? 1 : 0);
            if ((Simd.u8(w, p + 16 + l) & (1 << bit)) != 0) v += 16;
        }
        return v;
    }

    /** Signed quant (-32..31) of element e (0..255) of a Q6_K block at p. */
    private static int q6Quant(MemorySegment w, long p, int e) {
        int half = e / 128, r = e % 128, quarter = r / 32, l = r % 32;
        long ql = p + 64 * half + (quarter % 2 == 1 ? 32 : 0) + l;
        int low = quarter < 2 ? Simd.u8(w, ql) & 0xF : Simd.u8(w, ql) >> 4;
        int high = (Simd.u8(w, p + 128 + 32 * half + l) >> (2 * quarter)) & 3;
        return (low | (high << 4)) - 32;
    }
}
