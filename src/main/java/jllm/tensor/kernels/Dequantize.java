package jllm.tensor.kernels;

import static jllm.tensor.kernels.Simd.F;
import static jllm.tensor.kernels.Simd.L;
import static jllm.tensor.kernels.Simd.LE;
import static jllm.tensor.kernels.Simd.bf16ToFloats;
import static jllm.tensor.kernels.Simd.bytesToFloats;
import static jllm.tensor.kernels.Simd.f16;
import static jllm.tensor.kernels.Simd.halvesToFloats;
import static jllm.tensor.kernels.Simd.loadBytes;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jllm.tensor.DequantizeScalar;
import jllm.tensor.GGMLType;
import jllm.tensor.Tensor;

/**
 * GGML block formats to floats with the Vector API: the production twin of {@link DequantizeScalar}, used for
 * embedding lookups and to dequantize weight panels in {@link MatMul#matMul}.
 *
 * <p>Spec: ggml-quants.c {@code dequantize_row_*}. Every element is computed with the same float operations in
 * the same order as the definition (multiply, then add; no FMA), so the result equals {@link DequantizeScalar}
 * bit for bit.
 */
public final class Dequantize {
    private Dequantize() {}

    /** Row {@code r} of {@code w} dequantized into {@code out[outOff .. outOff + cols)}. */
    public static void row(float[] out, int outOff, Tensor w, int r) {
        dequantize(out, outOff, w.type(), w.data(), w.rowOffset(r), w.cols());
    }

