package jllm.tensor.kernels;

import static jllm.tensor.kernels.Simd.F;
import static jllm.tensor.kernels.Simd.F32;
import static jllm.tensor.kernels.Simd.L;
import static jllm.tensor.kernels.Simd.LE;
import static jllm.tensor.kernels.Simd.B;
import static jllm.tensor.kernels.Simd.I;
import static jllm.tensor.kernels.Simd.S;
import static jllm.tensor.kernels.Simd.f16;
import static jllm.tensor.kernels.Simd.u8;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jllm.tensor.GGMLType;

/**
 * Fused dequantize-and-dot of one weight row with a float activation (the float path), with the Vector API;
 * {@link RowDotScalar} is its scalar twin.
 *
 * <p>Spec: the block layouts of ggml-common.h and the element definitions of ggml-quants.c
 * ({@code dequantize_row_*}); the dot products follow ggml's {@code ggml_vec_dot_*} factoring: per block the
 * integer quants are multiplied with the activation and summed, then scaled once, e.g. for Q4_K
 * {@code sum_j (d sc_j) sum(q x) - (dmin m_j) sum(x)}. Blocks are decoded {@code L} lanes at a time.
 */
public final class RowDot {
    private RowDot() {}

    private static final java.lang.foreign.ValueLayout.OfLong I64 = JAVA_LONG_UNALIGNED.withOrder(LE);
    private static final java.lang.foreign.ValueLayout.OfInt I32 = JAVA_INT_UNALIGNED.withOrder(LE);

    /**
     * {@code sum_i w_i x[xo + i]} over the {@code n} elements of type {@code type} stored from byte {@code off} of
     * {@code w}; {@code n} must be a multiple of the type's block size (not checked here: callers validate shapes).
     */
    public static float dot(GGMLType type, MemorySegment w, long off, float[] x, int xo, int n) {
        return kernel(type).dot(w, off, x, xo, n);
    }

    /** The row dot of one type, as a function object: what {@link MatMul} calls per row. */
    @FunctionalInterface
    public interface Kernel {
        float dot(MemorySegment w, long off, float[] x, int xo, int n);
    }

    // Dispatch through an interface rather than a switch: with several types in use the call site is
    // megamorphic and C2 compiles each kernel on its own. A switch lets C2 inline every small kernel into one
    // method, whose size then exceeds C2's inlining budget, and the Vector API calls left un-inlined box
    // their vectors on the heap.
    private static final Kernel[] KERNELS = new Kernel[GGMLType.values().length];

    static {
        KERNELS[GGMLType.F32.ordinal()] = RowDot::f32;
        KERNELS[GGMLType.F16.ordinal()] = RowDot::f16Dot;
        KERNELS[GGMLType.BF16.ordinal()] = RowDot::bf16;
        KERNELS[GGMLType.Q8_0.ordinal()] = RowDot::q8_0;
        KERNELS[GGMLType.Q4_0.ordinal()] = RowDot::q4_0;
        KERNELS[GGMLType.Q4_1.ordinal()] = RowDot::q4_1;
        KERNELS[GGMLType.Q4_K.ordinal()] = RowDot::q4_K;
        KERNELS[GGMLType.Q5_K.ordinal()] = RowDot::q5_K;
        KERNELS[GGMLType.Q6_K.ordinal()] = RowDot::q6_K;
        KERNELS[GGMLType.Q4_K_R.ordinal()] = RowDot::q4_K_R;
        KERNELS[GGMLType.Q4_0_R.ordinal()] = RowDot::q4_0R;
        KERNELS[GGMLType.Q8_0_R.ordinal()] = RowDot::q8_0R;
        KERNELS[GGMLType.Q4_K_R16.ordinal()] = RowDot::q4_KR16;
    }

    /** The float-path row dot kernel for {@code type}. */
    public static Kernel kernel(GGMLType type) {
        return KERNELS[type.ordinal()];
    }

