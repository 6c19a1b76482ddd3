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
 * {@link Q4KRepack}: Q4_K blocks with every byte random (all nibbles, all 6-bit scale and min patterns, the f16 d and
 * dmin set to random values) repacked into Q4_K_R must dequantize to the same floats bit for bit (ggml's
 * {@code dequantize_row_q4_K} computes {@code d sc q - dmin m} with the same two products), and their int8 dot products
 * with a Q8_K activation must equal the Q4_K kernel's up to the order of the float additions (the integer sums are the
 * same numbers). A hand-made block pins the layout itself.
 */
class Q4KRepackTest {
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static Tensor randomQ4K(Random rnd, int rows, int cols) {
        long bytes = GGMLType.Q4_K.bytes((long) rows * cols);
        byte[] b = new byte[(int) bytes];
        rnd.nextBytes(b);
        MemorySegment seg = Arena.ofAuto().allocate(bytes, 64);
        MemorySegment.copy(b, 0, seg, ValueLayout.JAVA_BYTE, 0, b.length);
        for (long blk = 0; blk < bytes; blk += 144) {
            seg.set(I16, blk, Float.floatToFloat16((float) (rnd.nextDouble() * 0.1 - 0.05)));
            seg.set(I16, blk + 2, Float.floatToFloat16((float) (rnd.nextDouble() * 0.1 - 0.05)));
        }
        return Tensor.of("q", GGMLType.Q4_K, seg, cols, rows);
    }

    @Test
    void repackedBlocksDequantizeToTheSameFloats() {
        Random rnd = new Random(5);
        for (int cols : new int[] {256, 768, 2048}) {
            Tensor q = randomQ4K(rnd, 7, cols);
            Tensor r = Q4KRepack.repack(q, Arena.ofAuto());
            assertThat(r.type()).isEqualTo(GGMLType.Q4_K_R);
            assertThat(r.data().byteSize()).isEqualTo(q.data().byteSize() / 144 * 192);
            assertThat(r.toFloatArray()).as("cols %d", cols).containsExactly(q.toFloatArray());
        }
    }

    @Test
    void int8DotsEqualTheQ4KKernelsUpToFloatRounding() {
        Random rnd = new Random(6);
        Q8Activation a = new Q8Activation();
        double worst = 0;
        for (int cols : new int[] {256, 768, 2048}) {
            Tensor q = randomQ4K(rnd, 9, cols);
            Tensor r = Q4KRepack.repack(q, Arena.ofAuto());
            float[] x = new float[cols];
            for (int i = 0; i < cols; i++) x[i] = (float) rnd.nextGaussian();
            a.quantize(Q8Activation.formatFor(GGMLType.Q4_K_R), x, 0, cols);
            assertThat(a.format()).isEqualTo(Q8Activation.Format.Q8_K);   // the activation ggml pairs with Q4_K
            worst = Math.max(worst, RepackedDots.worstAgainstFileLayout(q, r, a, 9));
        }
        System.out.printf("Q4_K_R vs Q4_K int8 kernels: max |diff| / sum|terms| = %.3g%n", worst);
        assertThat(worst).isLessThanOrEqualTo(1e-6);
    }

    /** One super-block made by hand: sub-block j has scale j + 1 and min 2j, element e of the block the nibble e % 16. */
    @Test
    void theLayoutByHand() {
        MemorySegment q = Arena.ofAuto().allocate(144);
        q.set(I16, 0, Float.floatToFloat16(0.5f));    // d
        q.set(I16, 2, Float.floatToFloat16(0.25f));   // dmin
        int[] sc = new int[8], m = new int[8];
        for (int j = 0; j < 8; j++) {
            sc[j] = j + 1;
            m[j] = 2 * j;
        }
        // the 12 scale bytes (get_scale_min_k4): j < 4 in the low 6 bits of bytes j and j + 4; j >= 4 split
        for (int j = 0; j < 4; j++) {
            q.set(ValueLayout.JAVA_BYTE, 4 + j, (byte) (sc[j] | (sc[j + 4] >> 4) << 6));
            q.set(ValueLayout.JAVA_BYTE, 8 + j, (byte) (m[j] | (m[j + 4] >> 4) << 6));
            q.set(ValueLayout.JAVA_BYTE, 12 + j, (byte) ((sc[j + 4] & 0xF) | (m[j + 4] & 0xF) << 4));
        }
        for (int g = 0; g < 4; g++) {   // byte l of group g: element l of sub-block 2g low, of 2g + 1 high
            for (int l = 0; l < 32; l++) q.set(ValueLayout.JAVA_BYTE, 16 + 32 * g + l, (byte) ((l % 16) | ((l + 3) % 16) << 4));
        }
        Tensor r = Q4KRepack.repack(Tensor.of("h", GGMLType.Q4_K, q, 256), Arena.ofAuto());
        MemorySegment p = r.data();
        for (int j = 0; j < 8; j++) {
            long o = 24L * j;
            assertThat(p.get(F32, o)).as("scale of sub-block %d", j).isEqualTo(0.5f * sc[j]);
            assertThat(p.get(F32, o + 4)).as("min of sub-block %d", j).isEqualTo(0.25f * m[j]);
            for (int k = 0; k < 16; k++) {
                int e = k, e16 = k + 16;   // elements k and k + 16 of sub-block j
                int want = j % 2 == 0 ? (e % 16) | (e16 % 16) << 4 : ((e + 3) % 16) | ((e16 + 3) % 16) << 4;
                assertThat(p.get(ValueLayout.JAVA_BYTE, o + 8 + k) & 0xFF).as("sub-block %d byte %d", j, k).isEqualTo(want);
            }
        }
    }

