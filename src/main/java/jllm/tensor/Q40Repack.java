package jllm.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Q4_0 weights repacked into {@link GGMLType#Q4_0_R}, the layout jllm's decoding kernel reads fastest: each run of 16
 * consecutive blocks of a row (512 weights, 288 bytes, as in the file) becomes their 16 f16 scales followed by 16 rows
 * of 16 bytes, row j holding byte j of each block ({@code 32 + 16 j + i} is byte j of block i). A 16-byte load then
 * widens to one weight pair (elements j and j + 16) of 16 blocks, one per 32-bit lane, so the int8 kernel
 * ({@code RowDotInt8.q4_0R}) sums 16 blocks at once and applies their 16 scales in one vector multiply at the end,
 * instead of handling one scale per block. The bytes and values are unchanged, only their order.
 *
 * <p>The repacked tensor lives in a Java {@code byte[]}: the kernel reads it with {@code ByteVector.fromArray}, whose
 * bounds checks the JIT hoists out of the loop, where a native segment's load also checks its arena's liveness at every
 * access (C2 keeps that check inside the loop). On the benchmark machine the kernel streamed 18.2-19.1 GB/s of Q4_0 on
 * one core from such an array, 11-12 GB/s the file's layout from the mapping and 11 GB/s the repacked layout from
 * native memory (a scratch harness over the 1B file's FFN rows, bench/README.md section 7, "late night").
 *
 * <p>Preconditions ({@link #eligible}): a row is a whole number of 512-weight groups (Llama widths are), the tensor
 * fits one array, and (checked while repacking) every scale is finite, which the kernel's fast half decoding assumes.
 */
public final class Q40Repack {
    private Q40Repack() {}

    /** The largest array the JVM allocates, with room to spare. */
    static final long MAX_BYTES = Integer.MAX_VALUE - 64;

    /** Whether {@code t} is a Q4_0 matrix that can be repacked: rows of whole 512-weight groups, one array's size. */
    public static boolean eligible(Tensor t) {
        return t.type() == GGMLType.Q4_0 && t.cols() % GGMLType.Q4_0_R.blockSize == 0 && t.fileBytes() <= MAX_BYTES;
    }

    /** A Q4_0_R tensor of {@code q40}'s shape on a fresh heap array, its rows not yet filled. */
    public static Tensor allocate(Tensor q40) {
        if (!eligible(q40)) {
            throw new IllegalArgumentException(q40.name() + " (" + q40.type() + ", " + q40.cols() + " columns, " + q40.fileBytes()
                    + " bytes) cannot be repacked to Q4_0_R: it needs Q4_0 rows of a multiple of 512 weights in one array");
        }
        byte[] a = new byte[(int) GGMLType.Q4_0_R.bytes(q40.numElements())];
        return Tensor.of(q40.name(), GGMLType.Q4_0_R, MemorySegment.ofArray(a), q40.ne());
    }

    /**
     * Repacks rows [from, to) of {@code q40} into {@code out} (made by {@link #allocate}); disjoint ranges may run in
     * parallel. Returns false if a block scale was Inf or NaN (the rows are still written; the tensor must not be used).
     */
    public static boolean repackRows(Tensor q40, Tensor out, int from, int to) {
        MemorySegment src = q40.data();
        byte[] dst = out.heapBytes();
        if (dst == null) throw new IllegalArgumentException(out.name() + " is not on a heap array (see allocate)");
        int groups = q40.cols() / 512, base = out.heapOffset();
        byte[] blocks = new byte[288];
        boolean finite = true;
        for (int r = from; r < to; r++) {
            for (int g = 0; g < groups; g++) {
                MemorySegment.copy(src, ValueLayout.JAVA_BYTE, q40.rowOffset(r) + 288L * g, blocks, 0, 288);
                finite &= group(blocks, dst, Math.toIntExact(base + out.rowOffset(r) + 288L * g));
            }
        }
        return finite;
    }

    /** The whole tensor, on the calling thread; refuses a tensor with a non-finite scale. */
    public static Tensor repack(Tensor q40) {
        Tensor out = allocate(q40);
        if (!repackRows(q40, out, 0, q40.rows())) throw new IllegalArgumentException(q40.name() + " has an Inf or NaN block scale");
        return out;
    }

    /** Sixteen 18-byte Q4_0 blocks (288 bytes in {@code blocks}) into one Q4_0_R group at {@code dst[o]}; false if a scale is not finite. */
    static boolean group(byte[] blocks, byte[] dst, int o) {
        boolean finite = true;
        for (int i = 0; i < 16; i++) {
            dst[o + 2 * i] = blocks[18 * i];
            dst[o + 2 * i + 1] = blocks[18 * i + 1];
            finite &= (blocks[18 * i + 1] & 0x7C) != 0x7C;   // the half's exponent bits, in its high byte
        }
        for (int j = 0; j < 16; j++) {
            for (int i = 0; i < 16; i++) dst[o + 32 + 16 * j + i] = blocks[18 * i + 2 + j];
        }
        return finite;
    }

    /** As {@link #group(byte[], byte[], int)} between segments (for {@code Quantize}). */
    static boolean group(MemorySegment src, long p, MemorySegment dst, long o) {
        byte[] in = new byte[288], out = new byte[288];
        MemorySegment.copy(src, ValueLayout.JAVA_BYTE, p, in, 0, 288);
        boolean finite = group(in, out, 0);
        MemorySegment.copy(out, 0, dst, ValueLayout.JAVA_BYTE, o, 288);
        return finite;
    }
}
