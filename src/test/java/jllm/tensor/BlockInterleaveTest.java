package jllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

import jllm.format.gguf.GGUFWriter;
import jllm.tensor.kernels.Q8Activation;
import jllm.tensor.kernels.RowDotInt8;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link BlockInterleave}: Q4_0 and Q8_0 blocks with every byte random (all quants; the f16 scales random, including
 * subnormal and negative ones) interleaved into Q4_0_R and Q8_0_R must dequantize to the same floats bit for bit, and
 * their int8 dot products with a Q8_0 activation must equal the file layout's kernels up to the order of the float
 * additions (the integer sums are the same numbers; the Q4_0_R kernel defers the shift of its paired products to the
 * end of each 16-block group, the Q8_0_R kernel pairs signed bytes, which the extreme-quant cases below pin). A
 * hand-made group pins each layout itself.
 */
class BlockInterleaveTest {
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** A (rows, cols) Q4_0 or Q8_0 tensor of random bytes with random finite scales (subnormal, zero, +-[0, 2)). */
    static Tensor randomBlocks(Random rnd, GGMLType type, int rows, int cols) {
        long bytes = type.bytes((long) rows * cols);
        byte[] b = new byte[(int) bytes];
        rnd.nextBytes(b);
        MemorySegment seg = Arena.ofAuto().allocate(bytes, 64);
        MemorySegment.copy(b, 0, seg, ValueLayout.JAVA_BYTE, 0, b.length);
        for (long blk = 0; blk < bytes; blk += type.typeSize) {
            float d = switch (rnd.nextInt(8)) {
                case 0 -> 3e-6f * (rnd.nextBoolean() ? 1 : -1);   // a subnormal half
                case 1 -> 0f;
                default -> (float) (rnd.nextDouble() * 4 - 2);
            };
            seg.set(I16, blk, Float.floatToFloat16(d));
        }
        return Tensor.of("q", type, seg, cols, rows);
    }

    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q8_0"})
    void interleavedGroupsDequantizeToTheSameFloats(GGMLType fileType) {
        Random rnd = new Random(5);
        for (int cols : new int[] {512, 1536, 2048}) {
            Tensor q = randomBlocks(rnd, fileType, 7, cols);
            Tensor r = BlockInterleave.repack(q);
            assertThat(r.type()).isEqualTo(BlockInterleave.interleaved(fileType)).matches(GGMLType::isInterleaved);
            assertThat(r.type().fileType()).isEqualTo(fileType);
            assertThat(r.data().byteSize()).isEqualTo(q.data().byteSize());
            assertThat(r.heapBytes()).as("held in a heap array").isNotNull();
            assertThat(r.toFloatArray()).as("scalar, cols %d", cols).containsExactly(q.toFloatArray());
            float[] vector = new float[cols], want = new float[cols];
            for (int row = 0; row < 7; row++) {
                jllm.tensor.kernels.Dequantize.dequantize(vector, 0, r.type(), r.data(), r.rowOffset(row), cols);
                jllm.tensor.kernels.Dequantize.dequantize(want, 0, q.type(), q.data(), q.rowOffset(row), cols);
                assertThat(vector).as("vector, cols %d row %d", cols, row).containsExactly(want);
            }
            float[] part = new float[96];   // blocks 5..7 of row 2, as Sgemm's panels take them
            if (fileType == GGMLType.Q4_0) DequantizeScalar.q4_0RBlocks(part, 0, r.data(), r.rowOffset(2), 5, 3);
            else DequantizeScalar.q8_0RBlocks(part, 0, r.data(), r.rowOffset(2), 5, 3);
            float[] all = q.toFloatArray();
            for (int i = 0; i < 96; i++) assertThat(part[i]).isEqualTo(all[2 * cols + 160 + i]);
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q8_0"})
    void int8DotsEqualTheFileLayoutsKernelsUpToFloatRounding(GGMLType fileType) {
        Random rnd = new Random(6);
        Q8Activation a = new Q8Activation();
        double worst = 0;
        for (int cols : new int[] {512, 1536, 2048}) {
            Tensor q = randomBlocks(rnd, fileType, 9, cols);
            Tensor r = BlockInterleave.repack(q);
            float[] x = new float[cols];
            for (int i = 0; i < cols; i++) x[i] = (float) rnd.nextGaussian();
            a.quantize(Q8Activation.formatFor(r.type()), x, 0, cols);
            assertThat(a.format()).isEqualTo(Q8Activation.Format.Q8_0);   // the activation ggml pairs with Q4_0 and Q8_0
            worst = Math.max(worst, RepackedDots.worstAgainstFileLayout(q, r, a, 9));
        }
        System.out.printf("%s_R vs %s int8 kernels: max |diff| / sum|terms| = %.3g%n", fileType, fileType, worst);
        assertThat(worst).isLessThanOrEqualTo(1e-6);
    }

    /**
     * Q4_0_R: the bound the deferred shift relies on, at its edge: every weight quant 0 (q - 8 = -8) against activation
     * quants of +-127 with the signs chosen so that all 32 products of a block add up (32 * 8 * 127 = 32512), and so
     * that the low halves do too. Exact integer sums must come out.
     */
    @Test
    void extremeQ40QuantsSumExactly() {
        int cols = 512;
        MemorySegment seg = Arena.ofAuto().allocate(GGMLType.Q4_0.bytes(cols));
        for (int b = 0; b < 16; b++) seg.set(I16, 18L * b, Float.floatToFloat16(1f));   // all nibbles 0: q - 8 = -8
        Tensor r = BlockInterleave.repack(Tensor.of("edge", GGMLType.Q4_0, seg, cols));
        for (float sign : new float[] {1f, -1f}) {
            float[] x = new float[cols];
            java.util.Arrays.fill(x, sign);   // quantized to +-127 with d = 1/127
            Q8Activation a = new Q8Activation();
            a.quantize(Q8Activation.Format.Q8_0, x, 0, cols);
            float want = RowDotInt8.dotScalar(GGMLType.Q4_0_R, r.data(), 0, a);
            assertThat(want).isCloseTo(-8f * sign * cols, org.assertj.core.data.Offset.offset(0.05f * cols));
            assertThat(RowDotInt8.dot(GGMLType.Q4_0_R, r.data(), 0, a)).isEqualTo(want);
        }
    }

    /**
     * Q8_0_R: each step's pair (elements j and j + 16) at the bound of the 16-bit fields: quants of -128 (a file may hold
     * them, ggml's quantizer never writes them), +127 and -127 against activations of +-127 with the pair's signs equal
     * or opposite ({@code |u x + v y|} up to 2 * 128 * 127 = 32512 < 2^15). The kernel must equal the scalar twin's exact sums.
     */
    @Test
    void extremeQ80QuantsSumExactly() {
        int cols = 1024;
        for (int fill : new int[] {0x80, 0x7F, 0x81}) {
            MemorySegment seg = Arena.ofAuto().allocate(GGMLType.Q8_0.bytes(cols));
            seg.fill((byte) fill);
            for (int b = 0; b < cols / 32; b++) seg.set(I16, 34L * b, Float.floatToFloat16(1f));
            Tensor r = BlockInterleave.repack(Tensor.of("edge", GGMLType.Q8_0, seg, cols));
            for (int pattern = 0; pattern < jllm.tensor.SignPatterns.COUNT; pattern++) {
                float[] x = jllm.tensor.SignPatterns.of(cols, pattern);
                Q8Activation a = new Q8Activation();
                a.quantize(Q8Activation.Format.Q8_0, x, 0, cols);
                float want = RowDotInt8.dotScalar(GGMLType.Q8_0_R, r.data(), 0, a);
                assertThat(want).isEqualTo(RowDotInt8.dotScalar(GGMLType.Q8_0, seg, 0, a));
                assertThat(RowDotInt8.dot(GGMLType.Q8_0_R, r.data(), 0, a)).as("bytes 0x%02x pattern %d", fill, pattern)
                        .isCloseTo(want, org.assertj.core.data.Offset.offset(1e-6f * Math.abs(want)));
            }
        }
    }

    /** One Q4_0 group made by hand: block i has scale i + 1, byte j of block i holds (i + j) % 16 low and (i + 2j) % 16 high. */
    @Test
    void theQ40LayoutByHand() {
        MemorySegment q = Arena.ofAuto().allocate(288);
        for (int i = 0; i < 16; i++) {
            q.set(I16, 18L * i, Float.floatToFloat16(i + 1));
            for (int j = 0; j < 16; j++) q.set(ValueLayout.JAVA_BYTE, 18L * i + 2 + j, (byte) ((i + j) % 16 | ((i + 2 * j) % 16) << 4));
        }
        Tensor r = BlockInterleave.repack(Tensor.of("h", GGMLType.Q4_0, q, 512));
        MemorySegment p = r.data();
        for (int i = 0; i < 16; i++) {
            assertThat(Float.float16ToFloat(p.get(I16, 2L * i))).as("scale of block %d", i).isEqualTo(i + 1f);
            for (int j = 0; j < 16; j++) {
                assertThat(p.get(ValueLayout.JAVA_BYTE, 32 + 16L * j + i) & 0xFF).as("block %d byte %d", i, j)
                        .isEqualTo((i + j) % 16 | ((i + 2 * j) % 16) << 4);
            }
        }
    }

    /** One Q8_0 group made by hand: block i has scale -(i + 1), its quant j is 4 i - 3 j. */
    @Test
    void theQ80LayoutByHand() {
        MemorySegment q = Arena.ofAuto().allocate(544);
        for (int i = 0; i < 16; i++) {
            q.set(I16, 34L * i, Float.floatToFloat16(-(i + 1)));
            for (int j = 0; j < 32; j++) q.set(ValueLayout.JAVA_BYTE, 34L * i + 2 + j, (byte) (4 * i - 3 * j));
        }
        Tensor r = BlockInterleave.repack(Tensor.of("h", GGMLType.Q8_0, q, 512));
        assertThat(r.type()).isEqualTo(GGMLType.Q8_0_R);
        MemorySegment p = r.data();
        for (int i = 0; i < 16; i++) {
            assertThat(Float.float16ToFloat(p.get(I16, 2L * i))).as("scale of block %d", i).isEqualTo(-(i + 1f));
            for (int j = 0; j < 32; j++) {
                assertThat((int) p.get(ValueLayout.JAVA_BYTE, 32 + 16L * j + i)).as("block %d byte %d", i, j).isEqualTo(4 * i - 3 * j);
            }
        }
    }

    /** Tensor.quantize to Q4_0_R or Q8_0_R puts it on a heap array, so the int8 matVec path (which reads the array) takes it. */
    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q8_0"})
    void quantizedInterleavedItIsOnAHeapArrayTheInt8PathReads(GGMLType fileType) {
        float[] v = new float[512 * 3];
        Random rnd = new Random(8);
        for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextGaussian();
        GGMLType type = BlockInterleave.interleaved(fileType);
        Tensor r = Tensor.quantize("r", type, v, 512, 3), q = Tensor.quantize("q", fileType, v, 512, 3);
        assertThat(r.heapBytes()).isNotNull();
        assertThat(r.toFloatArray()).containsExactly(q.toFloatArray());
        float[] x = new float[512], out = new float[3], outT = new float[6];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        float[] x2 = new float[1024];
        System.arraycopy(x, 0, x2, 0, 512);
        for (int i = 512; i < 1024; i++) x2[i] = (float) rnd.nextGaussian();
        Q8Activation a = new Q8Activation(), a2 = new Q8Activation();
        a.quantize(Q8Activation.Format.Q8_0, x, 0, 512);
        a2.quantize(Q8Activation.Format.Q8_0, x2, 512, 512);
        try (jllm.tensor.kernels.WorkerPool pool = new jllm.tensor.kernels.WorkerPool(2)) {
            var mm = new jllm.tensor.kernels.MatMul(pool, jllm.tensor.kernels.MatMul.Path.INT8);
            mm.matVec(out, r, x);
            mm.matMul(outT, r, x2, 2);   // two tokens: [token][row]
        }
        for (int row = 0; row < 3; row++) {
            float want = RowDotInt8.dotScalar(fileType, q.data(), q.rowOffset(row), a);
            assertThat(out[row]).isCloseTo(want, org.assertj.core.data.Offset.offset(1e-4f));
            assertThat(outT[row]).isCloseTo(want, org.assertj.core.data.Offset.offset(1e-4f));
            assertThat(outT[3 + row]).isCloseTo(RowDotInt8.dotScalar(fileType, q.data(), q.rowOffset(row), a2),
                    org.assertj.core.data.Offset.offset(1e-4f));
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q8_0"})
    void ineligibleTensorsAreRefused(GGMLType fileType) {
        GGMLType type = BlockInterleave.interleaved(fileType);
        assertThat(type.isFileType()).isFalse();
        assertThat(type.fileType()).isEqualTo(fileType);
        assertThatThrownBy(() -> GGMLType.fromId(type.id)).hasMessageContaining("unsupported GGML tensor type id " + type.id);
        Tensor r = BlockInterleave.repack(randomBlocks(new Random(1), fileType, 1, 512));
        assertThatThrownBy(() -> new GGUFWriter().tensor("r", r.type(), r.ne(), r.data()))
                .hasMessageContaining(type + ", jllm's in-memory layout");
        // rows of 96 weights are whole blocks, but a group needs 512
        Tensor narrow = randomBlocks(new Random(2), fileType, 2, 96);
        assertThat(BlockInterleave.eligible(narrow)).isFalse();
        assertThatThrownBy(() -> BlockInterleave.repack(narrow)).hasMessageContaining("multiple of 512");
        assertThat(BlockInterleave.eligible(randomBlocks(new Random(2), fileType, 2, 1024))).isTrue();
        assertThat(BlockInterleave.interleaved(GGMLType.Q4_K)).isNull();
        // an Inf scale: the repacked tensor would decode it wrongly, so it is refused
        Tensor inf = randomBlocks(new Random(3), fileType, 1, 512);
        inf.data().set(I16, fileType.typeSize * 7L, Float.floatToFloat16(Float.POSITIVE_INFINITY));
        assertThatThrownBy(() -> BlockInterleave.repack(inf)).hasMessageContaining("Inf or NaN");
    }
}
