package jllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * ggml's reference quantizers: golden blocks derived by hand from the definitions in ggml-quants.c
 * ({@code quantize_row_*_ref}), and quantize-then-dequantize error bounds on random data.
 */
class QuantizeTest {

    static byte[] quantize(GGMLType t, float[] x) {
        MemorySegment seg = Arena.ofAuto().allocate(t.bytes(x.length));
        Quantize.quantize(t, x, 0, x.length, seg, 0);
        return seg.toArray(ValueLayout.JAVA_BYTE);
    }

    static byte[] hex(String s) {
        return HexFormat.of().parseHex(s.replace(" ", ""));
    }

    @Test
    void q8_0GoldenBlockRoundsHalfAwayFromZero() {
        // amax = 127 gives d = 1 (f16 0x3C00) and q = roundf(x): 2.5 -> 3, -2.5 -> -3, -0.5 -> -1, 100.4 -> 100
        float[] x = new float[32];
        float[] head = {127, -127, 2.5f, -2.5f, 0.49f, -0.5f, 1.5f, 100.4f};
        System.arraycopy(head, 0, x, 0, head.length);
        byte[] expected = hex("003C 7F 81 03 FD 00 FF 02 64" + "00".repeat(24));
        assertThat(quantize(GGMLType.Q8_0, x)).containsExactly(expected);
    }

    @Test
    void q4_0GoldenBlocksTruncateAndClip() {
        // max-magnitude value -8 gives d = 1; q = min(15, (int)(x + 8.5))
        float[] x = new float[32];
        x[0] = -8; x[1] = 7; x[2] = 7.6f; x[3] = 0.49f; x[4] = -0.5f; x[5] = -0.51f; x[16] = 3; x[17] = -3;
        // q: 0, 15, 15 (16 clipped), 8, 8, 7, 8.., q[16] = 11, q[17] = 5; byte j = q[j] | q[j+16] << 4
        byte[] expected = hex("003C B0 5F 8F 88 88 87" + "88".repeat(10));
        assertThat(quantize(GGMLType.Q4_0, x)).containsExactly(expected);

        // max-magnitude value +8 gives d = -1 (f16 0xBC00): -8 maps to 16.5 -> 16 -> clipped to 15
        float[] y = new float[32];
        y[0] = 8; y[1] = -8;
        assertThat(quantize(GGMLType.Q4_0, y)).containsExactly(hex("00BC 80 8F" + "88".repeat(14)));
    }

    @Test
    void q4_1GoldenBlock() {
        // x_j = j/2 (x_31 = 15): min 0, max 15, d = 1, m = 0, q = min(15, (int)(x + 0.5)) = (j+1)/2 capped at 15
        float[] x = new float[32];
        for (int j = 0; j < 32; j++) x[j] = j / 2f;
        x[31] = 15;
        byte[] expected = hex("003C 0000 80 91 91 A2 A2 B3 B3 C4 C4 D5 D5 E6 E6 F7 F7 F8");
        assertThat(quantize(GGMLType.Q4_1, x)).containsExactly(expected);
    }

    /** Sub-block scales that are powers of two make make_qkx2_quants exact: L = k, min = 0. */
    static final float[] K_SUBBLOCK_SCALE = {1f / 128, 1f / 64, 1f / 32, 1f / 16, 1, 0.5f, 0.25f, 0.125f};