    static float f32(MemorySegment w, long off, float[] x, int xo, int n) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        int i = 0;
        for (; i + 2 * L <= n; i += 2 * L) {
            a0 = FloatVector.fromMemorySegment(F, w, off + 4L * i, LE).fma(FloatVector.fromArray(F, x, xo + i), a0);
            a1 = FloatVector.fromMemorySegment(F, w, off + 4L * (i + L), LE).fma(FloatVector.fromArray(F, x, xo + i + L), a1);
        }
        float s = a0.add(a1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += w.get(F32, off + 4L * i) * x[xo + i];
        return s;
    }

    static float f16Dot(MemorySegment w, long off, float[] x, int xo, int n) {
        // IEEE half to float in int lanes: the magnitude bits shifted into place and rebased by a multiply with
        // 2^112, which is exact for normals and normalizes subnormals; then the sign (the sign-extended half's bit 31).
        // That is wrong only for Inf and NaN (their exponent 31 would become a finite 2^16 range), so a running max of
        // the shifted magnitudes watches for them and such a row is recomputed by the exact decoder below.
        // Four vector operations per 16 halves instead of nine: F16 decoding reads 1.35x the bytes per second.
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        IntVector top = IntVector.zero(I);
        int i = 0;
        for (; i + 2 * L <= n; i += 2 * L) {
            IntVector h0 = (IntVector) ShortVector.fromMemorySegment(S, w, off + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0);
            IntVector h1 = (IntVector) ShortVector.fromMemorySegment(S, w, off + 2L * (i + L), LE).convertShape(VectorOperators.S2I, I, 0);
            IntVector m0 = h0.lanewise(VectorOperators.LSHL, 13).and(Simd.HALF_MAGNITUDE);
            IntVector m1 = h1.lanewise(VectorOperators.LSHL, 13).and(Simd.HALF_MAGNITUDE);
            top = top.max(m0).max(m1);
            FloatVector f0 = m0.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts().or(h0.and(0x80000000)).reinterpretAsFloats();
            FloatVector f1 = m1.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts().or(h1.and(0x80000000)).reinterpretAsFloats();
            a0 = f0.fma(FloatVector.fromArray(F, x, xo + i), a0);
            a1 = f1.fma(FloatVector.fromArray(F, x, xo + i + L), a1);
        }
        if (top.reduceLanes(VectorOperators.MAX) >= Simd.HALF_INF_MAGNITUDE) return f16DotExact(w, off, x, xo, n);
        float s = a0.add(a1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += f16(w, off + 2L * i) * x[xo + i];
        return s;
    }

    /** The F16 row dot with every half decoded exactly, Inf and NaN included: the rows {@link #f16Dot} hands back. */
    static float f16DotExact(MemorySegment w, long off, float[] x, int xo, int n) {
        // exponent and mantissa shifted into place and rebased by 2^112; Inf/NaN get the all-ones exponent; the sign
        FloatVector a0 = FloatVector.zero(F);
        int i = 0;
        for (; i + L <= n; i += L) {
            IntVector h = (IntVector) ShortVector.fromMemorySegment(S, w, off + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0);
            IntVector mag = h.and(0x7FFF);
            IntVector bits = mag.lanewise(VectorOperators.LSHL, 13);
            IntVector fb = bits.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                    .blend(bits.or(0x7F800000), mag.compare(VectorOperators.GE, 0x7C00))
                    .or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16));
            a0 = fb.reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xo + i), a0);
        }
        float s = a0.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += f16(w, off + 2L * i) * x[xo + i];
        return s;
    }

    static float bf16(MemorySegment w, long off, float[] x, int xo, int n) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        int i = 0;
        for (; i + 2 * L <= n; i += 2 * L) {
            IntVector h0 = (IntVector) ShortVector.fromMemorySegment(S, w, off + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0);
            IntVector h1 = (IntVector) ShortVector.fromMemorySegment(S, w, off + 2L * (i + L), LE).convertShape(VectorOperators.S2I, I, 0);
            a0 = h0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xo + i), a0);
            a1 = h1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xo + i + L), a1);
        }
        float s = a0.add(a1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += Float.intBitsToFloat((w.get(Simd.I16, off + 2L * i) & 0xFFFF) << 16) * x[xo + i];
        return s;
    }

    static float q8_0(MemorySegment w, long off, float[] x, int xo, int n) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        int nb = n / 32;
        int b = 0;
        for (; b + 1 < nb; b += 2) {   // two blocks per step: two independent accumulator chains
            long p0 = off + 34L * b, p1 = p0 + 34;
            int x0 = xo + 32 * b, x1 = x0 + 32;
            FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F);
            for (int k = 0; k < 32; k += L) {
                s0 = ((FloatVector) (ByteVector.fromMemorySegment(B, w, p0 + 2 + k, LE)).convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, x0 + k), s0);
                s1 = ((FloatVector) (ByteVector.fromMemorySegment(B, w, p1 + 2 + k, LE)).convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, x1 + k), s1);
            }
            acc0 = s0.fma(FloatVector.broadcast(F, f16(w, p0)), acc0);
            acc1 = s1.fma(FloatVector.broadcast(F, f16(w, p1)), acc1);
        }
        for (; b < nb; b++) {
            long p = off + 34L * b;
            FloatVector s = FloatVector.zero(F);
            for (int k = 0; k < 32; k += L) {
                s = ((FloatVector) (ByteVector.fromMemorySegment(B, w, p + 2 + k, LE)).convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, xo + 32 * b + k), s);
            }
            acc0 = s.fma(FloatVector.broadcast(F, f16(w, p)), acc0);
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    static float q4_0(MemorySegment w, long off, float[] x, int xo, int n) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        int nb = n / 32;
        for (int b = 0; b < nb; b++) {
            long p = off + 18L * b;
            int xb = xo + 32 * b;
            FloatVector s = FloatVector.zero(F);
            for (int k = 0; k < 16; k += L) {
                IntVector q = ((IntVector) ByteVector.fromMemorySegment(B, w, p + 2 + k, LE).convertShape(VectorOperators.B2I, I, 0));
                IntVector lo = q.and(0x0F).sub(8);
                IntVector hi = q.lanewise(VectorOperators.LSHR, 4).and(0x0F).sub(8);
                s = ((FloatVector) lo.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xb + k), s);
                s = ((FloatVector) hi.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xb + 16 + k), s);
            }
            acc0 = s.fma(FloatVector.broadcast(F, f16(w, p)), acc0);
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    static float q4_1(MemorySegment w, long off, float[] x, int xo, int n) {
        return q4WithMin(w, off, x, xo, n, 20, false);
    }

    /**
     * Q4_0_R with a float activation, block by block as {@link #q4_0}: the engine multiplies Q4_0_R weights on the int8
     * path, so this scalar loop only serves callers that ask for the float path.
     */
    static float q4_0R(MemorySegment w, long off, float[] x, int xo, int n) {
        float acc = 0;
        for (int b = 0; b < n / 32; b++) {
            long p = off + 288L * (b / 16);
            int i = b % 16, xb = xo + 32 * b;
            float s = 0;
            for (int j = 0; j < 16; j++) {
                int c = Simd.u8(w, p + 32 + 16 * j + i);
                s += ((c & 0xF) - 8) * x[xb + j] + ((c >> 4) - 8) * x[xb + 16 + j];
            }
            acc += f16(w, p + 2 * i) * s;
        }
        return acc;
    }

    /** Q8_0_R with a float activation, block by block as {@link #q4_0R} (the engine uses the int8 path for it). */
    static float q8_0R(MemorySegment w, long off, float[] x, int xo, int n) {
        float acc = 0;
        for (int b = 0; b < n / 32; b++) {
            long p = off + 544L * (b / 16);
            int i = b % 16, xb = xo + 32 * b;
            float s = 0;
            for (int j = 0; j < 32; j++) s += w.get(JAVA_BYTE, p + 32 + 16 * j + i) * x[xb + j];
            acc += f16(w, p + 2 * i) * s;
        }
        return acc;
    }

    /** Q4_K_R16 with a float activation, sub-block by sub-block as {@link #q4_K_R} (the engine uses the int8 path for it). */
    static float q4_KR16(MemorySegment w, long off, float[] x, int xo, int n) {
        float acc = 0;
        for (int t = 0; t < n / 32; t++) {
            long p = off + 384L * (t / 16);
            int i = t % 16, xb = xo + 32 * t;
            float s = 0, sx = 0;
            for (int j = 0; j < 16; j++) {
                int c = Simd.u8(w, p + 128 + 16 * j + i);
                s += (c & 0xF) * x[xb + j] + (c >> 4) * x[xb + 16 + j];
                sx += x[xb + j] + x[xb + 16 + j];
            }
            acc += w.get(F32, p + 4 * i) * s - w.get(F32, p + 64 + 4 * i) * sx;
        }
        return acc;
    }

    /** Q4_K_R: per 32-element sub-block {@code d sum(q x) - m sum(x)}, the float scale and min stored before the nibbles. */
    static float q4_K_R(MemorySegment w, long off, float[] x, int xo, int n) {
        return q4WithMin(w, off, x, xo, n, 24, true);
    }

    /**
     * {@code sum_b d_b sum(q x) + m_b sum(x)} over blocks of {@code blockBytes} bytes that start with the scale and the
     * min and end with the 16 nibble bytes: Q4_1 (f16 d and m, x = d q + m) or, when {@code f32}, Q4_K_R (f32 d and m,
     * x = d q - m, so the min enters negated; negation is exact, so the sum is the same as subtracting).
     */
    private static float q4WithMin(MemorySegment w, long off, float[] x, int xo, int n, int blockBytes, boolean f32) {
        FloatVector acc = FloatVector.zero(F), accM = FloatVector.zero(F);
        for (int b = 0; b < n / 32; b++) {
            long p = off + (long) blockBytes * b, q = p + blockBytes - 16;
            int xb = xo + 32 * b;
            FloatVector s = FloatVector.zero(F), sx = FloatVector.zero(F);
            for (int k = 0; k < 16; k += L) {
                IntVector c = ((IntVector) ByteVector.fromMemorySegment(B, w, q + k, LE).convertShape(VectorOperators.B2I, I, 0));
                FloatVector xl = FloatVector.fromArray(F, x, xb + k);
                FloatVector xh = FloatVector.fromArray(F, x, xb + 16 + k);
                s = ((FloatVector) (c.and(0x0F)).convert(VectorOperators.I2F, 0)).fma(xl, s);
                s = ((FloatVector) (c.lanewise(VectorOperators.LSHR, 4).and(0x0F)).convert(VectorOperators.I2F, 0)).fma(xh, s);
                sx = sx.add(xl).add(xh);
            }
            float d = f32 ? w.get(F32, p) : f16(w, p), m = f32 ? -w.get(F32, p + 4) : f16(w, p + 2);
            acc = s.fma(FloatVector.broadcast(F, d), acc);
            accM = sx.fma(FloatVector.broadcast(F, m), accM);
        }
        return acc.add(accM).reduceLanes(VectorOperators.ADD);
    }

    /** Sub-block scale ({@code which} 0) or min (1) of Q4_K/Q5_K's 12 packed bytes at {@code sc}. */
    static int scaleMin(MemorySegment s, long sc, int j, int which) {
        long lo = s.get(I64, sc);
        int hi = s.get(I32, sc + 8);
        if (j < 4) return which == 0 ? sc03(lo, j) : m03(lo, j);
        return which == 0 ? sc47(lo, hi, j - 4) : m47(lo, hi, j - 4);
    }

    // The K-quant kernels work one super-block per call and return a float: C2 inlines a bounded amount of bytecode per
    // compilation, and a whole-row kernel with every Vector API call inlined exceeds it, after which vectors
    // are boxed on the heap. One reduction per 256 elements is cheap.

    static float q4_K(MemorySegment w, long off, float[] x, int xo, int n) {
        float s = 0;
        for (int b = 0; b < n / 256; b++) s += q4_KBlock(w, off + 144L * b, x, xo + 256 * b);
        return s;
    }

    /** One Q4_K block: two halves of four sub-blocks each, one reduction. */
    private static float q4_KBlock(MemorySegment w, long p, float[] x, int xb) {
        float d = f16(w, p), dmin = f16(w, p + 2);
        long lo = w.get(I64, p + 4);
        int hi = w.get(I32, p + 12);
        FloatVector acc = FloatVector.zero(F);
        for (int h = 0; h < 2; h++) {
            // sub-blocks 4h .. 4h + 3: scales and mins (the high nibbles' scales divided by 16, see below)
            float d0 = d * (h == 0 ? sc03(lo, 0) : sc47(lo, hi, 0)), d1 = d * 0.0625f * (h == 0 ? sc03(lo, 1) : sc47(lo, hi, 1));
            float d2 = d * (h == 0 ? sc03(lo, 2) : sc47(lo, hi, 2)), d3 = d * 0.0625f * (h == 0 ? sc03(lo, 3) : sc47(lo, hi, 3));
            float m0 = dmin * (h == 0 ? m03(lo, 0) : m47(lo, hi, 0)), m1 = dmin * (h == 0 ? m03(lo, 1) : m47(lo, hi, 1));
            float m2 = dmin * (h == 0 ? m03(lo, 2) : m47(lo, hi, 2)), m3 = dmin * (h == 0 ? m03(lo, 3) : m47(lo, hi, 3));
            long q = p + 16 + 64 * h;
            int xh = xb + 128 * h;
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            FloatVector s0 = a0, s1 = a0, s2 = a0, s3 = a0;
            for (int k = 0; k < 32; k += L) {
                IntVector qa = (IntVector) ByteVector.fromMemorySegment(B, w, q + k, LE).convertShape(VectorOperators.B2I, I, 0);
                IntVector qb = (IntVector) ByteVector.fromMemorySegment(B, w, q + 32 + k, LE).convertShape(VectorOperators.B2I, I, 0);
                FloatVector x0 = FloatVector.fromArray(F, x, xh + k);
                FloatVector x1 = FloatVector.fromArray(F, x, xh + 32 + k);
                FloatVector x2 = FloatVector.fromArray(F, x, xh + 64 + k);
                FloatVector x3 = FloatVector.fromArray(F, x, xh + 96 + k);
                a0 = ((FloatVector) qa.and(0x0F).convert(VectorOperators.I2F, 0)).fma(x0, a0);
                a1 = ((FloatVector) qa.and(0xF0).convert(VectorOperators.I2F, 0)).fma(x1, a1);   // 16 * high nibble
                a2 = ((FloatVector) qb.and(0x0F).convert(VectorOperators.I2F, 0)).fma(x2, a2);
                a3 = ((FloatVector) qb.and(0xF0).convert(VectorOperators.I2F, 0)).fma(x3, a3);
                s0 = s0.add(x0);
                s1 = s1.add(x1);
                s2 = s2.add(x2);
                s3 = s3.add(x3);
            }
            // a tree, not a chain: eight dependent adds per half would dominate the block's latency
            FloatVector t = a1.fma(FloatVector.broadcast(F, d1), a0.mul(d0))
                    .add(a3.fma(FloatVector.broadcast(F, d3), a2.mul(d2)));
            FloatVector u = s1.fma(FloatVector.broadcast(F, m1), s0.mul(m0))
                    .add(s3.fma(FloatVector.broadcast(F, m3), s2.mul(m2)));
            acc = acc.add(t.sub(u));
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    // get_scale_min_k4 on the 12 scale bytes read as a long (bytes 0-7) and an int (bytes 8-11):
    // sub-blocks 0-3 have 6-bit scale in byte j and min in byte j + 4; sub-blocks 4-7 (t = j - 4) take their low
    // 4 bits from byte j + 4 (scale: low nibble, min: high nibble) and their top 2 bits from bits 6-7 of bytes
    // t (scale) and t + 4 (min).
    static int sc03(long lo, int j) {
        return (int) (lo >>> (8 * j)) & 63;
    }

    static int m03(long lo, int j) {
        return (int) (lo >>> (32 + 8 * j)) & 63;
    }

    static int sc47(long lo, int hi, int t) {
        return ((hi >>> (8 * t)) & 0xF) | (((int) (lo >>> (8 * t + 6)) & 3) << 4);
    }

    static int m47(long lo, int hi, int t) {
        return ((hi >>> (8 * t + 4)) & 0xF) | (((int) (lo >>> (32 + 8 * t + 6)) & 3) << 4);
    }

    static float q5_K(MemorySegment w, long off, float[] x, int xo, int n) {
        float s = 0;
        for (int b = 0; b < n / 256; b++) s += q5_KBlock(w, off + 176L * b, x, xo + 256 * b);
        return s;
    }

    /** One Q5_K block, as {@link #q4_KBlock} plus the fifth bits (bits 4h .. 4h + 3 of the 32 qh bytes). */
    private static float q5_KBlock(MemorySegment w, long p, float[] x, int xb) {
        float d = f16(w, p), dmin = f16(w, p + 2);
        long lo = w.get(I64, p + 4);
        int hi = w.get(I32, p + 12);
        FloatVector acc = FloatVector.zero(F);
        for (int h = 0; h < 2; h++) {
            float d0 = d * (h == 0 ? sc03(lo, 0) : sc47(lo, hi, 0)), d1 = d * 0.0625f * (h == 0 ? sc03(lo, 1) : sc47(lo, hi, 1));
            float d2 = d * (h == 0 ? sc03(lo, 2) : sc47(lo, hi, 2)), d3 = d * 0.0625f * (h == 0 ? sc03(lo, 3) : sc47(lo, hi, 3));
            float m0 = dmin * (h == 0 ? m03(lo, 0) : m47(lo, hi, 0)), m1 = dmin * (h == 0 ? m03(lo, 1) : m47(lo, hi, 1));
            float m2 = dmin * (h == 0 ? m03(lo, 2) : m47(lo, hi, 2)), m3 = dmin * (h == 0 ? m03(lo, 3) : m47(lo, hi, 3));
            long ql = p + 48 + 64 * h;
            int xh = xb + 128 * h;
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            FloatVector s0 = a0, s1 = a0, s2 = a0, s3 = a0;
            for (int k = 0; k < 32; k += L) {
                IntVector qa = (IntVector) ByteVector.fromMemorySegment(B, w, ql + k, LE).convertShape(VectorOperators.B2I, I, 0);
                IntVector qb = (IntVector) ByteVector.fromMemorySegment(B, w, ql + 32 + k, LE).convertShape(VectorOperators.B2I, I, 0);
                IntVector hb = ((IntVector) ByteVector.fromMemorySegment(B, w, p + 16 + k, LE).convertShape(VectorOperators.B2I, I, 0))
                        .lanewise(VectorOperators.LSHR, 4 * h);
                FloatVector x0 = FloatVector.fromArray(F, x, xh + k);
                FloatVector x1 = FloatVector.fromArray(F, x, xh + 32 + k);
                FloatVector x2 = FloatVector.fromArray(F, x, xh + 64 + k);
                FloatVector x3 = FloatVector.fromArray(F, x, xh + 96 + k);
                // q = nibble + 16 * bit; the high nibbles are used in place (16x), their bit at 256
                a0 = ((FloatVector) qa.and(0x0F).or(hb.and(1).lanewise(VectorOperators.LSHL, 4)).convert(VectorOperators.I2F, 0)).fma(x0, a0);
                a1 = ((FloatVector) qa.and(0xF0).or(hb.and(2).lanewise(VectorOperators.LSHL, 7)).convert(VectorOperators.I2F, 0)).fma(x1, a1);
                a2 = ((FloatVector) qb.and(0x0F).or(hb.and(4).lanewise(VectorOperators.LSHL, 2)).convert(VectorOperators.I2F, 0)).fma(x2, a2);
                a3 = ((FloatVector) qb.and(0xF0).or(hb.and(8).lanewise(VectorOperators.LSHL, 5)).convert(VectorOperators.I2F, 0)).fma(x3, a3);
                s0 = s0.add(x0);
                s1 = s1.add(x1);
                s2 = s2.add(x2);
                s3 = s3.add(x3);
            }
            // a tree, not a chain: eight dependent adds per half would dominate the block's latency
            FloatVector t = a1.fma(FloatVector.broadcast(F, d1), a0.mul(d0))
                    .add(a3.fma(FloatVector.broadcast(F, d3), a2.mul(d2)));
            FloatVector u = s1.fma(FloatVector.broadcast(F, m1), s0.mul(m0))
                    .add(s3.fma(FloatVector.broadcast(F, m3), s2.mul(m2)));
            acc = acc.add(t.sub(u));
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    static float q6_K(MemorySegment w, long off, float[] x, int xo, int n) {
        float s = 0;
        for (int b = 0; b < n / 256; b++) s += q6_KBlock(w, off + 210L * b, x, xo + 256 * b);
        return s;
    }

    /**
     * One Q6_K block: per half h (128 elements: ql 64 bytes, qh 32 bytes, 8 scales) and l in [0, 32), the
     * elements l, l + 32, l + 64, l + 96 from ql bytes l and l + 32 and qh byte l, each group of 16 with its scale.
     */
    private static float q6_KBlock(MemorySegment w, long p, float[] x, int xb) {
        float d = f16(w, p + 208);
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        for (int h = 0; h < 2; h++) {
            long ql = p + 64 * h, qh = p + 128 + 32 * h, sc = p + 192 + 8 * h;
            int xh = xb + 128 * h;
            for (int k = 0; k < 32; k += L) {
                int is = k / 16;
                IntVector a = (IntVector) ByteVector.fromMemorySegment(B, w, ql + k, LE).convertShape(VectorOperators.B2I, I, 0);
                IntVector c = (IntVector) ByteVector.fromMemorySegment(B, w, ql + 32 + k, LE).convertShape(VectorOperators.B2I, I, 0);
                IntVector hb = ((IntVector) ByteVector.fromMemorySegment(B, w, qh + k, LE).convertShape(VectorOperators.B2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 4);
                IntVector q1 = a.and(0x0F).or(hb.and(0x30)).sub(32);
                IntVector q2 = c.and(0x0F).or(hb.lanewise(VectorOperators.LSHR, 2).and(0x30)).sub(32);
                IntVector q3 = a.lanewise(VectorOperators.LSHR, 4).and(0x0F).or(hb.lanewise(VectorOperators.LSHR, 4).and(0x30)).sub(32);
                IntVector q4 = c.lanewise(VectorOperators.LSHR, 4).and(0x0F).or(hb.lanewise(VectorOperators.LSHR, 6).and(0x30)).sub(32);
                acc0 = ((FloatVector) q1.convert(VectorOperators.I2F, 0)).mul(d * w.get(JAVA_BYTE, sc + is))
                        .fma(FloatVector.fromArray(F, x, xh + k), acc0);
                acc1 = ((FloatVector) q2.convert(VectorOperators.I2F, 0)).mul(d * w.get(JAVA_BYTE, sc + is + 2))
                        .fma(FloatVector.fromArray(F, x, xh + 32 + k), acc1);
                acc0 = ((FloatVector) q3.convert(VectorOperators.I2F, 0)).mul(d * w.get(JAVA_BYTE, sc + is + 4))
                        .fma(FloatVector.fromArray(F, x, xh + 64 + k), acc0);
                acc1 = ((FloatVector) q4.convert(VectorOperators.I2F, 0)).mul(d * w.get(JAVA_BYTE, sc + is + 6))
                        .fma(FloatVector.fromArray(F, x, xh + 96 + k), acc1);
            }
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }
}
