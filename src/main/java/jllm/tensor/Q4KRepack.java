package jllm.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Q4_K weights repacked into {@link GGMLType#Q4_K_R}, the layout jllm's decoding kernel reads fastest: per 32-element
 * sub-block the float scale {@code d * sc_j} and min {@code dmin * m_j} (decoded once here instead of from the 12 packed
 * scale bytes at every product) and the 16 nibble bytes re-paired so that byte k holds elements k and k + 16 of the
 * same sub-block (Q4_K pairs element k of sub-block 2g with element k of sub-block 2g + 1). The values are unchanged:
 * {@code d * sc_j * q - dmin * m_j} is exactly what ggml's {@code dequantize_row_q4_K} computes, since an f16 times a
 * 6-bit integer is exact in float.
 *
 * <p>Why: on this project's benchmark machine the Q4_K int8 kernel decoded 4.1 GB/s of Q4_K on one core and the
 * repacked one 8.1-8.5 (8192 x 2048 rows of the 1B file's FFN matrices, alternated in one process). The price is memory:
 * 192 bytes per 256 weights instead of 144 (6 bits per weight instead of 4.5); the engine drops the file's pages of a
 * repacked tensor from its resident set, so the file's share is replaced, not doubled.
 *
 * <p>{@link GGMLType#Q4_K_R16} ({@link #interleave}) goes one step further, as {@link BlockInterleave} does for Q4_0:
 * 16 consecutive Q4_K_R sub-blocks of a row (512 weights) hold their 16 scales, their 16 mins, then byte j of each
 * sub-block side by side (byte j of sub-block i at {@code 128 + 16 j + i}), in a Java byte array, so that the kernel
 * sums 16 sub-blocks per vector and applies their scales and mins as vectors. Rows must be whole 512-weight groups
 * (Llama's widths are; a row of an odd number of super-blocks, such as 11008, keeps Q4_K_R).
 */
public final class Q4KRepack {
    private Q4KRepack() {}

    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long LOW = 0x0F0F0F0F0F0F0F0FL, HIGH = 0xF0F0F0F0F0F0F0F0L;

    /** A Q4_K_R tensor of {@code q4k}'s shape in fresh native memory of {@code arena}, its rows not yet filled. */
    public static Tensor allocate(Tensor q4k, Arena arena) {
        if (q4k.type() != GGMLType.Q4_K) throw new IllegalArgumentException(q4k.name() + " is " + q4k.type() + ", not Q4_K");
        MemorySegment dst = AnonymousMemory.allocate(GGMLType.Q4_K_R.bytes(q4k.numElements()), arena);   // first touched by the workers
        return Tensor.of(q4k.name(), GGMLType.Q4_K_R, dst, q4k.ne());
    }

    /** Repacks rows [from, to) of {@code q4k} into {@code out} (made by {@link #allocate}); disjoint ranges may run in parallel. */
    public static void repackRows(Tensor q4k, Tensor out, int from, int to) {
        MemorySegment src = q4k.data(), dst = out.data();
        int blocks = q4k.cols() / 256;
        for (int r = from; r < to; r++) {
            for (int b = 0; b < blocks; b++) block(src, q4k.rowOffset(r) + 144L * b, dst, out.rowOffset(r) + 192L * b);
        }
    }

    /** The whole tensor, on the calling thread. */
    public static Tensor repack(Tensor q4k, Arena arena) {
        Tensor out = allocate(q4k, arena);
        repackRows(q4k, out, 0, q4k.rows());
        return out;
    }

    /** Whether {@code t} can be held as {@link GGMLType#Q4_K_R16}: a Q4_K matrix of whole 512-weight rows that fits one array. */
    public static boolean interleavable(Tensor t) {
        return t.type() == GGMLType.Q4_K && t.cols() % 512 == 0 && GGMLType.Q4_K_R16.bytes(t.numElements()) <= BlockInterleave.MAX_BYTES;
    }

    /** The whole tensor as Q4_K_R16 on a fresh heap array, on the calling thread. */
    public static Tensor interleave(Tensor q4k) {
        if (!interleavable(q4k)) {
            throw new IllegalArgumentException(q4k.name() + " (" + q4k.type() + ", " + q4k.cols() + " columns) cannot be held as "
                    + "Q4_K_R16: it needs Q4_K rows of a multiple of 512 weights in one array");
        }
        byte[] dst = new byte[(int) GGMLType.Q4_K_R16.bytes(q4k.numElements())];
        byte[] pair = new byte[384];   // two super-blocks as Q4_K_R: 16 sub-blocks of 24 bytes
        MemorySegment tmp = MemorySegment.ofArray(pair);
        int groups = q4k.cols() / 512;
        for (int r = 0; r < q4k.rows(); r++) {
            for (int g = 0; g < groups; g++) {
                long p = q4k.rowOffset(r) + 288L * g;
                block(q4k.data(), p, tmp, 0);
                block(q4k.data(), p + 144, tmp, 192);
                group16(pair, dst, 384 * (r * groups + g));   // fits: the array is at most MAX_BYTES
            }
        }
        return Tensor.of(q4k.name(), GGMLType.Q4_K_R16, MemorySegment.ofArray(dst), q4k.ne());
    }

    /** Sixteen 24-byte Q4_K_R sub-blocks ({@code r}) into one 384-byte Q4_K_R16 group at {@code dst[o]}. */
    static void group16(byte[] r, byte[] dst, int o) {
        for (int i = 0; i < 16; i++) {
            System.arraycopy(r, 24 * i, dst, o + 4 * i, 4);            // d, little-endian float
            System.arraycopy(r, 24 * i + 4, dst, o + 64 + 4 * i, 4);   // m
            for (int j = 0; j < 16; j++) dst[o + 128 + 16 * j + i] = r[24 * i + 8 + j];
        }
    }

    /** One 144-byte Q4_K super-block at {@code p} into eight 24-byte Q4_K_R sub-blocks at {@code o}. */
    static void block(MemorySegment src, long p, MemorySegment dst, long o) {
        float d = DequantizeScalar.f16(src, p), dmin = DequantizeScalar.f16(src, p + 2);
        for (int g = 0; g < 4; g++) {
            // 32 bytes at q: byte l holds element l of sub-block 2g (low nibble) and of sub-block 2g + 1 (high nibble)
            long q = p + 16 + 32L * g;
            long lo = o + 48L * g, hi = lo + 24;
            dst.set(F32, lo, d * DequantizeScalar.scaleMinK4(src, p + 4, 2 * g, 0));
            dst.set(F32, lo + 4, dmin * DequantizeScalar.scaleMinK4(src, p + 4, 2 * g, 1));
            dst.set(F32, hi, d * DequantizeScalar.scaleMinK4(src, p + 4, 2 * g + 1, 0));
            dst.set(F32, hi + 4, dmin * DequantizeScalar.scaleMinK4(src, p + 4, 2 * g + 1, 1));
            for (int k = 0; k < 16; k += 8) {
                long a = src.get(I64, q + k), b = src.get(I64, q + 16 + k);   // elements k.., and k + 16..
                dst.set(I64, lo + 8 + k, (a & LOW) | (b & LOW) << 4);
                dst.set(I64, hi + 8 + k, (a >>> 4 & LOW) | (b & HIGH));
            }
        }
    }
}
