package jllm.tensor.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import jllm.tensor.GGMLType;
import jllm.tensor.BlockInterleave;
import jllm.tensor.Q4KRepack;
import jllm.tensor.Tensor;

/** Random test tensors: quantized from Gaussian floats, or raw random block bytes with sane f16 scales. */
final class RandomTensors {
    private RandomTensors() {}

    static final GGMLType[] ALL = GGMLType.values();

    static float[] gaussian(Random rnd, int n, double sigma) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (rnd.nextGaussian() * sigma);
        return x;
    }

    /** A (rows, cols) tensor of {@code type} quantized from N(0, 1) floats by ggml's reference quantizer. */
    static Tensor quantized(Random rnd, GGMLType type, int rows, int cols) {
        return Tensor.quantize("w", type, gaussian(rnd, rows * cols, 1.0), cols, rows);
    }

    /**
     * A (rows, cols) tensor of {@code type} with uniformly random block bytes (every nibble, high bit and 6-bit
     * scale pattern), whose f16 scale fields are then set to random values in [-2, 2]; float types get random
     * N(0, 1) values; Q4_K_R is random Q4_K bytes repacked (its float scales are products of those), Q4_0_R and Q8_0_R
     * random Q4_0 and Q8_0 bytes interleaved, Q4_K_R16 random Q4_K bytes
     * interleaved.
     */
    static Tensor rawBytes(Random rnd, GGMLType type, int rows, int cols) {
        if (!type.isQuantized()) return quantized(rnd, type, rows, cols);
        if (type == GGMLType.Q4_K_R) return Q4KRepack.repack(rawBytes(rnd, GGMLType.Q4_K, rows, cols), Arena.ofAuto());
        if (type == GGMLType.Q4_K_R16) return Q4KRepack.interleave(rawBytes(rnd, GGMLType.Q4_K, rows, cols));
        if (type == GGMLType.Q4_0_R || type == GGMLType.Q8_0_R) return BlockInterleave.repack(rawBytes(rnd, type.fileType(), rows, cols));
        long bytes = type.bytes((long) rows * cols);
        MemorySegment seg = Arena.ofAuto().allocate(bytes, 64);
        byte[] b = new byte[(int) bytes];
        rnd.nextBytes(b);
        MemorySegment.copy(b, 0, seg, ValueLayout.JAVA_BYTE, 0, b.length);
        var i16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        int[] halfFields = switch (type) {
            case Q8_0, Q4_0 -> new int[] {0};
            case Q4_1, Q4_K, Q5_K -> new int[] {0, 2};
            case Q6_K -> new int[] {208};
            default -> throw new IllegalStateException(type.name());
        };
        for (long blk = 0; blk < bytes; blk += type.typeSize) {
            for (int f : halfFields) {
                float v = (float) (rnd.nextDouble() * 4 - 2) * (type == GGMLType.Q6_K || type.blockSize == 256 ? 0.05f : 1f);
                seg.set(i16, blk + f, Float.floatToFloat16(v));
            }
        }
        return Tensor.of("raw", type, seg, cols, rows);
    }

    /** Column counts to test for a type: several multiples of its block size, and odd widths for unblocked types. */
    static int[] widths(GGMLType type) {
        return switch (type.blockSize) {
            case 1 -> new int[] {1, 7, 33, 100, 256, 1001};
            case 32 -> new int[] {32, 96, 288, 2048};
            case 512 -> new int[] {512, 1536, 2048};
            default -> new int[] {256, 768, 2048};
        };
    }
}
