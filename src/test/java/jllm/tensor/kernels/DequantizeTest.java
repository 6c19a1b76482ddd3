package jllm.tensor.kernels;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.util.HexFormat;
import java.util.Random;
import jllm.tensor.DequantizeScalar;
import jllm.tensor.GGMLType;
import jllm.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Dequantization: hand-worked blocks from the GGML definitions (ggml-quants.c {@code dequantize_row_*}), and
 * the Vector API {@link Dequantize} equal bit for bit to {@link DequantizeScalar} on random blocks.
 */
class DequantizeTest {

    static float[] deq(GGMLType t, String hex, int n) {
        byte[] b = HexFormat.of().parseHex(hex.replace(" ", ""));
        float[] y = new float[n];
        DequantizeScalar.dequantize(t, MemorySegment.ofArray(b), 0, y, 0, n);
        float[] v = new float[n];
        Dequantize.dequantize(v, 0, t, MemorySegment.ofArray(b), 0, n);
        assertThat(v).as("vector equals scalar for %s", t).containsExactly(y);
        return y;
    }

    @Test
    void handWorkedBlocks() {
        // F16: 0x3C00 = 1, 0xC000 = -2, 0x7BFF = 65504, 0x0001 = 2^-24 (subnormal), 0x7C00 = +inf
        assertThat(deq(GGMLType.F16, "003C 00C0 FF7B 0100 007C", 5))
                .containsExactly(1f, -2f, 65504f, 0x1p-24f, Float.POSITIVE_INFINITY);
        // BF16: 0x3F80 = 1, 0x4049 = 3.140625, 0xC000 = -2
        assertThat(deq(GGMLType.BF16, "803F 4940 00C0", 3)).containsExactly(1f, 3.140625f, -2f);
        // Q8_0: d = 0x3800 = 0.5; q = 1, -2, 127, -128, 0...
        float[] q8 = deq(GGMLType.Q8_0, "0038 01 FE 7F 80" + "00".repeat(28), 32);
        assertThat(q8[0]).isEqualTo(0.5f);
        assertThat(q8[1]).isEqualTo(-1f);
        assertThat(q8[2]).isEqualTo(63.5f);
        assertThat(q8[3]).isEqualTo(-64f);
        // Q4_0: d = 0x4000 = 2; qs[0] = 0x1F: y0 = (15 - 8) * 2 = 14, y16 = (1 - 8) * 2 = -14; other bytes 0x88 -> 0
        float[] q40 = deq(GGMLType.Q4_0, "0040 1F" + "88".repeat(15), 32);
        assertThat(q40[0]).isEqualTo(14f);
        assertThat(q40[16]).isEqualTo(-14f);
        assertThat(q40[5]).isEqualTo(0f);
        // Q4_1: d = 0.5, m = -1 (0xBC00); qs[0] = 0xA3: y0 = 3 * 0.5 - 1 = 0.5, y16 = 10 * 0.5 - 1 = 4; 0x00 -> -1
        float[] q41 = deq(GGMLType.Q4_1, "0038 00BC A3" + "00".repeat(15), 32);
        assertThat(q41[0]).isEqualTo(0.5f);
        assertThat(q41[16]).isEqualTo(4f);
        assertThat(q41[1]).isEqualTo(-1f);
        // Q5_K: d = 1 (0x3C00), dmin = 0.5 (0x3800); scales: sc0 = 2, m0 = 3 (bytes 0 and 4), sc4 = 0x15 = 21
        // from byte 8 low nibble 5 and byte 0 bits 6-7 = 1, m4 = 1 + 16 * (byte 4 bits 6-7 = 2) = 33;
        // qh[0] = 0x01 (fifth bit of element 0), qh[1] = 0x10 (fifth bit of element 1 of sub-block 4);
        // ql[0] = 0x07: y0 = 1*2*(7 + 16) - 0.5*3 = 44.5; ql[64 + 1] = 0x09 -> y[128 + 1] = 21 * (9 + 16) - 0.5 * 33
        String scales = "42 00 00 00 83 00 00 00 15 00 00 00";
        String qh = "01 10" + "00".repeat(30);
        String ql = "07" + "00".repeat(64) + "09" + "00".repeat(62);
        float[] q5 = deq(GGMLType.Q5_K, "003C 0038 " + scales + qh + ql, 256);
        assertThat(q5[0]).isEqualTo(44.5f);
        assertThat(q5[129]).isEqualTo(21f * 25 - 16.5f);
        assertThat(q5[1]).isEqualTo(-1.5f);           // q = 0 in sub-block 0: -dmin * m0
        assertThat(q5[130]).isEqualTo(-16.5f);        // q = 0 in sub-block 4: -dmin * m4
    }

    @Test
    void vectorDequantizeEqualsScalarOnRandomBlocks() {
        Random rnd = new Random(3);
        for (GGMLType type : RandomTensors.ALL) {
            for (int cols : RandomTensors.widths(type)) {
                Tensor w = RandomTensors.rawBytes(rnd, type, 3, cols);
                float[] ref = w.toFloatArray();
                float[] got = new float[ref.length];
                for (int r = 0; r < 3; r++) Dequantize.row(got, r * cols, w, r);
                assertThat(got).as("%s cols %d", type, cols).containsExactly(ref);
            }
        }
    }

    /** All 65,536 halves in order, 64 rows of 1,024: rows 31 and 63 hold the Infs and NaNs, the rest decode on the fast path. */
    @Test
    void f16RowsDecodeEveryHalfExactly() {
        java.lang.foreign.MemorySegment data = java.lang.foreign.Arena.ofAuto().allocate(2L * 65536);
        for (int h = 0; h < 65536; h++) data.set(Simd.I16, 2L * h, (short) h);
        Tensor w = Tensor.of("every-half", GGMLType.F16, data, 1024, 64);
        float[] got = new float[1024];
        for (int r = 0; r < 64; r++) {
            Dequantize.row(got, 0, w, r);
            for (int i = 0; i < 1024; i++) {
                int h = 1024 * r + i;
                assertThat(Float.floatToIntBits(got[i])).as("half 0x%04x", h).isEqualTo(Float.floatToIntBits(Float.float16ToFloat((short) h)));
            }
        }
    }
}
