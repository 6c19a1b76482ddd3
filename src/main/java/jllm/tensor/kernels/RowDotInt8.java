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
import jllm.tensor.Tensor;

/**
 * The int8 path: dot products of quantized weight rows with a {@link Q8Activation} in ggml's activation format,
 * as ggml's CPU backend computes them, with the Vector API; {@link #dotScalar} is the scalar twin.
 *
 * <p>Spec: ggml-cpu {@code ggml_vec_dot_q8_0_q8_0}, {@code _q4_0_q8_0}, {@code _q4_1_q8_1}: per block of 32
 * {@code d_w d_x sum(q_w q_x)} (plus {@code m_w s_x} for Q4_1); {@code ggml_vec_dot_q4_K_q8_K}, {@code _q5_K_q8_K}:
 * per super-block the exact integer {@code sum_j sc_j sum(q_w q_x)} times {@code d_w d_x}, minus
 * {@code dmin_w d_x sum_j m_j bsum_j}; {@code ggml_vec_dot_q6_K_q8_K}: the integer {@code sum_g sc_g sum((q_w - 32) q_x)}
 * over 16 groups of 16, times {@code d_w d_x}. The integers are exact, so the result equals llama.cpp's up to the
 * order of the float additions.
 */
public final class RowDotInt8 {
    private RowDotInt8() {}

    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Whether the int8 path has a kernel for {@code type} (every quantized type). */
    public static boolean supports(GGMLType type) {
        return type.isQuantized();
    }

    /**
     * {@code sum_i w_i x_i} for a row of {@code a.length()} elements of {@code type} at byte {@code off}; the
     * activation must be in {@link Q8Activation#formatFor}{@code (type)}.
     */
    public static float dot(GGMLType type, MemorySegment w, long off, Q8Activation a) {
        Kernel k = kernel(type);
        if (k == null) throw new IllegalArgumentException("the int8 path has no kernel for " + type);
        if (a.format != Q8Activation.formatFor(type)) {
            throw new IllegalArgumentException(type + " weights need a " + Q8Activation.formatFor(type) + " activation, not " + a.format);
        }
        if (usesPairs(type) && !a.hasPairs) throw new IllegalArgumentException(type + " weights need an activation quantized with its pairs");
        if (usesTransposedPairs(type) && !a.hasPairsT) {
            throw new IllegalArgumentException(type + " weights need an activation quantized with its interleaved pairs (length a multiple of 512)");
        }
        return k.dot(w, off, a);
    }

    /** The int8 row dot of one type. */
    @FunctionalInterface
    public interface Kernel {
        float dot(MemorySegment w, long off, Q8Activation a);
    }

    // Interface dispatch, not a switch, for the reason given in RowDot.
    private static final Kernel[] KERNELS = new Kernel[GGMLType.values().length];

    static {
        KERNELS[GGMLType.Q8_0.ordinal()] = (w, off, a) -> q8_0(w, off, a.q, a.d, a.n);
        KERNELS[GGMLType.Q4_0.ordinal()] = (w, off, a) -> q4_0(w, off, a.pairs, a.d, a.n);
        KERNELS[GGMLType.Q4_1.ordinal()] = (w, off, a) -> q4_1(w, off, a.pairs, a.d, a.s, a.n);
        KERNELS[GGMLType.Q4_K.ordinal()] = (w, off, a) -> q45_K(w, off, 144, false, a.q, a.d, a.bsums, a.n);
        KERNELS[GGMLType.Q5_K.ordinal()] = (w, off, a) -> q45_K(w, off, 176, true, a.q, a.d, a.bsums, a.n);
        KERNELS[GGMLType.Q6_K.ordinal()] = (w, off, a) -> q6_K(w, off, a.q, a.d, a.n);
        KERNELS[GGMLType.Q4_K_R.ordinal()] = (w, off, a) -> q4_K_R(w, off, a.pairs, a.d32, a.dsum32, a.n);
        KERNELS[GGMLType.Q4_0_R.ordinal()] = (w, off, a) -> q4_0R(heapBytes(w), Math.toIntExact(w.address() + off), a.pairsT, a.d, a.n);
        KERNELS[GGMLType.Q8_0_R.ordinal()] = (w, off, a) -> q8_0R(heapBytes(w), Math.toIntExact(w.address() + off), a.pairsT, a.d, a.n);
        KERNELS[GGMLType.Q4_K_R16.ordinal()] = (w, off, a) -> q4_KR16(heapBytes(w), Math.toIntExact(w.address() + off), a.pairsT, a.d32, a.dsum32, a.n);
    }

