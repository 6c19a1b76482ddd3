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

/**
 * {@link Q40Repack}: Q4_0 blocks with every byte random (all nibbles; the f16 scales random, including subnormal and
 * negative ones) repacked into Q4_0_R must dequantize to the same floats bit for bit, and their int8 dot products with a
 * Q8_0 activation must equal the Q4_0 kernel's up to the order of the float additions (the integer sums are the same
 * numbers; the Q4_0_R kernel defers the shift of its paired products to the end of each 16-block group, which the
 * extreme-quant case below pins). A hand-made group pins the layout itself.
 */
class Q40RepackTest {
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static Tensor randomQ40(Random rnd, int rows, int cols) {
        long bytes = GGMLType.Q4_0.bytes((long) rows * cols);
        byte[] b = new byte[(int) bytes];
        rnd.nextBytes(b);
        MemorySegment seg = Arena.ofAuto().allocate(bytes, 64);
        MemorySegment.copy(b, 0, seg, ValueLayout.JAVA_BYTE, 0, b.length);
        for (long blk = 0; blk < bytes; blk += 18) {
            float d = switch (rnd.nextInt(8)) {
                case 0 -> 3e-6f * (rnd.nextBoolean() ? 1 : -1);   // a subnormal half
                case 1 -> 0f;
                default -> (float) (rnd.nextDouble() * 4 - 2);
            };
            seg.set(I16, blk, Float.floatToFloat16(d));
        }
        return Tensor.of("q", GGMLType.Q4_0, seg, cols, rows);
    }

    @Test
    void repackedGroupsDequantizeToTheSameFloats() {
        Random rnd = new Random(5);
        for (int cols : new int[] {512, 1536, 2048}) {
            Tensor q = randomQ40(rnd, 7, cols);
            Tensor r = Q40Repack.repack(q);
            assertThat(r.type()).isEqualTo(GGMLType.Q4_0_R);
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
            DequantizeScalar.q4_0RBlocks(part, 0, r.data(), r.rowOffset(2), 5, 3);
            float[] all = q.toFloatArray();
            for (int i = 0; i < 96; i++) assertThat(part[i]).isEqualTo(all[2 * cols + 160 + i]);
        }
    }

    @Test
    void int8DotsEqualTheQ40KernelsUpToFloatRounding() {
        Random rnd = new Random(6);
        Q8Activation a = new Q8Activation();
        double worst = 0;
        for (int cols : new int[] {512, 1536, 2048}) {
            Tensor q = randomQ40(rnd, 9, cols);
            Tensor r = Q40Repack.repack(q);
            float[] x = new float[cols];
            for (int i = 0; i < cols; i++) x[i] = (float) rnd.nextGaussian();
            a.quantize(Q8Activation.formatFor(GGMLType.Q4_0_R), x, 0, cols);
            assertThat(a.format()).isEqualTo(Q8Activation.Format.Q8_0);   // the activation ggml pairs with Q4_0
            worst = Math.max(worst, RepackedDots.worstAgainstFileLayout(q, r, a, 9));
        }
        System.out.printf("Q4_0_R vs Q4_0 int8 kernels: max |diff| / sum|terms| = %.3g%n", worst);
        assertThat(worst).isLessThanOrEqualTo(1e-6);
    }

