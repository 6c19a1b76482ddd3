package jllm.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Q4_0 and Q8_0 weights repacked into {@link GGMLType#Q4_0_R} and {@link GGMLType#Q8_0_R}, the layouts jllm's decoding
 * kernels read fastest: each run of 16 consecutive blocks of a row (512 weights, as many bytes as in the file) becomes
 * their 16 f16 scales followed by the blocks' quant bytes interleaved, byte j of block i at {@code 32 + 16 j + i}. A
 * 16-byte load then widens to byte j of 16 blocks, one block per 32-bit lane, so the int8 kernels
 * ({@code RowDotInt8.q4_0R}, {@code q8_0R}) sum 16 blocks at once and apply their 16 scales in one vector multiply at
 * the end, instead of handling one scale per block. The bytes and values are unchanged, only their order.
 *
 * <p>The repacked tensor lives in a Java {@code byte[]}: the kernels read it with {@code ByteVector.fromArray}, whose
 * bounds checks the JIT hoists out of the loop, where a native segment's load also checks its arena's liveness at every
 * access (C2 keeps that check inside the loop). On the benchmark machine, one core, over the 1B files' FFN rows
 * (scratch harnesses, bench/README.md section 7): Q4_0 streamed 18.2-19.1 GB/s from such an array against 11-12 GB/s
 * in the file's layout from the mapping and 11 GB/s repacked in native memory; Q8_0 24.7-26.4 GB/s against 12.2-14.4.
 *
 * <p>Preconditions ({@link #eligible}): a row is a whole number of 512-weight groups (Llama widths are), the tensor
 * fits one array, and (checked while repacking) every scale is finite, which the kernels' fast half decoding assumes.
 */
public final class BlockInterleave {
    private BlockInterleave() {}

    /** The largest array the JVM allocates, with room to spare. */
    static final long MAX_BYTES = Integer.MAX_VALUE - 64;

    /** The interleaved type of file type {@code type} (Q4_0_R for Q4_0, Q8_0_R for Q8_0), or null if it has none. */
    public static GGMLType interleaved(GGMLType type) {
        return switch (type) {
            case Q4_0 -> GGMLType.Q4_0_R;
            case Q8_0 -> GGMLType.Q8_0_R;
            default -> null;
        };
    }

    /** Whether {@code t} is a Q4_0 or Q8_0 matrix that can be repacked: rows of whole 512-weight groups, one array's size. */
    public static boolean eligible(Tensor t) {
        return interleaved(t.type()) != null && t.cols() % 512 == 0 && t.fileBytes() <= MAX_BYTES;
    }

    /** An interleaved tensor of {@code src}'s shape on a fresh heap array, its rows not yet filled. */
    public static Tensor allocate(Tensor src) {
        if (!eligible(src)) {
            throw new IllegalArgumentException(src.name() + " (" + src.type() + ", " + src.cols() + " columns, " + src.fileBytes()
                    + " bytes) cannot be interleaved: it needs Q4_0 or Q8_0 rows of a multiple of 512 weights in one array");
        }
        GGMLType type = interleaved(src.type());
        byte[] a = new byte[(int) type.bytes(src.numElements())];
        return Tensor.of(src.name(), type, MemorySegment.ofArray(a), src.ne());
    }

    /**
     * Repacks rows [from, to) of {@code src} into {@code out} (made by {@link #allocate}); disjoint ranges may run in
     * parallel. Returns false if a block scale was Inf or NaN (the rows are still written; the tensor must not be used).
     */
    public static boolean repackRows(Tensor src, Tensor out, int from, int to) {
        byte[] dst = out.heapBytes();
        if (dst == null) throw new IllegalArgumentException(out.name() + " is not on a heap array (see allocate)");
        int groupBytes = out.type().typeSize, groups = src.cols() / 512, base = out.heapOffset();
        byte[] blocks = new byte[groupBytes];
        boolean finite = true;
        for (int r = from; r < to; r++) {
            for (int g = 0; g < groups; g++) {
                MemorySegment.copy(src.data(), ValueLayout.JAVA_BYTE, src.rowOffset(r) + (long) groupBytes * g, blocks, 0, groupBytes);
                finite &= group(blocks, dst, Math.toIntExact(base + out.rowOffset(r) + (long) groupBytes * g));
            }
        }
        return finite;
    }

    /** The whole tensor, on the calling thread; refuses a tensor with a non-finite scale. */
    public static Tensor repack(Tensor src) {
        Tensor out = allocate(src);
        if (!repackRows(src, out, 0, src.rows())) throw new IllegalArgumentException(src.name() + " has an Inf or NaN block scale");
        return out;
    }

    /**
     * Sixteen blocks of {@code blocks.length / 16} bytes each (an f16 scale, then the quant bytes: 18 for Q4_0, 34 for
     * Q8_0) into one interleaved group at {@code dst[o]}; false if a scale is not finite.
     */
    static boolean group(byte[] blocks, byte[] dst, int o) {
        int blockBytes = blocks.length / 16;
        boolean finite = true;
        for (int i = 0; i < 16; i++) {
            dst[o + 2 * i] = blocks[blockBytes * i];
            dst[o + 2 * i + 1] = blocks[blockBytes * i + 1];
            finite &= (blocks[blockBytes * i + 1] & 0x7C) != 0x7C;   // the half's exponent bits, in its high byte
        }
        for (int j = 0; j < blockBytes - 2; j++) {
            for (int i = 0; i < 16; i++) dst[o + 32 + 16 * j + i] = blocks[blockBytes * i + 2 + j];
        }
        return finite;
    }

    /** As {@link #group(byte[], byte[], int)} for a group of {@code groupBytes} bytes between segments (for {@code Quantize}). */
    static boolean group(MemorySegment src, long p, MemorySegment dst, long o, int groupBytes) {
        byte[] in = new byte[groupBytes], out = new byte[groupBytes];
        MemorySegment.copy(src, ValueLayout.JAVA_BYTE, p, in, 0, groupBytes);
        boolean finite = group(in, out, 0);
        MemorySegment.copy(out, 0, dst, ValueLayout.JAVA_BYTE, o, groupBytes);
        return finite;
    }
}