    @Test
    void theInMemoryTypeIsNoFileType() {
        assertThat(GGMLType.Q4_K_R.isFileType()).isFalse();
        assertThat(GGMLType.Q4_K_R.fileType()).isEqualTo(GGMLType.Q4_K);
        assertThatThrownBy(() -> GGMLType.fromId(-1)).hasMessageContaining("unsupported GGML tensor type id -1");
        Tensor r = Q4KRepack.repack(randomQ4K(new Random(1), 1, 256), Arena.ofAuto());
        assertThatThrownBy(() -> new GGUFWriter().tensor("r", r.type(), r.ne(), r.data()))
                .hasMessageContaining("Q4_K_R, jllm's in-memory layout");
        assertThatThrownBy(() -> Q4KRepack.repack(Tensor.quantize("f", GGMLType.Q4_0, new float[32], 32), Arena.ofAuto()))
                .hasMessageContaining("is Q4_0, not Q4_K");
    }

    /**
     * Q4_K_R16: the same values as Q4_K bit for bit (scalar, vector, and the partial blocks Sgemm's panels take), on a
     * heap array, and int8 dots equal to the Q4_K kernel's up to the order of the float additions.
     */
    @Test
    void interleavedGroupsDequantizeToTheSameFloatsAndDotAlike() {
        Random rnd = new Random(15);
        Q8Activation a = new Q8Activation();
        double worst = 0;
        for (int cols : new int[] {512, 1536, 2048}) {
            Tensor q = randomQ4K(rnd, 7, cols);
            assertThat(Q4KRepack.interleavable(q)).isTrue();
            Tensor r = Q4KRepack.interleave(q);
            assertThat(r.type()).isEqualTo(GGMLType.Q4_K_R16);
            assertThat(r.heapBytes()).as("held in a heap array").isNotNull();
            assertThat(r.data().byteSize()).isEqualTo(q.data().byteSize() / 144 * 192);
            float[] want = q.toFloatArray();
            assertThat(r.toFloatArray()).as("scalar, cols %d", cols).containsExactly(want);
            float[] vector = new float[cols];
            for (int row = 0; row < 7; row++) {
                jllm.tensor.kernels.Dequantize.dequantize(vector, 0, r.type(), r.data(), r.rowOffset(row), cols);
                assertThat(vector).as("vector, cols %d row %d", cols, row).containsExactly(java.util.Arrays.copyOfRange(want, row * cols, (row + 1) * cols));
            }
            float[] part = new float[96];   // sub-blocks 14..16 of row 3 (across a group's end), as Sgemm's panels take them
            DequantizeScalar.q4_KR16Blocks(part, 0, r.data(), r.rowOffset(3), 14, 3);
            if (cols > 512) for (int i = 0; i < 96; i++) assertThat(part[i]).isEqualTo(want[3 * cols + 448 + i]);
            float[] x = new float[cols];
            for (int i = 0; i < cols; i++) x[i] = (float) rnd.nextGaussian();
            a.quantize(Q8Activation.formatFor(GGMLType.Q4_K_R16), x, 0, cols);
            assertThat(a.format()).isEqualTo(Q8Activation.Format.Q8_K);
            worst = Math.max(worst, RepackedDots.worstAgainstFileLayout(q, r, a, 7));
        }
        System.out.printf("Q4_K_R16 vs Q4_K int8 kernels: max |diff| / sum|terms| = %.3g%n", worst);
        assertThat(worst).isLessThanOrEqualTo(1e-6);
    }