    /**
     * The byte array behind a heap segment (where the {@link GGMLType#isInterleaved} types are held); a heap segment's
     * {@link MemorySegment#address} is its offset in that array.
     */
    static byte[] heapBytes(MemorySegment w) {
        if (w.heapBase().orElse(null) instanceof byte[] b) return b;
        throw new IllegalArgumentException("interleaved (Q4_0_R, Q8_0_R, Q4_K_R16) weights must be in a byte array (a heap segment), not " + w);
    }

    /**
     * The array an interleaved (Q4_0_R, Q8_0_R, Q4_K_R16) tensor holds ({@link Tensor#heapBytes}, its data from
     * {@link Tensor#heapOffset}): {@link MatMul} reads it once per chunk of rows, where {@link #heapBytes(MemorySegment)}
     * would allocate an {@code Optional} per row.
     */
    static byte[] interleavedBytes(Tensor w) {
        byte[] b = w.heapBytes();
        if (b == null) throw new IllegalArgumentException(w.name() + ": " + w.type() + " weights must be in a byte array");
        return b;
    }

    /** Whether the kernel for {@code type} reads the activation's interleaved pairs ({@link Q8Activation#pairsT}). */
    static boolean usesTransposedPairs(GGMLType type) {
        return type.isInterleaved();
    }

    /**
     * The row dot of an interleaved type ({@link GGMLType#isInterleaved}) on its array: {@link #q4_0R}, {@link #q8_0R}
     * or {@link #q4_KR16}. One call site for all, the branch taken the same way for a whole matrix.
     */
    static float interleaved(GGMLType type, byte[] w, int off, Q8Activation a) {
        return switch (type) {
            case Q4_0_R -> q4_0R(w, off, a.pairsT, a.d, a.n);
            case Q8_0_R -> q8_0R(w, off, a.pairsT, a.d, a.n);
            default -> q4_KR16(w, off, a.pairsT, a.d32, a.dsum32, a.n);
        };
    }

    /** Whether the kernel for {@code type} reads the activation's {@link Q8Activation#pairs}. */
    static boolean usesPairs(GGMLType type) {
        return type == GGMLType.Q4_0 || type == GGMLType.Q4_1 || type == GGMLType.Q4_K_R;
    }

