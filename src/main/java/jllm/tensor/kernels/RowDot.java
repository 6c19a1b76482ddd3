package jllm.tensor.kernels;

import static jllm.tensor.kernels.Simd.F;
import static jllm.tensor.kernels.Simd.F32;
import static jllm.tensor.kernels.Simd.L;
import static jllm.tensor.kernels.Simd.LE;
import static jllm.tensor.kernels.Simd.bf16ToFloats;
import static jllm.tensor.kernels.Simd.bytesToFloats;
import static jllm.tensor.kernels.Simd.f16;
import static jllm.tensor.kernels.Simd.halvesToFloats;
import static jllm.tensor.kernels.Simd.loadBytes;
import static jllm.tensor.kernels.Simd.u8;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
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

    /**
     * {@code sum_i w_i x[xo + i]} over the {@code n} elements of type {@code type} stored from byte {@code off} of
     * {@code w}; {@code n} must be a multiple of the type's block size (not checked here: callers validate shapes).
     */
    public static float dot(GGMLType type, MemorySegment w, long off, float[] x, int xo, int n) {
        return switch (type) {
            case F32 -> f32(w, off, x, xo, n);
            case F16 -> f16Dot(w, off, x, xo, n);
            case BF16 -> bf16(w, off, x, xo, n);
            case Q8_0 -> q8_0(w, off, x, xo, n);
            case Q4_0 -> q4_0(w, off, x, xo, n);
            case Q4_1 -> q4_1(w, off, x, xo, n);
            case Q4_K -> q4_K(w, off, x, xo, n);
            case Q5_K -> q5_K(w, off, x, xo, n);
            case Q6_K -> q6_K(w, off, x, xo, n);
        };
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
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        int i = 0;
        for (; i + 2 * L <= n; i += 2 * L) {
            a0 = halvesToFloats(w, off + 2L * i).fma(FloatVector.fromArray(F, x, xo + i), a0);
            a1 = halvesToFloats(w, off + 2L * (i + L)).fma(FloatVector.fromArray(F, x, xo + i + L), a1);
        }
        float s = a0.add(a1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += f16(w, off + 2L * i) * x[xo + i];
        return s;
    }

    static float bf16(MemorySegment w, long off, float[] x, int xo, int n) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        int i = 0;
        for (; i + 2 * L <= n; i += 2 * L) {
            a0 = bf16ToFloats(w, off + 2L * i).fma(FloatVector.fromArray(F, x, xo + i), a0);
            a1 = bf16ToFloats(w, off + 2L * (i + L)).fma(FloatVector.fromArray(F, x, xo + i + L), a1);
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
                s0 = bytesToFloats(loadBytes(w, p0 + 2 + k)).fma(FloatVector.fromArray(F, x, x0 + k), s0);
                s1 = bytesToFloats(loadBytes(w, p1 + 2 + k)).fma(FloatVector.fromArray(F, x, x1 + k), s1);
            }
            acc0 = s0.fma(bc(f16(w, p0)), acc0);
            acc1 = s1.fma(bc(f16(w, p1)), acc1);
        }
        for (; b < nb; b++) {
            long p = off + 34L * b;
            FloatVector s = FloatVector.zero(F);
            for (int k = 0; k < 32; k += L) {
                s = bytesToFloats(loadBytes(w, p + 2 + k)).fma(FloatVector.fromArray(F, x, xo + 32 * b + k), s);
            }
            acc0 = s.fma(bc(f16(w, p)), acc0);
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
                ByteVector q = loadBytes(w, p + 2 + k);
                ByteVector lo = q.and((byte) 0x0F).sub((byte) 8);
                ByteVector hi = q.lanewise(VectorOperators.LSHR, 4).sub((byte) 8);
                s = bytesToFloats(lo).fma(FloatVector.fromArray(F, x, xb + k), s);
                s = bytesToFloats(hi).fma(FloatVector.fromArray(F, x, xb + 16 + k), s);
            }
            if ((b & 1) == 0) acc0 = s.fma(bc(f16(w, p)), acc0);
            else acc1 = s.fma(bc(f16(w, p)), acc1);
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    static float q4_1(MemorySegment w, long off, float[] x, int xo, int n) {
        FloatVector acc = FloatVector.zero(F), accM = FloatVector.zero(F);
        int nb = n / 32;
        for (int b = 0; b < nb; b++) {
            long p = off + 20L * b;
            int xb = xo + 32 * b;
            FloatVector s = FloatVector.zero(F), sx = FloatVector.zero(F);
            for (int k = 0; k < 16; k += L) {
                ByteVector q = loadBytes(w, p + 4 + k);
                FloatVector xl = FloatVector.fromArray(F, x, xb + k);
                FloatVector xh = FloatVector.fromArray(F, x, xb + 16 + k);
                s = bytesToFloats(q.and((byte) 0x0F)).fma(xl, s);
                s = bytesToFloats(q.lanewise(VectorOperators.LSHR, 4)).fma(xh, s);
                sx = sx.add(xl).add(xh);
            }
            acc = s.fma(bc(f16(w, p)), acc);
            accM = sx.fma(bc(f16(w, p + 2)), accM);
        }
        return acc.add(accM).reduceLanes(VectorOperators.ADD);
    }

    private static FloatVector bc(float v) {
        return FloatVector.broadcast(F, v);
    }

    /** Sub-block scale ({@code which} 0) or min (1) of Q4_K/Q5_K's 12 packed bytes at {@code sc}. */
    static int scaleMin(MemorySegment s, long sc, int j, int which) {
        if (j < 4) return u8(s, sc + j + 4 * which) & 63;
        if (which == 0) return (u8(s, sc + j + 4) & 0xF) | ((u8(s, sc + j - 4) >> 6) << 4);
        return (u8(s, sc + j + 4) >> 4) | ((u8(s, sc + j) >> 6) << 4);
    }

    static float q4_K(MemorySegment w, long off, float[] x, int xo, int n) {
        FloatVector acc = FloatVector.zero(F), accM = FloatVector.zero(F);
        int nb = n / 256;
        for (int b = 0; b < nb; b++) {
            long p = off + 144L * b;
            float d = f16(w, p), dmin = f16(w, p + 2);
            long sc = p + 4, q = p + 16;
            int xb = xo + 256 * b;
            for (int g = 0; g < 4; g++) {
                FloatVector s1 = FloatVector.zero(F), s2 = FloatVector.zero(F);
                FloatVector x1s = FloatVector.zero(F), x2s = FloatVector.zero(F);
                int xg = xb + 64 * g;
                for (int k = 0; k < 32; k += L) {
                    ByteVector qb = loadBytes(w, q + 32 * g + k);
                    FloatVector xl = FloatVector.fromArray(F, x, xg + k);
                    FloatVector xh = FloatVector.fromArray(F, x, xg + 32 + k);
                    s1 = bytesToFloats(qb.and((byte) 0x0F)).fma(xl, s1);
                    s2 = bytesToFloats(qb.lanewise(VectorOperators.LSHR, 4)).fma(xh, s2);
                    x1s = x1s.add(xl);
                    x2s = x2s.add(xh);
                }
                acc = s1.fma(bc(d * scaleMin(w, sc, 2 * g, 0)), acc);
                acc = s2.fma(bc(d * scaleMin(w, sc, 2 * g + 1, 0)), acc);
                accM = x1s.fma(bc(dmin * scaleMin(w, sc, 2 * g, 1)), accM);
                accM = x2s.fma(bc(dmin * scaleMin(w, sc, 2 * g + 1, 1)), accM);
            }
        }
        return acc.sub(accM).reduceLanes(VectorOperators.ADD);
    }

    static float q5_K(MemorySegment w, long off, float[] x, int xo, int n) {
        FloatVector acc = FloatVector.zero(F), accM = FloatVector.zero(F);
        int nb = n / 256;
        for (int b = 0; b < nb; b++) {
            long p = off + 176L * b;
            float d = f16(w, p), dmin = f16(w, p + 2);
            long sc = p + 4, qh = p + 16, ql = p + 48;
            int xb = xo + 256 * b;
            for (int g = 0; g < 4; g++) {
                FloatVector s1 = FloatVector.zero(F), s2 = FloatVector.zero(F);
                FloatVector x1s = FloatVector.zero(F), x2s = FloatVector.zero(F);
                int xg = xb + 64 * g;
                for (int k = 0; k < 32; k += L) {
                    ByteVector qb = loadBytes(w, ql + 32 * g + k);
                    ByteVector hb = loadBytes(w, qh + k);
                    ByteVector h1 = hb.lanewise(VectorOperators.LSHR, 2 * g).and((byte) 1).lanewise(VectorOperators.LSHL, 4);
                    ByteVector h2 = hb.lanewise(VectorOperators.LSHR, 2 * g + 1).and((byte) 1).lanewise(VectorOperators.LSHL, 4);
                    FloatVector xl = FloatVector.fromArray(F, x, xg + k);
                    FloatVector xh = FloatVector.fromArray(F, x, xg + 32 + k);
                    s1 = bytesToFloats(qb.and((byte) 0x0F).or(h1)).fma(xl, s1);
                    s2 = bytesToFloats(qb.lanewise(VectorOperators.LSHR, 4).or(h2)).fma(xh, s2);
                    x1s = x1s.add(xl);
                    x2s = x2s.add(xh);
                }
                acc = s1.fma(bc(d * scaleMin(w, sc, 2 * g, 0)), acc);
                acc = s2.fma(bc(d * scaleMin(w, sc, 2 * g + 1, 0)), acc);
                accM = x1s.fma(bc(dmin * scaleMin(w, sc, 2 * g, 1)), accM);
                accM = x2s.fma(bc(dmin * scaleMin(w, sc, 2 * g + 1, 1)), accM);
            }
        }
        return acc.sub(accM).reduceLanes(VectorOperators.ADD);
    }

    static float q6_K(MemorySegment w, long off, float[] x, int xo, int n) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        int nb = n / 256;
        for (int b = 0; b < nb; b++) {
            long p = off + 210L * b;
            float d = f16(w, p + 208);
            for (int half = 0; half < 2; half++) {
                long ql = p + 64 * half, qh = p + 128 + 32 * half, sc = p + 192 + 8 * half;
                int xh = xo + 256 * b + 128 * half;
                for (int k = 0; k < 32; k += L) {
                    int is = k / 16;
                    ByteVector a = loadBytes(w, ql + k);
                    ByteVector c = loadBytes(w, ql + 32 + k);
                    ByteVector h = loadBytes(w, qh + k);
                    ByteVector q1 = a.and((byte) 0x0F).or(h.and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q2 = c.and((byte) 0x0F).or(h.lanewise(VectorOperators.LSHR, 2).and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q3 = a.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 4).and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q4 = c.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    FloatVector p1 = bytesToFloats(q1).mul(FloatVector.fromArray(F, x, xh + k));
                    FloatVector p2 = bytesToFloats(q2).mul(FloatVector.fromArray(F, x, xh + 32 + k));
                    FloatVector p3 = bytesToFloats(q3).mul(FloatVector.fromArray(F, x, xh + 64 + k));
                    FloatVector p4 = bytesToFloats(q4).mul(FloatVector.fromArray(F, x, xh + 96 + k));
                    acc0 = p1.fma(bc(d * w.get(JAVA_BYTE, sc + is)), acc0);
                    acc1 = p2.fma(bc(d * w.get(JAVA_BYTE, sc + is + 2)), acc1);
                    acc0 = p3.fma(bc(d * w.get(JAVA_BYTE, sc + is + 4)), acc0);
                    acc1 = p4.fma(bc(d * w.get(JAVA_BYTE, sc + is + 6)), acc1);
                }
            }
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }
}