    /**
     * The bound the deferred shift relies on, at its edge: every weight quant 0 (q - 8 = -8) against activation quants of
     * +-127 with the signs chosen so that all 32 products of a block add up (32 * 8 * 127 = 32512), and so that the low
     * halves do too. Exact integer sums must come out.
     */
    @Test
    void extremeQuantsSumExactly() {
        int cols = 512;
        MemorySegment seg = Arena.ofAuto().allocate(GGMLType.Q4_0.bytes(cols));
        for (int b = 0; b < 16; b++) seg.set(I16, 18L * b, Float.floatToFloat16(1f));   // all nibbles 0: q - 8 = -8
        Tensor r = Q40Repack.repack(Tensor.of("edge", GGMLType.Q4_0, seg, cols));
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

    /** One group made by hand: block i has scale i + 1, byte j of block i holds (i + j) % 16 low and (i + 2j) % 16 high. */
    @Test
    void theLayoutByHand() {
        MemorySegment q = Arena.ofAuto().allocate(288);
        for (int i = 0; i < 16; i++) {
            q.set(I16, 18L * i, Float.floatToFloat16(i + 1));
            for (int j = 0; j < 16; j++) q.set(ValueLayout.JAVA_BYTE, 18L * i + 2 + j, (byte) ((i + j) % 16 | ((i + 2 * j) % 16) << 4));
        }
        Tensor r = Q40Repack.repack(Tensor.of("h", GGMLType.Q4_0, q, 512));
        MemorySegment p = r.data();
        for (int i = 0; i < 16; i++) {
            assertThat(Float.float16ToFloat(p.get(I16, 2L * i))).as("scale of block %d", i).isEqualTo(i + 1f);
            for (int j = 0; j < 16; j++) {
                assertThat(p.get(ValueLayout.JAVA_BYTE, 32 + 16L * j + i) & 0xFF).as("block %d byte %d", i, j)
                        .isEqualTo((i + j) % 16 | ((i + 2 * j) % 16) << 4);
            }
        }
    }

    /** Tensor.quantize to Q4_0_R puts it on a heap array, so the int8 matVec path (which reads the array) takes it. */
    @Test
    void quantizedToQ40RItIsOnAHeapArrayTheInt8PathReads() {
        float[] v = new float[512 * 3];
        Random rnd = new Random(8);
        for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextGaussian();
        Tensor r = Tensor.quantize("r", GGMLType.Q4_0_R, v, 512, 3), q = Tensor.quantize("q", GGMLType.Q4_0, v, 512, 3);
        assertThat(r.heapBytes()).isNotNull();
        assertThat(r.toFloatArray()).containsExactly(q.toFloatArray());
        float[] x = new float[512], out = new float[3];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        Q8Activation a = new Q8Activation();
        a.quantize(Q8Activation.Format.Q8_0, x, 0, 512);
        try (jllm.tensor.kernels.WorkerPool pool = new jllm.tensor.kernels.WorkerPool(2)) {
            new jllm.tensor.kernels.MatMul(pool, jllm.tensor.kernels.MatMul.Path.INT8).matVec(out, r, x);
        }
        for (int row = 0; row < 3; row++) {
            assertThat(out[row]).isCloseTo(RowDotInt8.dotScalar(GGMLType.Q4_0, q.data(), q.rowOffset(row), a),
                    org.assertj.core.data.Offset.offset(1e-4f));
        }
    }

    @Test
    void ineligibleTensorsAreRefused() {
        assertThat(GGMLType.Q4_0_R.isFileType()).isFalse();
        assertThat(GGMLType.Q4_0_R.fileType()).isEqualTo(GGMLType.Q4_0);
        assertThatThrownBy(() -> GGMLType.fromId(-2)).hasMessageContaining("unsupported GGML tensor type id -2");
        Tensor r = Q40Repack.repack(randomQ40(new Random(1), 1, 512));
        assertThatThrownBy(() -> new GGUFWriter().tensor("r", r.type(), r.ne(), r.data()))
                .hasMessageContaining("Q4_0_R, jllm's in-memory layout");
        // rows of 96 blocks are fine, of 3 * 32 weights not: a group needs 512
        Tensor narrow = randomQ40(new Random(2), 2, 96);
        assertThat(Q40Repack.eligible(narrow)).isFalse();
        assertThatThrownBy(() -> Q40Repack.repack(narrow)).hasMessageContaining("multiple of 512");
        assertThat(Q40Repack.eligible(randomQ40(new Random(2), 2, 1024))).isTrue();
        // an Inf scale: the repacked tensor would decode it wrongly, so it is refused
        Tensor inf = randomQ40(new Random(3), 1, 512);
        inf.data().set(I16, 18L * 7, Float.floatToFloat16(Float.POSITIVE_INFINITY));
        assertThatThrownBy(() -> Q40Repack.repack(inf)).hasMessageContaining("Inf or NaN");
    }
}