    /** The int8 kernel for {@code type}, or null for the float types. */
    public static Kernel kernel(GGMLType type) {
        return KERNELS[type.ordinal()];
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

    /**
     * Paired products, the integer dot product the Vector API lacks (x86's {@code pmaddwd}/{@code vpdpbusd}). With
     * weight quants {@code u, v} and activation quants {@code x, y} packed as {@code a = u + v 2^16} and
     * {@code b = y + x 2^16} (the activation's {@link Q8Activation#pairs}), one 32-bit multiply gives
     * {@code a b = u y + (u x + v y) 2^16 + v x 2^32}: modulo 2^32 the last term vanishes, and while
     * {@code |u y| < 2^15} and {@code |u x + v y| < 2^15} the lane holds exactly {@code u y + 2^16 (u x + v y)}, so
     * {@code (a b + 2^15) >> 16} is the two-term dot product {@code u x + v y}. For 4-bit weights
     * ({@code |u|, |v| <= 15}) and 8-bit activations ({@code |x|, |y| <= 127}) the bounds hold by a factor of eight.
     * One multiply, one add and one shift thus do the work of two widenings, two multiplies and an add. The kernels
     * write it inline ({@code a.mul(pairs).add(0x8000).lanewise(ASHR, 16)}), for the reason given in {@link Simd}.
     *
     * <p>Byte j of a Q4_0/Q4_1 block holds element j in its low nibble and element j + 16 in its high nibble, so
     * {@code c | c << 12} masked to {@code 0x000F000F} is the weight pair {@code a = (q_j, q_(j+16))}.
     */
    static float q4_0(MemorySegment w, long off, int[] xp, float[] dx, int n) {
        return q4Pairs(w, off, 18, 0x00080008, xp, dx, n);
    }

    static float q4_1(MemorySegment w, long off, int[] xp, float[] dx, float[] sx, int n) {
        float mins = 0;
        for (int b = 0; b < n / 32; b++) mins += f16(w, off + 20L * b + 2) * sx[b];
        return q4Pairs(w, off, 20, 0, xp, dx, n) + mins;
    }

    /**
     * {@code sum_b d_b dx_b sum(q_w q_x)} over blocks of {@code blockBytes} bytes that start with the f16 scale and end
     * with the 16 nibble bytes, the quants less {@code bias} per pair ({@code 0x00080008}: Q4_0's offset of 8 on both).
     */
    private static float q4Pairs(MemorySegment w, long off, int blockBytes, int bias, int[] xp, float[] dx, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 32; b++) {
            long p = off + (long) blockBytes * b;
            long q = p + blockBytes - 16;
            // the first L pairs, then (narrower than 512 bits) the rest; starting from a zero vector instead ran 15% slower
            IntVector c = (IntVector) ByteVector.fromMemorySegment(B, w, q, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector s = c.or(c.lanewise(VectorOperators.LSHL, 12)).and(0x000F000F).sub(bias)
                    .mul(IntVector.fromArray(I, xp, 16 * b)).add(0x8000).lanewise(VectorOperators.ASHR, 16);
            for (int k = L; k < 16; k += L) {
                c = (IntVector) ByteVector.fromMemorySegment(B, w, q + k, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                s = s.add(c.or(c.lanewise(VectorOperators.LSHL, 12)).and(0x000F000F).sub(bias)
                        .mul(IntVector.fromArray(I, xp, 16 * b + k)).add(0x8000).lanewise(VectorOperators.ASHR, 16));
            }
            acc = ((FloatVector) s.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, f16(w, p) * dx[b]), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /**
     * Q4_K_R against a Q8_K activation: per 32-element sub-block {@code d dx sum(q_w q_x) - m dx sum(q_x)}, the float
     * scale and min read from the block and the activation's scale and quant sums per sub-block
     * ({@link Q8Activation#d32}, {@link Q8Activation#dsum32}). The loop of {@link #q4Pairs} with the min term in it: with
     * the mins in a separate pass over the row (as Q4_1 takes them) the 1B Q4_K file decoded 18.0-18.2 t/s on 2 threads,
     * with them inside 20.7-22.8 (alternated).
     */
    static float q4_K_R(MemorySegment w, long off, int[] xp, float[] d32, float[] dsum32, int n) {
        FloatVector acc = FloatVector.zero(F);
        float mins = 0;
        for (int b = 0; b < n / 32; b++) {
            long p = off + 24L * b;
            IntVector c = (IntVector) ByteVector.fromMemorySegment(B, w, p + 8, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector s = c.or(c.lanewise(VectorOperators.LSHL, 12)).and(0x000F000F)
                    .mul(IntVector.fromArray(I, xp, 16 * b)).add(0x8000).lanewise(VectorOperators.ASHR, 16);
            for (int k = L; k < 16; k += L) {
                c = (IntVector) ByteVector.fromMemorySegment(B, w, p + 8 + k, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                s = s.add(c.or(c.lanewise(VectorOperators.LSHL, 12)).and(0x000F000F)
                        .mul(IntVector.fromArray(I, xp, 16 * b + k)).add(0x8000).lanewise(VectorOperators.ASHR, 16));
            }
            acc = ((FloatVector) s.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, w.get(Simd.F32, p) * d32[b]), acc);
            mins += w.get(Simd.F32, p + 4) * dsum32[b];
        }
        return acc.reduceLanes(VectorOperators.ADD) - mins;
    }

    /**
     * Q4_0_R (byte array {@code w} from index {@code off}) against a Q8_0 activation's interleaved pairs {@code xt}: per
     * group of 16 blocks, lane i of the integer vector sums block i's paired products ({@link #q4_0}'s trick) over its 16
     * byte rows, and the 16 sums meet the 16 weight scales times the 16 activation scales in one multiply-add. The
     * shift that extracts the two-term dot product is applied once per group, after all 16 products are summed: with
     * weight quants {@code |q - 8| <= 8} and activation quants {@code |x| <= 127} (ggml's Q8_0 never gives -128), the
     * low halves sum to at most {@code 16 * 8 * 127 = 16256 < 2^15} and the dot products to at most
     * {@code 32 * 8 * 127 = 32512 < 2^15}, so the lane holds {@code low + 2^16 dot} exactly and
     * {@code (lane + 2^15) >> 16} is the block's integer dot product. The scales are decoded from their half bits as in
     * {@code RowDot.f16Dot} (exact for finite halves; {@link jllm.tensor.BlockInterleave} refuses others). The integer sums
     * are ggml's; only the order of the float additions differs. The byte rows are summed in two chains (even and odd
     * rows) that meet before the shift: the same integers, and on one core 1B Q4_0 decodes at 20.8 / 25.9 / 27.0 t/s
     * against 19.1 / 21.6 / 21.1 with one chain (alternated; two threads +0.5-3%). Q8_0_R's kernel got slower that way.
     */
    static float q4_0R(byte[] w, int off, int[] xt, float[] dx, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int g = 0; g < n / 512; g++) {
            int p = off + 288 * g;
            for (int h = 0; h < 16; h += L) {     // one pass at 512 bits, two at 256
                IntVector s = IntVector.zero(I), t = s;
                for (int j = 0; j < 16; j += 2) {
                    IntVector c = (IntVector) ByteVector.fromArray(B, w, p + 32 + 16 * j + h).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    IntVector e = (IntVector) ByteVector.fromArray(B, w, p + 48 + 16 * j + h).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    s = s.add(c.or(c.lanewise(VectorOperators.LSHL, 12)).and(0x000F000F).sub(0x00080008)
                            .mul(IntVector.fromArray(I, xt, 256 * g + 16 * j + h)));
                    t = t.add(e.or(e.lanewise(VectorOperators.LSHL, 12)).and(0x000F000F).sub(0x00080008)
                            .mul(IntVector.fromArray(I, xt, 256 * g + 16 * j + 16 + h)));
                }
                s = s.add(t).add(0x8000).lanewise(VectorOperators.ASHR, 16);
                IntVector hb = (IntVector) ByteVector.fromArray(Simd.B2, w, p + 2 * h).reinterpretAsShorts()
                        .convertShape(VectorOperators.ZERO_EXTEND_S2I, I, 0);
                FloatVector d = ((FloatVector) hb.and(0x7FFF).lanewise(VectorOperators.LSHL, 13)
                        .or(hb.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats()).mul(0x1p112f);
                acc = ((FloatVector) s.convert(VectorOperators.I2F, 0)).fma(d.mul(FloatVector.fromArray(F, dx, 16 * g + h)), acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /**
     * Q8_0_R (byte array {@code w} from index {@code off}) against a Q8_0 activation's interleaved pairs {@code xt}: per
     * group of 16 blocks, byte rows j and j + 16 (element j and j + 16 of each block, sign-extended, one block per lane)
     * make the weight pair {@code u + 2^16 v} of {@link #q4_0}'s paired product, whose two-term dot product
     * {@code (a b + 2^15) >> 16} is extracted at every step: with {@code |u|, |v| <= 127} (ggml's Q8_0 quantizer gives
     * +-127 at most) and activation quants likewise, {@code |u y| <= 16129 < 2^15} and
     * {@code |u x + v y| <= 32258 < 2^15}, but the sums over a block do not fit 16 bits, so the shift cannot wait for the
     * group's end as in {@link #q4_0R}. A file quant of -128 (not ggml's output) would still stay within the bound for
     * one pair ({@code 128 * 127 * 2 = 32512}). The 16 sums then meet the 16 weight scales times the 16 activation scales
     * in one multiply-add. The integer sums are ggml's; only the order of the float additions differs.
     */
    static float q8_0R(byte[] w, int off, int[] xt, float[] dx, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int g = 0; g < n / 512; g++) {
            int p = off + 544 * g;
            for (int h = 0; h < 16; h += L) {     // one pass at 512 bits, two at 256
                IntVector s = IntVector.zero(I);
                for (int j = 0; j < 16; j++) {
                    IntVector u = (IntVector) ByteVector.fromArray(B, w, p + 32 + 16 * j + h).convertShape(VectorOperators.B2I, I, 0);
                    IntVector v = (IntVector) ByteVector.fromArray(B, w, p + 288 + 16 * j + h).convertShape(VectorOperators.B2I, I, 0);
                    s = s.add(u.add(v.lanewise(VectorOperators.LSHL, 16)).mul(IntVector.fromArray(I, xt, 256 * g + 16 * j + h))
                            .add(0x8000).lanewise(VectorOperators.ASHR, 16));
                }
                IntVector hb = (IntVector) ByteVector.fromArray(Simd.B2, w, p + 2 * h).reinterpretAsShorts()
                        .convertShape(VectorOperators.ZERO_EXTEND_S2I, I, 0);
                FloatVector d = ((FloatVector) hb.and(0x7FFF).lanewise(VectorOperators.LSHL, 13)
                        .or(hb.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats()).mul(0x1p112f);
                acc = ((FloatVector) s.convert(VectorOperators.I2F, 0)).fma(d.mul(FloatVector.fromArray(F, dx, 16 * g + h)), acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /**
     * Q4_K_R16 (byte array {@code w} from index {@code off}) against a Q8_K activation's interleaved pairs {@code xt} and
     * per-sub-block scales {@code d32} and {@code d32 * sum(q_x)} ({@code dsum32}): per group of 16 sub-blocks, lane i
     * sums sub-block i's paired products ({@link #q4_0}'s trick) over its 16 byte rows, then
     * {@code d_i dx_i sum - m_i dsum_i} for all 16 in two vector multiply-adds. Q4_K's nibbles are unsigned (0..15), so
     * a 32-element dot product reaches {@code 32 * 15 * 127 = 60960}, past the 16-bit field: the shift that extracts it
     * runs after each 8 rows (16 elements: at most {@code 16 * 15 * 127 = 30480 < 2^15}, the low halves at most
     * {@code 8 * 15 * 127 = 15240}). The integer sums are ggml's; only the order of the float additions differs.
     */
    static float q4_KR16(byte[] w, int off, int[] xt, float[] d32, float[] dsum32, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int g = 0; g < n / 512; g++) {
            int p = off + 384 * g;
            for (int h = 0; h < 16; h += L) {     // one pass at 512 bits, two at 256
                IntVector s0 = IntVector.zero(I), s1 = s0;
                for (int j = 0; j < 8; j++) {
                    IntVector c = (IntVector) ByteVector.fromArray(B, w, p + 128 + 16 * j + h).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    s0 = s0.add(c.or(c.lanewise(VectorOperators.LSHL, 12)).and(0x000F000F).mul(IntVector.fromArray(I, xt, 256 * g + 16 * j + h)));
                }
                for (int j = 8; j < 16; j++) {
                    IntVector c = (IntVector) ByteVector.fromArray(B, w, p + 128 + 16 * j + h).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    s1 = s1.add(c.or(c.lanewise(VectorOperators.LSHL, 12)).and(0x000F000F).mul(IntVector.fromArray(I, xt, 256 * g + 16 * j + h)));
                }
                IntVector s = s0.add(0x8000).lanewise(VectorOperators.ASHR, 16).add(s1.add(0x8000).lanewise(VectorOperators.ASHR, 16));
                FloatVector d = ByteVector.fromArray(Simd.B4, w, p + 4 * h).reinterpretAsFloats();
                FloatVector m = ByteVector.fromArray(Simd.B4, w, p + 64 + 4 * h).reinterpretAsFloats();
                acc = ((FloatVector) s.convert(VectorOperators.I2F, 0)).fma(d.mul(FloatVector.fromArray(F, d32, 16 * g + h)), acc);
                acc = acc.sub(m.mul(FloatVector.fromArray(F, dsum32, 16 * g + h)));
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** Q4_K ({@code q5 = false}, 144-byte blocks) or Q5_K (176-byte blocks) against a Q8_K activation. */
    static float q45_K(MemorySegment w, long off, int blockBytes, boolean q5, byte[] qx, float[] dx, int[] bsums, int n) {
        float s = 0;
        for (int b = 0; b < n / 256; b++) {
            long p = off + (long) blockBytes * b;
            long lo = w.get(I64, p + 4);
            int hi = w.get(I32, p + 12);
            int sumi = q5 ? q5_KInts(w, p, lo, hi, qx, 256 * b) : q4_KInts(w, p, lo, hi, qx, 256 * b);
            int summ = 0;
            for (int j = 0; j < 4; j++) {
                summ += RowDot.m03(lo, j) * (bsums[16 * b + 2 * j] + bsums[16 * b + 2 * j + 1]);
                summ += RowDot.m47(lo, hi, j) * (bsums[16 * b + 8 + 2 * j] + bsums[16 * b + 8 + 2 * j + 1]);
            }
            s += dx[b] * f16(w, p) * sumi - dx[b] * f16(w, p + 2) * summ;
        }
        return s;
    }

    /** {@code sum_j sc_j sum(q_w q_x)} over one Q4_K block at p, against activation quants from {@code xe}. */
    private static int q4_KInts(MemorySegment w, long p, long lo, int hi, byte[] qx, int xe) {
        IntVector acc = IntVector.zero(I);
        for (int h = 0; h < 2; h++) {
            long q = p + 16 + 64 * h;
            int xh = xe + 128 * h;
            IntVector s0 = IntVector.zero(I), s1 = s0, s2 = s0, s3 = s0;
            for (int k = 0; k < 32; k += L) {
                IntVector qa = (IntVector) ByteVector.fromMemorySegment(B, w, q + k, LE).convertShape(VectorOperators.B2I, I, 0);
                IntVector qb = (IntVector) ByteVector.fromMemorySegment(B, w, q + 32 + k, LE).convertShape(VectorOperators.B2I, I, 0);
                s0 = s0.add(qa.and(0x0F).mul((IntVector) ByteVector.fromArray(B, qx, xh + k).convertShape(VectorOperators.B2I, I, 0)));
                s1 = s1.add(qa.lanewise(VectorOperators.LSHR, 4).and(0x0F).mul((IntVector) ByteVector.fromArray(B, qx, xh + 32 + k).convertShape(VectorOperators.B2I, I, 0)));
                s2 = s2.add(qb.and(0x0F).mul((IntVector) ByteVector.fromArray(B, qx, xh + 64 + k).convertShape(VectorOperators.B2I, I, 0)));
                s3 = s3.add(qb.lanewise(VectorOperators.LSHR, 4).and(0x0F).mul((IntVector) ByteVector.fromArray(B, qx, xh + 96 + k).convertShape(VectorOperators.B2I, I, 0)));
            }
            acc = acc.add(s0.mul(h == 0 ? RowDot.sc03(lo, 0) : RowDot.sc47(lo, hi, 0)))
                    .add(s1.mul(h == 0 ? RowDot.sc03(lo, 1) : RowDot.sc47(lo, hi, 1)))
                    .add(s2.mul(h == 0 ? RowDot.sc03(lo, 2) : RowDot.sc47(lo, hi, 2)))
                    .add(s3.mul(h == 0 ? RowDot.sc03(lo, 3) : RowDot.sc47(lo, hi, 3)));
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** As {@link #q4_KInts} for a Q5_K block (the fifth bits in bits 4h .. 4h + 3 of the 32 qh bytes). */
    private static int q5_KInts(MemorySegment w, long p, long lo, int hi, byte[] qx, int xe) {
        IntVector acc = IntVector.zero(I);
        for (int h = 0; h < 2; h++) {
            long q = p + 48 + 64 * h;
            int xh = xe + 128 * h;
            IntVector s0 = IntVector.zero(I), s1 = s0, s2 = s0, s3 = s0;
            for (int k = 0; k < 32; k += L) {
                IntVector qa = (IntVector) ByteVector.fromMemorySegment(B, w, q + k, LE).convertShape(VectorOperators.B2I, I, 0);
                IntVector qb = (IntVector) ByteVector.fromMemorySegment(B, w, q + 32 + k, LE).convertShape(VectorOperators.B2I, I, 0);
                IntVector hb = ((IntVector) ByteVector.fromMemorySegment(B, w, p + 16 + k, LE).convertShape(VectorOperators.B2I, I, 0))
                        .lanewise(VectorOperators.LSHR, 4 * h);
                IntVector w0 = qa.and(0x0F).or(hb.and(1).lanewise(VectorOperators.LSHL, 4));
                IntVector w1 = qa.lanewise(VectorOperators.LSHR, 4).and(0x0F).or(hb.and(2).lanewise(VectorOperators.LSHL, 3));
                IntVector w2 = qb.and(0x0F).or(hb.and(4).lanewise(VectorOperators.LSHL, 2));
                IntVector w3 = qb.lanewise(VectorOperators.LSHR, 4).and(0x0F).or(hb.and(8).lanewise(VectorOperators.LSHL, 1));
                s0 = s0.add(w0.mul((IntVector) ByteVector.fromArray(B, qx, xh + k).convertShape(VectorOperators.B2I, I, 0)));
                s1 = s1.add(w1.mul((IntVector) ByteVector.fromArray(B, qx, xh + 32 + k).convertShape(VectorOperators.B2I, I, 0)));
                s2 = s2.add(w2.mul((IntVector) ByteVector.fromArray(B, qx, xh + 64 + k).convertShape(VectorOperators.B2I, I, 0)));
                s3 = s3.add(w3.mul((IntVector) ByteVector.fromArray(B, qx, xh + 96 + k).convertShape(VectorOperators.B2I, I, 0)));
            }
            acc = acc.add(s0.mul(h == 0 ? RowDot.sc03(lo, 0) : RowDot.sc47(lo, hi, 0)))
                    .add(s1.mul(h == 0 ? RowDot.sc03(lo, 1) : RowDot.sc47(lo, hi, 1)))
                    .add(s2.mul(h == 0 ? RowDot.sc03(lo, 2) : RowDot.sc47(lo, hi, 2)))
                    .add(s3.mul(h == 0 ? RowDot.sc03(lo, 3) : RowDot.sc47(lo, hi, 3)));
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    static float q6_K(MemorySegment w, long off, byte[] qx, float[] dx, int n) {
        float s = 0;
        for (int b = 0; b < n / 256; b++) {
            long p = off + 210L * b;
            int sumi = 0;
            for (int half = 0; half < 2; half++) {
                for (int k = 0; k < 32; k += 16) {
                    sumi += q6_KQuarter(w, p + 64 * half + k, p + 128 + 32 * half + k, p + 192 + 8 * half + k / 16,
                            qx, 256 * b + 128 * half + k);
                }
            }
            s += dx[b] * f16(w, p + 208) * sumi;
        }
        return s;
    }

    /**
     * {@code sum_g sc_g sum((q_w - 32) q_x)} over 64 elements of a Q6_K block: for l in [0, 16) the elements l,
     * l + 32, l + 64, l + 96 after activation element {@code xe}, each group of 16 with its own scale.
     */
    private static int q6_KQuarter(MemorySegment w, long ql, long qh, long sc, byte[] qx, int xe) {
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
        IntVector t = s1.mul(w.get(ValueLayout.JAVA_BYTE, sc)).add(s2.mul(w.get(ValueLayout.JAVA_BYTE, sc + 2)))
                .add(s3.mul(w.get(ValueLayout.JAVA_BYTE, sc + 4))).add(s4.mul(w.get(ValueLayout.JAVA_BYTE, sc + 6)));
        return t.reduceLanes(VectorOperators.ADD);
    }

    /**
     * Scalar twin, from the definitions: each weight group's integer quants times the activation's, summed exactly
     * in int (over a block of 32, or with the sub-block scales over a super-block of 256), then scaled by
     * {@code d_w d_x}; the min terms likewise; blocks accumulated in double.
     */
    public static float dotScalar(GGMLType type, MemorySegment w, long off, Q8Activation a) {
        if (a.format != Q8Activation.formatFor(type)) throw new IllegalArgumentException("activation format " + a.format + " for " + type);
        double acc = 0;
        int n = a.n;
        switch (type) {
            case Q8_0, Q4_0, Q4_1 -> {
                for (int b = 0; b < n / 32; b++) {
                    long p = off + (long) type.typeSize * b;
                    int s = 0;
                    for (int j = 0; j < 32; j++) s += smallQuant(type, w, p, j) * a.q[32 * b + j];
                    acc += (double) (f16(w, p) * a.d[b]) * s;
                    if (type == GGMLType.Q4_1) acc += f16(w, p + 2) * a.s[b];
                }
            }
            case Q4_K, Q5_K -> {
                for (int b = 0; b < n / 256; b++) {
                    long p = off + (long) type.typeSize * b;
                    int sumi = 0, summ = 0;
                    for (int j = 0; j < 8; j++) {
                        int s = 0;
                        for (int l = 0; l < 32; l++) s += kQuant(type, w, p, 32 * j + l) * a.q[256 * b + 32 * j + l];
                        sumi += RowDot.scaleMin(w, p + 4, j, 0) * s;
                        summ += RowDot.scaleMin(w, p + 4, j, 1) * (a.bsums[16 * b + 2 * j] + a.bsums[16 * b + 2 * j + 1]);
                    }
                    acc += (double) (a.d[b] * f16(w, p)) * sumi - (double) (a.d[b] * f16(w, p + 2)) * summ;
                }
            }
            case Q4_K_R -> {
                for (int t = 0; t < n / 32; t++) {
                    long p = off + 24L * t;
                    int s = 0;
                    for (int j = 0; j < 16; j++) {
                        int c = Simd.u8(w, p + 8 + j);
                        s += (c & 0xF) * a.q[32 * t + j] + (c >> 4) * a.q[32 * t + 16 + j];
                    }
                    float dx = a.d[t / 8];
                    acc += (double) (w.get(Simd.F32, p) * dx) * s
                            - (double) (w.get(Simd.F32, p + 4) * dx) * (a.bsums[2 * t] + a.bsums[2 * t + 1]);
                }
            }
            case Q4_0_R -> {
                for (int b = 0; b < n / 32; b++) {
                    long p = off + 288L * (b / 16);
                    int i = b % 16, s = 0;
                    for (int j = 0; j < 16; j++) {
                        int c = Simd.u8(w, p + 32 + 16 * j + i);
                        s += ((c & 0xF) - 8) * a.q[32 * b + j] + ((c >> 4) - 8) * a.q[32 * b + 16 + j];
                    }
                    acc += (double) (f16(w, p + 2 * i) * a.d[b]) * s;
                }
            }
            case Q4_K_R16 -> {
                for (int t = 0; t < n / 32; t++) {
                    long p = off + 384L * (t / 16);
                    int i = t % 16, s = 0;
                    for (int j = 0; j < 16; j++) {
                        int c = Simd.u8(w, p + 128 + 16 * j + i);
                        s += (c & 0xF) * a.q[32 * t + j] + (c >> 4) * a.q[32 * t + 16 + j];
                    }
                    float dx = a.d[t / 8];
                    acc += (double) (w.get(Simd.F32, p + 4 * i) * dx) * s
                            - (double) (w.get(Simd.F32, p + 64 + 4 * i) * dx) * (a.bsums[2 * t] + a.bsums[2 * t + 1]);
                }
            }
            case Q8_0_R -> {
                for (int b = 0; b < n / 32; b++) {
                    long p = off + 544L * (b / 16);
                    int i = b % 16, s = 0;
                    for (int j = 0; j < 32; j++) s += w.get(ValueLayout.JAVA_BYTE, p + 32 + 16 * j + i) * a.q[32 * b + j];
                    acc += (double) (f16(w, p + 2 * i) * a.d[b]) * s;
                }
            }
            case Q6_K -> {
                for (int b = 0; b < n / 256; b++) {
                    long p = off + 210L * b;
                    int sumi = 0;
                    for (int g = 0; g < 16; g++) {   // 16 groups of 16 elements, element order of dequantize_row_q6_K
                        int s = 0;
                        for (int l = 0; l < 16; l++) s += q6Quant(w, p, 16 * g + l) * a.q[256 * b + 16 * g + l];
                        sumi += w.get(ValueLayout.JAVA_BYTE, p + 192 + g) * s;
                    }
                    acc += (double) (a.d[b] * f16(w, p + 208)) * sumi;
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