    /**
     * {@code n} elements of {@code type} from byte {@code off} of {@code src} into {@code out[outOff .. outOff + n)};
     * {@code n} must be a multiple of the block size.
     */
    public static void dequantize(float[] out, int outOff, GGMLType type, MemorySegment src, long off, int n) {
        if (n % type.blockSize != 0) {
            throw new IllegalArgumentException(type + ": element count " + n + " is not a multiple of block size " + type.blockSize);
        }
        switch (type) {
            case F32 -> MemorySegment.copy(src, Simd.F32, off, out, outOff, n);
            case F16 -> {
                int i = 0;
                for (; i + L <= n; i += L) halvesToFloats(src, off + 2L * i).intoArray(out, outOff + i);
                for (; i < n; i++) out[outOff + i] = f16(src, off + 2L * i);
            }
            case BF16 -> {
                int i = 0;
                for (; i + L <= n; i += L) bf16ToFloats(src, off + 2L * i).intoArray(out, outOff + i);
                for (; i < n; i++) out[outOff + i] = DequantizeScalar.bf16(src, off + 2L * i);
            }
            case Q8_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    long p = off + 34L * b;
                    float d = f16(src, p);
                    for (int k = 0; k < 32; k += L) bytesToFloats(loadBytes(src, p + 2 + k)).mul(d).intoArray(out, outOff + 32 * b + k);
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    long p = off + 18L * b;
                    float d = f16(src, p);
                    int o = outOff + 32 * b;
                    for (int k = 0; k < 16; k += L) {
                        ByteVector q = loadBytes(src, p + 2 + k);
                        bytesToFloats(q.and((byte) 0x0F).sub((byte) 8)).mul(d).intoArray(out, o + k);
                        bytesToFloats(q.lanewise(VectorOperators.LSHR, 4).sub((byte) 8)).mul(d).intoArray(out, o + 16 + k);
                    }
                }
            }
            case Q4_1 -> {
                for (int b = 0; b < n / 32; b++) {
                    long p = off + 20L * b;
                    float d = f16(src, p), m = f16(src, p + 2);
                    int o = outOff + 32 * b;
                    for (int k = 0; k < 16; k += L) {
                        ByteVector q = loadBytes(src, p + 4 + k);
                        bytesToFloats(q.and((byte) 0x0F)).mul(d).add(m).intoArray(out, o + k);
                        bytesToFloats(q.lanewise(VectorOperators.LSHR, 4)).mul(d).add(m).intoArray(out, o + 16 + k);
                    }
                }
            }
            case Q4_K -> {
                for (int b = 0; b < n / 256; b++) {
                    long p = off + 144L * b;
                    float d = f16(src, p), dmin = f16(src, p + 2);
                    for (int g = 0; g < 4; g++) {
                        float d1 = d * RowDot.scaleMin(src, p + 4, 2 * g, 0), m1 = dmin * RowDot.scaleMin(src, p + 4, 2 * g, 1);
                        float d2 = d * RowDot.scaleMin(src, p + 4, 2 * g + 1, 0), m2 = dmin * RowDot.scaleMin(src, p + 4, 2 * g + 1, 1);
                        int o = outOff + 256 * b + 64 * g;
                        for (int k = 0; k < 32; k += L) {
                            ByteVector q = loadBytes(src, p + 16 + 32 * g + k);
                            bytesToFloats(q.and((byte) 0x0F)).mul(d1).sub(m1).intoArray(out, o + k);
                            bytesToFloats(q.lanewise(VectorOperators.LSHR, 4)).mul(d2).sub(m2).intoArray(out, o + 32 + k);
                        }
                    }
                }
            }
            case Q5_K -> {
                for (int b = 0; b < n / 256; b++) {
                    long p = off + 176L * b;
                    float d = f16(src, p), dmin = f16(src, p + 2);
                    for (int g = 0; g < 4; g++) {
                        float d1 = d * RowDot.scaleMin(src, p + 4, 2 * g, 0), m1 = dmin * RowDot.scaleMin(src, p + 4, 2 * g, 1);
                        float d2 = d * RowDot.scaleMin(src, p + 4, 2 * g + 1, 0), m2 = dmin * RowDot.scaleMin(src, p + 4, 2 * g + 1, 1);
                        int o = outOff + 256 * b + 64 * g;
                        for (int k = 0; k < 32; k += L) {
                            ByteVector q = loadBytes(src, p + 48 + 32 * g + k);
                            ByteVector h = loadBytes(src, p + 16 + k);
                            ByteVector h1 = h.lanewise(VectorOperators.LSHR, 2 * g).and((byte) 1).lanewise(VectorOperators.LSHL, 4);
                            ByteVector h2 = h.lanewise(VectorOperators.LSHR, 2 * g + 1).and((byte) 1).lanewise(VectorOperators.LSHL, 4);
                            bytesToFloats(q.and((byte) 0x0F).or(h1)).mul(d1).sub(m1).intoArray(out, o + k);
                            bytesToFloats(q.lanewise(VectorOperators.LSHR, 4).or(h2)).mul(d2).sub(m2).intoArray(out, o + 32 + k);
                        }
                    }
                }
            }
            case Q6_K -> {
                for (int b = 0; b < n / 256; b++) {
                    long p = off + 210L * b;
                    float d = f16(src, p + 208);
                    for (int half = 0; half < 2; half++) {
                        long ql = p + 64 * half, qh = p + 128 + 32 * half, sc = p + 192 + 8 * half;
                        int o = outOff + 256 * b + 128 * half;
                        for (int k = 0; k < 32; k += L) {
                            int is = k / 16;
                            ByteVector a = loadBytes(src, ql + k);
                            ByteVector c = loadBytes(src, ql + 32 + k);
                            ByteVector h = loadBytes(src, qh + k);
                            ByteVector q1 = a.and((byte) 0x0F).or(h.and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                            ByteVector q2 = c.and((byte) 0x0F).or(h.lanewise(VectorOperators.LSHR, 2).and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                            ByteVector q3 = a.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 4).and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                            ByteVector q4 = c.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                            bytesToFloats(q1).mul(d * src.get(ValueLayout.JAVA_BYTE, sc + is)).intoArray(out, o + k);
                            bytesToFloats(q2).mul(d * src.get(ValueLayout.JAVA_BYTE, sc + is + 2)).intoArray(out, o + 32 + k);
                            bytesToFloats(q3).mul(d * src.get(ValueLayout.JAVA_BYTE, sc + is + 4)).intoArray(out, o + 64 + k);
                            bytesToFloats(q4).mul(d * src.get(ValueLayout.JAVA_BYTE, sc + is + 6)).intoArray(out, o + 96 + k);
                        }
                    }
                }
            }
        }
    }
}