    /**
     * Q4_K_R16's shift after each 8 byte rows, at its edge: every nibble 15 (scales 1, mins 0) against activations of
     * +-127 whose signs make all 32 products of a sub-block add up (32 * 15 * 127 = 60960, past 2^15, so a shift deferred
     * to the group's end would be wrong), and patterns where elements j and j + 16 differ in sign.
     */
    @Test
    void interleavedExtremeQuantsSumExactly() {
        int cols = 1024;
        MemorySegment q = Arena.ofAuto().allocate(GGMLType.Q4_K.bytes(cols));
        q.fill((byte) 0xFF);   // nibbles 15; scale bytes 0xFF: sub-block scales and mins 63
        for (long blk = 0; blk < q.byteSize(); blk += 144) {
            q.set(I16, blk, Float.floatToFloat16(1f / 63));   // d: sc * d = 1 (to float rounding)
            q.set(I16, blk + 2, (short) 0);                   // dmin 0: no min term
        }
        Tensor r = Q4KRepack.interleave(Tensor.of("edge", GGMLType.Q4_K, q, cols));
        Q8Activation a = new Q8Activation();
        for (int pattern = 0; pattern < jllm.tensor.SignPatterns.COUNT; pattern++) {
            float[] x = jllm.tensor.SignPatterns.of(cols, pattern);
            a.quantize(Q8Activation.Format.Q8_K, x, 0, cols);
            float want = RowDotInt8.dotScalar(GGMLType.Q4_K, q, 0, a);
            assertThat(RowDotInt8.dotScalar(GGMLType.Q4_K_R16, r.data(), 0, a)).isCloseTo(want, org.assertj.core.data.Offset.offset(1e-6f * Math.max(1, Math.abs(want))));
            assertThat(RowDotInt8.dot(GGMLType.Q4_K_R16, r.data(), 0, a)).as("pattern %d", pattern)
                    .isCloseTo(want, org.assertj.core.data.Offset.offset(1e-6f * Math.max(1, Math.abs(want))));
            if (pattern == 0) assertThat(want).isCloseTo(15f * cols, org.assertj.core.data.Offset.offset(0.01f * cols));
        }
    }

    /** Two super-blocks by hand: sub-block i of the group has scale i + 1 and min i / 2, its byte j the value (7 i + j) % 256. */
    @Test
    void theInterleavedLayoutByHand() {
        byte[] sub = new byte[384], out = new byte[384];
        MemorySegment s = MemorySegment.ofArray(sub);
        for (int i = 0; i < 16; i++) {
            s.set(F32, 24L * i, i + 1f);
            s.set(F32, 24L * i + 4, i / 2f);
            for (int j = 0; j < 16; j++) sub[24 * i + 8 + j] = (byte) (7 * i + j);
        }
        Q4KRepack.group16(sub, out, 0);
        MemorySegment p = MemorySegment.ofArray(out);
        for (int i = 0; i < 16; i++) {
            assertThat(p.get(F32, 4L * i)).as("scale of sub-block %d", i).isEqualTo(i + 1f);
            assertThat(p.get(F32, 64 + 4L * i)).as("min of sub-block %d", i).isEqualTo(i / 2f);
            for (int j = 0; j < 16; j++) assertThat(out[128 + 16 * j + i]).as("sub-block %d byte %d", i, j).isEqualTo((byte) (7 * i + j));
        }
    }

    @Test
    void interleavingNeedsRowsOfWhole512WeightGroups() {
        assertThat(GGMLType.Q4_K_R16.isFileType()).isFalse();
        assertThat(GGMLType.Q4_K_R16.fileType()).isEqualTo(GGMLType.Q4_K);
        assertThatThrownBy(() -> GGMLType.fromId(-4)).hasMessageContaining("unsupported GGML tensor type id -4");
        Tensor odd = randomQ4K(new Random(2), 2, 768);   // three super-blocks: 1.5 groups
        assertThat(Q4KRepack.interleavable(odd)).isFalse();
        assertThatThrownBy(() -> Q4KRepack.interleave(odd)).hasMessageContaining("multiple of 512");
        Tensor r = Q4KRepack.interleave(randomQ4K(new Random(1), 1, 512));
        assertThatThrownBy(() -> new GGUFWriter().tensor("r", r.type(), r.ne(), r.data()))
                .hasMessageContaining("Q4_K_R16, jllm's in-memory layout");
        // Tensor.quantize to Q4_K_R16 is ggml's Q4_K quantizer then the interleaving, on a heap array
        float[] v = new float[1024];
        Random rnd = new Random(3);
        for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextGaussian();
        Tensor viaQuantize = Tensor.quantize("v", GGMLType.Q4_K_R16, v, 512, 2);
        assertThat(viaQuantize.heapBytes()).isNotNull();
        assertThat(viaQuantize.toFloatArray()).containsExactly(Tensor.quantize("k", GGMLType.Q4_K, v, 512, 2).toFloatArray());
    }
}
