package jllm.tensor.kernels;

import static jllm.tensor.kernels.Simd.F;
import static jllm.tensor.kernels.Simd.L;
import static jllm.tensor.kernels.Simd.LE;
import static jllm.tensor.kernels.Simd.B;
import static jllm.tensor.kernels.Simd.I;
import static jllm.tensor.kernels.Simd.S;
import static jllm.tensor.kernels.Simd.f16;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
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
        DECODERS[type.ordinal()].dequantize(out, outOff, src, off, n);
    }

    /** A dequantizer of one type (see {@link RowDot} on why dispatch goes through an interface). */
    @FunctionalInterface
    interface Decoder {
        void dequantize(float[] out, int outOff, MemorySegment src, long off, int n);
    }

    private static final Decoder[] DECODERS = new Decoder[GGMLType.values().length];

    static {
        DECODERS[GGMLType.F32.ordinal()] = Dequantize::f32Row;
        DECODERS[GGMLType.F16.ordinal()] = Dequantize::f16Row;
        DECODERS[GGMLType.BF16.ordinal()] = Dequantize::bf16Row;
        DECODERS[GGMLType.Q8_0.ordinal()] = Dequantize::q8_0Row;
        DECODERS[GGMLType.Q4_0.ordinal()] = Dequantize::q4_0Row;
        DECODERS[GGMLType.Q4_1.ordinal()] = Dequantize::q4_1Row;
        DECODERS[GGMLType.Q4_K.ordinal()] = Dequantize::q4_KRow;
        DECODERS[GGMLType.Q5_K.ordinal()] = Dequantize::q5_KRow;
        DECODERS[GGMLType.Q6_K.ordinal()] = Dequantize::q6_KRow;
        DECODERS[GGMLType.Q4_K_R.ordinal()] = Dequantize::q4_K_RRow;
        DECODERS[GGMLType.Q4_0_R.ordinal()] = Dequantize::q4_0RRow;
        DECODERS[GGMLType.Q8_0_R.ordinal()] = Dequantize::q8_0RRow;
        DECODERS[GGMLType.Q4_K_R16.ordinal()] = Dequantize::q4_KR16Row;
    }

    /** Lane i of a Q4_0_R or Q8_0_R byte row is block i, whose element j goes to {@code 32 i + j}. */
    private static final int[] STRIDE32 = java.util.stream.IntStream.range(0, 16).map(i -> 32 * i).toArray();

    private static void f32Row(float[] out, int outOff, MemorySegment src, long off, int n) {
        MemorySegment.copy(src, Simd.F32, off, out, outOff, n);
    }

    private static void f16Row(float[] out, int outOff, MemorySegment src, long off, int n) {
        // as RowDot.f16Dot: magnitude shifted and rebased by 2^112, the sign OR-ed in, a running max of the magnitudes
        // to catch Inf and NaN, whose rows are decoded again exactly
        IntVector top = IntVector.zero(I);
        int i = 0;
        for (; i + L <= n; i += L) {
            IntVector h = (IntVector) ShortVector.fromMemorySegment(S, src, off + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0);
            IntVector m = h.lanewise(VectorOperators.LSHL, 13).and(Simd.HALF_MAGNITUDE);
            top = top.max(m);
            m.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts().or(h.and(0x80000000)).reinterpretAsFloats().intoArray(out, outOff + i);
        }
        for (; i < n; i++) out[outOff + i] = f16(src, off + 2L * i);
        if (top.reduceLanes(VectorOperators.MAX) >= Simd.HALF_INF_MAGNITUDE) f16RowExact(out, outOff, src, off, n);
    }

    private static void f16RowExact(float[] out, int outOff, MemorySegment src, long off, int n) {
        int i = 0;
        for (; i + L <= n; i += L) {   // exponent and mantissa rebased by 2^112, Inf/NaN the all-ones exponent, the sign
            IntVector h = (IntVector) ShortVector.fromMemorySegment(S, src, off + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0);
            IntVector mag = h.and(0x7FFF);
            IntVector bits = mag.lanewise(VectorOperators.LSHL, 13);
            bits.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                    .blend(bits.or(0x7F800000), mag.compare(VectorOperators.GE, 0x7C00))
                    .or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16))
                    .reinterpretAsFloats().intoArray(out, outOff + i);
        }
        for (; i < n; i++) out[outOff + i] = f16(src, off + 2L * i);
    }

    private static void bf16Row(float[] out, int outOff, MemorySegment src, long off, int n) {
        int i = 0;
        for (; i + L <= n; i += L) {
            IntVector h = (IntVector) ShortVector.fromMemorySegment(S, src, off + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0);
            h.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(out, outOff + i);
        }
        for (; i < n; i++) out[outOff + i] = DequantizeScalar.bf16(src, off + 2L * i);
    }

    private static void q8_0Row(float[] out, int outOff, MemorySegment src, long off, int n) {
        for (int b = 0; b < n / 32; b++) {
            long p = off + 34L * b;
            float d = f16(src, p);
            for (int k = 0; k < 32; k += L) ((FloatVector) (ByteVector.fromMemorySegment(B, src, p + 2 + k, LE)).convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(out, outOff + 32 * b + k);
        }
    }

    private static void q4_0Row(float[] out, int outOff, MemorySegment src, long off, int n) {
        for (int b = 0; b < n / 32; b++) {
            long p = off + 18L * b;
            float d = f16(src, p);
            int o = outOff + 32 * b;
            for (int k = 0; k < 16; k += L) {
                IntVector q = ((IntVector) ByteVector.fromMemorySegment(B, src, p + 2 + k, LE).convertShape(VectorOperators.B2I, I, 0));
                ((FloatVector) (q.and(0x0F).sub(8)).convert(VectorOperators.I2F, 0)).mul(d).intoArray(out, o + k);
                ((FloatVector) (q.lanewise(VectorOperators.LSHR, 4).and(0x0F).sub(8)).convert(VectorOperators.I2F, 0)).mul(d).intoArray(out, o + 16 + k);
            }
        }
    }

    /**
     * Q4_0_R: per group of 16 blocks, each byte row widened (lane = block), scaled by the 16 block scales (decoded from
     * their half bits as in {@link #f16Row}; interleaved scales are finite) and scattered to the blocks' elements. The
     * scale decoding is written out in each decoder, not in a helper (see {@link Simd}).
     */
    private static void q4_0RRow(float[] out, int outOff, MemorySegment src, long off, int n) {
        for (int g = 0; g < n / 512; g++) {
            long p = off + 288L * g;
            for (int h = 0; h < 16; h += L) {
                // loaded as bytes: C2 has no intrinsic for shorts from a byte array's segment
                IntVector hb = (IntVector) ByteVector.fromMemorySegment(Simd.B2, src, p + 2L * h, LE).reinterpretAsShorts()
                        .convertShape(VectorOperators.ZERO_EXTEND_S2I, I, 0);
                FloatVector d = ((FloatVector) hb.and(0x7FFF).lanewise(VectorOperators.LSHL, 13)
                        .or(hb.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats()).mul(0x1p112f);
                int o = outOff + 512 * g + 32 * h;
                for (int j = 0; j < 16; j++) {
                    IntVector q = (IntVector) ByteVector.fromMemorySegment(B, src, p + 32 + 16 * j + h, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    ((FloatVector) q.and(0x0F).sub(8).convert(VectorOperators.I2F, 0)).mul(d).intoArray(out, o + j, STRIDE32, 0);
                    ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).sub(8).convert(VectorOperators.I2F, 0)).mul(d).intoArray(out, o + 16 + j, STRIDE32, 0);
                }
            }
        }
    }

    /** Q8_0_R: as {@link #q4_0RRow}, each of the 32 byte rows one element of the 16 blocks. */
    private static void q8_0RRow(float[] out, int outOff, MemorySegment src, long off, int n) {
        for (int g = 0; g < n / 512; g++) {
            long p = off + 544L * g;
            for (int h = 0; h < 16; h += L) {
                // loaded as bytes: C2 has no intrinsic for shorts from a byte array's segment
                IntVector hb = (IntVector) ByteVector.fromMemorySegment(Simd.B2, src, p + 2L * h, LE).reinterpretAsShorts()
                        .convertShape(VectorOperators.ZERO_EXTEND_S2I, I, 0);
                FloatVector d = ((FloatVector) hb.and(0x7FFF).lanewise(VectorOperators.LSHL, 13)
                        .or(hb.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats()).mul(0x1p112f);
                int o = outOff + 512 * g + 32 * h;
                for (int j = 0; j < 32; j++) {
                    IntVector q = (IntVector) ByteVector.fromMemorySegment(B, src, p + 32 + 16 * j + h, LE).convertShape(VectorOperators.B2I, I, 0);
                    ((FloatVector) q.convert(VectorOperators.I2F, 0)).mul(d).intoArray(out, o + j, STRIDE32, 0);
                }
            }
        }
    }

    /** Q4_K_R16: as {@link #q4_0RRow}, with each sub-block's float scale and min ({@code d q - m}). */
    private static void q4_KR16Row(float[] out, int outOff, MemorySegment src, long off, int n) {
        for (int g = 0; g < n / 512; g++) {
            long p = off + 384L * g;
            for (int h = 0; h < 16; h += L) {
                // loaded as bytes: Q4_K_R16 lives in a byte array, whose segment C2 has no float-vector intrinsic for
                FloatVector d = ByteVector.fromMemorySegment(Simd.B4, src, p + 4L * h, LE).reinterpretAsFloats();
                FloatVector m = ByteVector.fromMemorySegment(Simd.B4, src, p + 64 + 4L * h, LE).reinterpretAsFloats();
                int o = outOff + 512 * g + 32 * h;
                for (int j = 0; j < 16; j++) {
                    IntVector q = (IntVector) ByteVector.fromMemorySegment(B, src, p + 128 + 16 * j + h, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    ((FloatVector) q.and(0x0F).convert(VectorOperators.I2F, 0)).mul(d).sub(m).intoArray(out, o + j, STRIDE32, 0);
                    ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(d).sub(m).intoArray(out, o + 16 + j, STRIDE32, 0);
                }
            }
        }
    }

    private static void q4_1Row(float[] out, int outOff, MemorySegment src, long off, int n) {
        for (int b = 0; b < n / 32; b++) {
            long p = off + 20L * b;
            float d = f16(src, p), m = f16(src, p + 2);
            int o = outOff + 32 * b;
            for (int k = 0; k < 16; k += L) {
                IntVector q = ((IntVector) ByteVector.fromMemorySegment(B, src, p + 4 + k, LE).convertShape(VectorOperators.B2I, I, 0));
                ((FloatVector) (q.and(0x0F)).convert(VectorOperators.I2F, 0)).mul(d).add(m).intoArray(out, o + k);
                ((FloatVector) (q.lanewise(VectorOperators.LSHR, 4).and(0x0F)).convert(VectorOperators.I2F, 0)).mul(d).add(m).intoArray(out, o + 16 + k);
            }
        }
    }

    private static void q4_K_RRow(float[] out, int outOff, MemorySegment src, long off, int n) {
        for (int b = 0; b < n / 32; b++) {
            long p = off + 24L * b;
            float d = src.get(Simd.F32, p), m = src.get(Simd.F32, p + 4);
            int o = outOff + 32 * b;
            for (int k = 0; k < 16; k += L) {
                IntVector q = ((IntVector) ByteVector.fromMemorySegment(B, src, p + 8 + k, LE).convertShape(VectorOperators.B2I, I, 0));
                ((FloatVector) (q.and(0x0F)).convert(VectorOperators.I2F, 0)).mul(d).sub(m).intoArray(out, o + k);
                ((FloatVector) (q.lanewise(VectorOperators.LSHR, 4).and(0x0F)).convert(VectorOperators.I2F, 0)).mul(d).sub(m).intoArray(out, o + 16 + k);
            }
        }
    }

    private static void q4_KRow(float[] out, int outOff, MemorySegment src, long off, int n) {
        for (int b = 0; b < n / 256; b++) {
            long p = off + 144L * b;
            float d = f16(src, p), dmin = f16(src, p + 2);
            for (int g = 0; g < 4; g++) {
                float d1 = d * RowDot.scaleMin(src, p + 4, 2 * g, 0), m1 = dmin * RowDot.scaleMin(src, p + 4, 2 * g, 1);
                float d2 = d * RowDot.scaleMin(src, p + 4, 2 * g + 1, 0), m2 = dmin * RowDot.scaleMin(src, p + 4, 2 * g + 1, 1);
                int o = outOff + 256 * b + 64 * g;
                for (int k = 0; k < 32; k += L) {
                    IntVector q = ((IntVector) ByteVector.fromMemorySegment(B, src, p + 16 + 32 * g + k, LE).convertShape(VectorOperators.B2I, I, 0));
                    ((FloatVector) (q.and(0x0F)).convert(VectorOperators.I2F, 0)).mul(d1).sub(m1).intoArray(out, o + k);
                    ((FloatVector) (q.lanewise(VectorOperators.LSHR, 4).and(0x0F)).convert(VectorOperators.I2F, 0)).mul(d2).sub(m2).intoArray(out, o + 32 + k);
                }
            }
        }
    }

    private static void q5_KRow(float[] out, int outOff, MemorySegment src, long off, int n) {
        for (int b = 0; b < n / 256; b++) {
            long p = off + 176L * b;
            float d = f16(src, p), dmin = f16(src, p + 2);
            for (int g = 0; g < 4; g++) {
                float d1 = d * RowDot.scaleMin(src, p + 4, 2 * g, 0), m1 = dmin * RowDot.scaleMin(src, p + 4, 2 * g, 1);
                float d2 = d * RowDot.scaleMin(src, p + 4, 2 * g + 1, 0), m2 = dmin * RowDot.scaleMin(src, p + 4, 2 * g + 1, 1);
                int o = outOff + 256 * b + 64 * g;
                for (int k = 0; k < 32; k += L) {
                    IntVector q = ((IntVector) ByteVector.fromMemorySegment(B, src, p + 48 + 32 * g + k, LE).convertShape(VectorOperators.B2I, I, 0));
                    IntVector h = ((IntVector) ByteVector.fromMemorySegment(B, src, p + 16 + k, LE).convertShape(VectorOperators.B2I, I, 0));
                    IntVector h1 = h.lanewise(VectorOperators.LSHR, 2 * g).and(1).lanewise(VectorOperators.LSHL, 4);
                    IntVector h2 = h.lanewise(VectorOperators.LSHR, 2 * g + 1).and(1).lanewise(VectorOperators.LSHL, 4);
                    ((FloatVector) (q.and(0x0F).or(h1)).convert(VectorOperators.I2F, 0)).mul(d1).sub(m1).intoArray(out, o + k);
                    ((FloatVector) (q.lanewise(VectorOperators.LSHR, 4).and(0x0F).or(h2)).convert(VectorOperators.I2F, 0)).mul(d2).sub(m2).intoArray(out, o + 32 + k);
                }
            }
        }
    }

    private static void q6_KRow(float[] out, int outOff, MemorySegment src, long off, int n) {
        for (int b = 0; b < n / 256; b++) {
            long p = off + 210L * b;
            float d = f16(src, p + 208);
            for (int half = 0; half < 2; half++) {
                long ql = p + 64 * half, qh = p + 128 + 32 * half, sc = p + 192 + 8 * half;
                int o = outOff + 256 * b + 128 * half;
                for (int k = 0; k < 32; k += L) {
                    int is = k / 16;
                    IntVector a = ((IntVector) ByteVector.fromMemorySegment(B, src, ql + k, LE).convertShape(VectorOperators.B2I, I, 0));
                    IntVector c = ((IntVector) ByteVector.fromMemorySegment(B, src, ql + 32 + k, LE).convertShape(VectorOperators.B2I, I, 0));
                    IntVector h = ((IntVector) ByteVector.fromMemorySegment(B, src, qh + k, LE).convertShape(VectorOperators.B2I, I, 0));
                    IntVector q1 = a.and(0x0F).or(h.and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                    IntVector q2 = c.and(0x0F).or(h.lanewise(VectorOperators.LSHR, 2).and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                    IntVector q3 = a.lanewise(VectorOperators.LSHR, 4).and(0x0F).or(h.lanewise(VectorOperators.LSHR, 4).and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                    IntVector q4 = c.lanewise(VectorOperators.LSHR, 4).and(0x0F).or(h.lanewise(VectorOperators.LSHR, 6).and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                    ((FloatVector) q1.convert(VectorOperators.I2F, 0)).mul(d * src.get(ValueLayout.JAVA_BYTE, sc + is)).intoArray(out, o + k);
                    ((FloatVector) q2.convert(VectorOperators.I2F, 0)).mul(d * src.get(ValueLayout.JAVA_BYTE, sc + is + 2)).intoArray(out, o + 32 + k);
                    ((FloatVector) q3.convert(VectorOperators.I2F, 0)).mul(d * src.get(ValueLayout.JAVA_BYTE, sc + is + 4)).intoArray(out, o + 64 + k);
                    ((FloatVector) q4.convert(VectorOperators.I2F, 0)).mul(d * src.get(ValueLayout.JAVA_BYTE, sc + is + 6)).intoArray(out, o + 96 + k);
                }
            }
        }
    }
}