    @Test
    void q4_KGoldenSuperBlock() {
        float[] x = new float[256];
        for (int j = 0; j < 8; j++) for (int l = 0; l < 32; l++) x[32 * j + l] = (l % 16) * K_SUBBLOCK_SCALE[j];
        // max scale 1: d = f16(1/63) = 2^-6 * (1 + 16/1024) = 0x2410; mins all 0: dmin = 0.
        // 6-bit scales nearest_int(63 * s_j) = 0, 1, 2, 4, 63, 32 (31.5 ties to even), 16, 8; packed:
        // bytes 0-3 = low 6 bits of scales 0-3 | (scale j+4 >> 4) << 6, bytes 4-7 = mins 0-3, bytes 8-11 = low
        // nibbles of scales 4-7 | mins 4-7 << 4.
        String scales = "C0 81 42 04 00000000 0F 00 00 08";
        StringBuilder qs = new StringBuilder();
        for (int g = 0; g < 4; g++) for (int l = 0; l < 32; l++) qs.append(String.format("%02X", (l % 16) * 0x11));
        byte[] expected = hex("1024 0000 " + scales + qs);
        byte[] got = quantize(GGMLType.Q4_K, x);
        assertThat(got).containsExactly(expected);

        // the hand-worked dequantization of the same block: y = d * sc_j * k (sub-block 0 has scale 0)
        float d = 0.015869140625f;
        int[] sc = {0, 1, 2, 4, 63, 32, 16, 8};
        float[] y = new float[256];
        DequantizeScalar.dequantize(GGMLType.Q4_K, MemorySegment.ofArray(got), 0, y, 0, 256);
        for (int j = 0; j < 8; j++) for (int l = 0; l < 32; l++) {
            assertThat(y[32 * j + l]).isEqualTo(d * sc[j] * (l % 16) - 0f);
        }
    }

    @Test
    void q5_KGoldenSuperBlock() {
        float[] x = new float[256];
        for (int j = 0; j < 8; j++) for (int l = 0; l < 32; l++) x[32 * j + l] = l * K_SUBBLOCK_SCALE[j];
        String scales = "C0 81 42 04 00000000 0F 00 00 08";
        // qh[l]: bit 2g / 2g+1 is the fifth bit of element l of sub-block 2g / 2g+1, set for l >= 16
        String qh = "00".repeat(16) + "FF".repeat(16);
        StringBuilder ql = new StringBuilder();
        for (int g = 0; g < 4; g++) for (int l = 0; l < 32; l++) ql.append(String.format("%02X", (l % 16) * 0x11));
        byte[] expected = hex("1024 0000 " + scales + qh + ql);
        assertThat(quantize(GGMLType.Q5_K, x)).containsExactly(expected);
    }

    @Test
    void q6_KGoldenSuperBlock() {
        // every sub-block of 16 holds 0.125 * k with k in [-32, 31] and k = -32 first: make_qx_quants finds the
        // exact scale 0.125; iscale = -128 / 0.125 = -1024, d = f16(-2^-10) = 0x9400, every scale nearest_int(-128) = 0x80
        float[] x = new float[256];
        int[] L = new int[256];
        for (int ib = 0; ib < 16; ib++) for (int i = 0; i < 16; i++) {
            int k = i == 0 ? -32 : ((i + 3 * ib) % 63) - 31;
            x[16 * ib + i] = 0.125f * k;
            L[16 * ib + i] = k + 32;
        }
        // layout of block_q6_K, per half h of 128: ql[64h + l] = L[128h + l] low 4 | L[128h + l + 64] low 4 << 4,
        // ql[64h + l + 32] = L[128h + l + 32] | L[128h + l + 96] << 4, qh[32h + l] = the 2 high bits of the four
        byte[] expected = new byte[210];
        for (int h = 0; h < 2; h++) for (int l = 0; l < 32; l++) {
            int a = L[128 * h + l], b = L[128 * h + l + 32], c = L[128 * h + l + 64], e = L[128 * h + l + 96];
            expected[64 * h + l] = (byte) ((a & 15) | (c & 15) << 4);
            expected[64 * h + l + 32] = (byte) ((b & 15) | (e & 15) << 4);
            expected[128 + 32 * h + l] = (byte) ((a >> 4) | (b >> 4) << 2 | (c >> 4) << 4 | (e >> 4) << 6);
        }
        for (int i = 0; i < 16; i++) expected[192 + i] = (byte) 0x80;
        expected[208] = 0x00;
        expected[209] = (byte) 0x94;
        byte[] got = quantize(GGMLType.Q6_K, x);
        assertThat(got).containsExactly(expected);

        float[] y = new float[256];
        DequantizeScalar.dequantize(GGMLType.Q6_K, MemorySegment.ofArray(got), 0, y, 0, 256);
        assertThat(y).containsExactly(x);   // d * (-128) * k = 0.125 k exactly
    }

