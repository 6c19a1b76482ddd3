package jllm.tensor;

/**
 * The tensor element types of GGML/GGUF that jllm reads, with their on-disk block layout.
 *
 * <p>Spec: ggml's {@code ggml_type} enum and {@code ggml_type_traits} (block size in elements,
 * bytes per block). A block-quantized row of {@code n} elements occupies {@code n / blockSize * typeSize}
 * bytes; {@code n} must be a multiple of the block size.
 *
 * <pre>
 *   type  id  block  bytes   layout of one block
 *   F32    0      1      4   float
 *   F16    1      1      2   IEEE half
 *   Q4_0   2     32     18   f16 d; u8 qs[16]            x = d * (q - 8)
 *   Q4_1   3     32     20   f16 d, m; u8 qs[16]         x = d * q + m
 *   Q8_0   8     32     34   f16 d; i8 qs[32]            x = d * q
 *   Q4_K  12    256    144   f16 d, dmin; u8 scales[12]; u8 qs[128]
 *   Q5_K  13    256    176   f16 d, dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]
 *   Q6_K  14    256    210   u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d
 *   BF16  30      1      2   bfloat16
 *   Q4_K_R  -    256    192   8 sub-blocks of 32: f32 d, m; u8 qs[16]   x = d * q - m   (jllm's in-memory layout)
 *   Q4_0_R  -    512    288   16 Q4_0 blocks: f16 d[16]; u8 qs[16][16], byte j of block i at 16 j + i   (in memory)
 *   Q8_0_R  -    512    544   16 Q8_0 blocks: f16 d[16]; i8 qs[32][16], byte j of block i at 16 j + i   (in memory)
 *   Q4_K_R16 -   512    384   16 Q4_K_R sub-blocks: f32 d[16], m[16]; u8 qs[16][16], byte j of sub-block i at 16 j + i
 * </pre>
 *
 * <p>{@link #Q4_K_R} is not a file type (its id is -1; {@link #fromId} never returns it, writers refuse it): it is Q4_K
 * repacked at load time for the decoding kernels ({@code jllm.tensor.Q4KRepack}), each 32-element sub-block with its
 * scale {@code d * sc} and min {@code dmin * m} decoded to floats (exactly: an f16 times a 6-bit integer) and its
 * nibbles paired as in Q4_0 (byte j holds element j low and element j + 16 high), so that one byte widens to the
 * weight pair of the paired-product kernel.
 *
 * <p>{@link #Q4_0_R} (id -2, in memory only, like Q4_K_R) is Q4_0 with 16 consecutive blocks of a row interleaved
 * ({@code jllm.tensor.BlockInterleave}): their 16 scales first, then byte j of the 16 blocks side by side, so that one
 * 16-byte load gives one weight pair of each block and a 16-lane vector holds 16 blocks' partial sums. Same bytes per
 * weight as Q4_0. {@link #Q8_0_R} (id -3) is Q8_0 interleaved the same way, and {@link #Q4_K_R16} (id -4) is Q4_K_R's
 * 32-element sub-blocks interleaved 16 at a time ({@code jllm.tensor.Q4KRepack#interleave}): their 16 float scales, their 16
 * float mins, then byte j of the 16 sub-blocks side by side.
 */
public enum GGMLType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 18),
    Q4_1(3, 32, 20),
    Q8_0(8, 32, 34),
    Q4_K(12, 256, 144),
    Q5_K(13, 256, 176),
    Q6_K(14, 256, 210),
    BF16(30, 1, 2),
    Q4_K_R(-1, 256, 192),
    Q4_0_R(-2, 512, 288),
    Q8_0_R(-3, 512, 544),
    Q4_K_R16(-4, 512, 384);

    /** GGML's numeric id, as stored in GGUF tensor infos. */
    public final int id;
    /** Elements per block. */
    public final int blockSize;
    /** Bytes per block. */
    public final int typeSize;

    GGMLType(int id, int blockSize, int typeSize) {
        this.id = id;
        this.blockSize = blockSize;
        this.typeSize = typeSize;
    }

    /** Bytes that {@code nElements} of this type occupy; {@code nElements} must be a multiple of the block size. */
    public long bytes(long nElements) {
        if (nElements < 0 || nElements % blockSize != 0) {
            throw new IllegalArgumentException(
                    name() + ": element count " + nElements + " is not a non-negative multiple of block size " + blockSize);
        }
        return Math.multiplyExact(nElements / blockSize, (long) typeSize);
    }

    /** Bits per weight including block scales, e.g. 8.5 for Q8_0 and 4.5 for Q4_0 and Q4_K. */
    public double bitsPerWeight() {
        return 8.0 * typeSize / blockSize;
    }

    public boolean isQuantized() {
        return blockSize > 1;
    }

    /**
     * The file type this type's tensors come from: Q4_K for {@link #Q4_K_R} and {@link #Q4_K_R16}, Q4_0 for
     * {@link #Q4_0_R}, Q8_0 for {@link #Q8_0_R}, else the type itself.
     */
    public GGMLType fileType() {
        return switch (this) {
            case Q4_K_R, Q4_K_R16 -> Q4_K;
            case Q4_0_R -> Q4_0;
            case Q8_0_R -> Q8_0;
            default -> this;
        };
    }

    /**
     * Whether this is one of jllm's interleaved in-memory types ({@link #Q4_0_R}, {@link #Q8_0_R}, {@link #Q4_K_R16}),
     * whose tensors are held in Java byte arrays and whose kernels read 16 blocks per vector.
     */
    public boolean isInterleaved() {
        return this == Q4_0_R || this == Q8_0_R || this == Q4_K_R16;
    }

    /** Whether GGUF files may hold this type (every type but jllm's in-memory {@link #Q4_K_R} and interleaved types). */
    public boolean isFileType() {
        return fileType() == this;
    }

    /** The type with GGML id {@code id}, or an exception naming the id when jllm does not support it. */
    public static GGMLType fromId(int id) {
        for (GGMLType t : values()) {
            if (t.id == id && t.isFileType()) return t;
        }
        throw new IllegalArgumentException("unsupported GGML tensor type id " + id
                + " (jllm reads F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K)");
    }
}