    @Test
    void halfAndBfloatConversionsRoundToNearestEven() {
        byte[] f16 = quantize(GGMLType.F16, new float[] {1f, -2f, 65504f, 0x1p-24f, 1f + 0x1p-11f, 1f + 3 * 0x1p-11f});
        // 1 + 2^-11 is a tie between 1 and 1 + 2^-10: to even (1); 1 + 3*2^-11 ties up to 1 + 2^-9 (mantissa 2)
        assertThat(f16).containsExactly(hex("003C 00C0 FF7B 0100 003C 023C"));
        byte[] bf16 = quantize(GGMLType.BF16, new float[] {1f, (float) Math.PI, Float.intBitsToFloat(0x3F808000),
                Float.intBitsToFloat(0x3F818000)});
        // pi = 0x40490FDB -> 0x4049; 0x3F808000 ties to even 0x3F80; 0x3F818000 ties to even 0x3F82
        assertThat(bf16).containsExactly(hex("803F 4940 803F 823F"));
    }

    @Test
    void nearestIntRoundsHalfToEven() {
        assertThat(KQuants.nearestInt(2.5f)).isEqualTo(2);
        assertThat(KQuants.nearestInt(3.5f)).isEqualTo(4);
        assertThat(KQuants.nearestInt(-2.5f)).isEqualTo(-2);
        assertThat(KQuants.nearestInt(-2.6f)).isEqualTo(-3);
        assertThat(KQuants.nearestInt(0.49999997f)).isEqualTo(0);
        assertThat(Quantize.roundf(-2.5f)).isEqualTo(-3f);
        assertThat(Quantize.roundf(0.49999997f)).isEqualTo(0f);
    }

    /** Quantize then dequantize random Gaussian rows (with some all-zero and constant blocks); bound the error. */
    @Test
    void roundTripErrorBounds() {
        Random rnd = new Random(42);
        int n = 256 * 24;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (rnd.nextGaussian() * (1 + (i / 256) % 5));
        for (int i = 256; i < 512; i++) x[i] = 0;          // an all-zero super-block
        for (int i = 512; i < 768; i++) x[i] = 0.75f;      // a constant super-block
        // per type: bound on the relative RMS error, and on each element's error relative to its block's absmax
        Object[][] cases = {
                {GGMLType.F32, 0.0, 0.0},
                {GGMLType.F16, 5e-4, 5e-4},
                {GGMLType.BF16, 4e-3, 4e-3},
                {GGMLType.Q8_0, 0.006, 1 / 254.0 * 1.01 + 1 / 2048.0},
                {GGMLType.Q4_0, 0.12, 1 / 8.0 * 1.01},
                {GGMLType.Q4_1, 0.10, 1 / 15.0 * 1.01},
                {GGMLType.Q4_K, 0.10, 0.25},
                {GGMLType.Q5_K, 0.05, 0.12},
                {GGMLType.Q6_K, 0.025, 0.05},
        };
        for (Object[] c : cases) {
            GGMLType t = (GGMLType) c[0];
            byte[] q = quantize(t, x);
            float[] y = new float[n];
            DequantizeScalar.dequantize(t, MemorySegment.ofArray(q), 0, y, 0, n);
            double se = 0, sx = 0, worst = 0;
            int blk = t.isQuantized() ? t.blockSize : 256;
            for (int b = 0; b < n; b += blk) {
                double amax = 0;
                for (int i = b; i < b + blk; i++) amax = Math.max(amax, Math.abs(x[i]));
                for (int i = b; i < b + blk; i++) {
                    double e = Math.abs(x[i] - y[i]);
                    se += e * e;
                    sx += (double) x[i] * x[i];
                    if (amax > 0) worst = Math.max(worst, e / amax);
                    if (amax == 0) assertThat(y[i]).as("%s zero block", t).isEqualTo(0f);
                }
            }
            double rel = Math.sqrt(se / sx);
            System.out.printf("round trip %-5s rel rms %.5f  max err/absmax %.5f%n", t, rel, worst);
            assertThat(rel).as("%s relative rms error", t).isLessThanOrEqualTo((double) c[1]);
            assertThat(worst).as("%s max error / block absmax", t).isLessThanOrEqualTo((double) c[2]);
        }
    }
}
