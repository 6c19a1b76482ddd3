package jllm.tensor.kernels;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import jllm.tensor.GGMLType;
import jllm.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The int8 path for every quantized type: the vector kernels against their scalar twin of the same algorithm
 * (exact integer sums; tolerance 1e-6 of {@code sum |w_i d q_i|} for the float accumulation order), the activation
 * quantization error bound, the difference from the float path (bounded by the activation's quantization error),
 * and MatMul's INT8 matVec.
 */
class RowDotInt8Test {

    @Test
    void vectorMatchesScalarTwinAndStaysCloseToFloatPath() {
        Random rnd = new Random(9);
        Q8Activation a = new Q8Activation();
        for (GGMLType type : new GGMLType[] {GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K, GGMLType.Q4_K_R, GGMLType.Q4_0_R, GGMLType.Q8_0_R, GGMLType.Q4_K_R16}) {
            double worstTwin = 0, worstFloat = 0;
            for (int cols : RandomTensors.widths(type)) {
                Tensor w = RandomTensors.rawBytes(rnd, type, 9, cols);   // Q4_K_R: random Q4_K bytes repacked
                float[] x = RandomTensors.gaussian(rnd, cols, 1.0);
                a.quantize(Q8Activation.formatFor(type), x, 0, cols);
                // activation quantization: |x - d q| <= |d| / 2 per element, plus the f16 rounding of q8_0's d
                for (int i = 0; i < cols; i++) {
                    assertThat((double) Math.abs(x[i] - a.value(i))).isLessThanOrEqualTo(0.5001 * a.step(i) + 127 * a.step(i) / 2048);
                }
                float[] wf = w.toFloatArray();
                for (int r = 0; r < 9; r++) {
                    float v = RowDotInt8.dot(type, w.data(), w.rowOffset(r), a);
                    float s = RowDotInt8.dotScalar(type, w.data(), w.rowOffset(r), a);
                    double absTerms = 0, absW = 0, errBound = 0;
                    for (int i = 0; i < cols; i++) {
                        absTerms += Math.abs((double) wf[r * cols + i] * a.value(i));
                        errBound += Math.abs((double) wf[r * cols + i]) * (0.5001 * a.step(i) + 127 * a.step(i) / 2048);
                    }
                    double twin = Math.abs(v - s) / Math.max(absTerms, 1e-30);
                    worstTwin = Math.max(worstTwin, twin);
                    assertThat(twin).as("%s cols %d row %d", type, cols, r).isLessThanOrEqualTo(1e-6);
                    // against the float path: the difference is the activation's quantization error, bounded by
                    // sum |w_i| d/2, plus float rounding
                    float f = RowDotScalar.dot(type, w.data(), w.rowOffset(r), x, 0, cols);
                    double diff = Math.abs(v - f);
                    worstFloat = Math.max(worstFloat, diff / Math.max(absTerms, 1e-30));
                    assertThat(diff).as("%s int8 vs float, cols %d row %d", type, cols, r).isLessThanOrEqualTo(errBound + 1e-5 * absTerms);
                }
            }
            System.out.printf("int8 %-5s max |vector - scalar twin| / sum|terms| = %.3g, max |int8 - float| / sum|terms| = %.3g%n",
                    type, worstTwin, worstFloat);
        }
    }

    /**
     * The paired-product kernels (Q4_0, Q4_1, Q4_K_R; see {@code RowDotInt8.q4_0}) hold two 16-bit fields in one 32-bit lane;
     * a carry or overflow between them would be off by multiples of 2^16. At the extremes (every quant byte 0x00,
     * 0xFF, 0x0F or 0xF0, so nibbles at 0 or 15; activations of +-127 in patterns that make the paired
     * elements j and j + 16 agree or differ in sign) the kernels must still equal the scalar twin's exact sums.
     */
    /**
     * MatMul quantizes activations without the pairs for weight types whose kernels do not read them; the checked entry
     * refuses such an activation for a paired-product type instead of reading stale pairs, and takes it for the others.
     */
    @Test
    void anActivationWithoutPairsServesOnlyTheKernelsThatDoNotReadThem() {
        Random rnd = new Random(4);
        float[] x = RandomTensors.gaussian(rnd, 256, 1.0);
        Q8Activation a = new Q8Activation();
        for (GGMLType type : new GGMLType[] {GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q4_K, GGMLType.Q6_K, GGMLType.Q4_K_R}) {
            Tensor w = RandomTensors.rawBytes(rnd, type, 1, 256);
            a.quantize(Q8Activation.formatFor(type), x, 0, 256, RowDotInt8.usesPairs(type), false);
            float lean = RowDotInt8.dot(type, w.data(), 0, a);
            a.quantize(Q8Activation.formatFor(type), x, 0, 256, false, false);
            if (RowDotInt8.usesPairs(type)) {
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> RowDotInt8.dot(type, w.data(), 0, a))
                        .hasMessageContaining("quantized with its pairs");
            } else {
                assertThat(RowDotInt8.dot(type, w.data(), 0, a)).isEqualTo(lean);
            }
            a.quantize(Q8Activation.formatFor(type), x, 0, 256);
            assertThat(RowDotInt8.dot(type, w.data(), 0, a)).as("%s", type).isEqualTo(lean);
        }
    }

    @Test
    void pairedProductsAreExactAtTheQuantExtremes() {
        var i16 = java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
        Q8Activation a = new Q8Activation();
        int cols = 512;
        var f32 = java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (GGMLType type : new GGMLType[] {GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q4_K_R}) {
            for (int fill : new int[] {0x00, 0xFF, 0x0F, 0xF0}) {
                long bytes = type.bytes(cols);
                var seg = java.lang.foreign.Arena.ofAuto().allocate(bytes, 64);
                seg.fill((byte) fill);
                if (type == GGMLType.Q4_K_R) {
                    for (long blk = 0; blk < bytes; blk += 24) {   // 32-element sub-blocks: d = 1, m = 0
                        seg.set(f32, blk, 1f);
                        seg.set(f32, blk + 4, 0f);
                    }
                }
                for (long blk = 0; type != GGMLType.Q4_K_R && blk < bytes; blk += type.typeSize) {
                    seg.set(i16, blk, Float.floatToFloat16(1f));                     // d
                    if (type != GGMLType.Q4_0) seg.set(i16, blk + 2, (short) 0);   // the min's scale: 0
                }
                for (int pattern = 0; pattern < jllm.tensor.SignPatterns.COUNT; pattern++) {
                    float[] x = jllm.tensor.SignPatterns.of(cols, pattern);
                    a.quantize(Q8Activation.formatFor(type), x, 0, cols);
                    float v = RowDotInt8.dot(type, seg, 0, a);
                    float s = RowDotInt8.dotScalar(type, seg, 0, a);
                    assertThat((double) Math.abs(v - s)).as("%s bytes 0x%02x pattern %d: %s vs %s", type, fill, pattern, v, s)
                            .isLessThanOrEqualTo(1e-6 * Math.max(1, Math.abs(s)));
                }
            }
        }
    }

    @Test
    void matMulInt8PathUsesTheInt8KernelsAndFallsBackForFloatTypes() {
        Random rnd = new Random(13);
        try (WorkerPool pool = new WorkerPool(2)) {
            MatMul mm = new MatMul(pool, MatMul.Path.INT8);
            for (GGMLType type : new GGMLType[] {GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K, GGMLType.Q4_K_R, GGMLType.Q4_0_R, GGMLType.Q8_0_R, GGMLType.Q4_K_R16, GGMLType.F16}) {
                int cols = 512, rows = 37;
                Tensor w = RandomTensors.rawBytes(rnd, type, rows, cols);
                float[] x = RandomTensors.gaussian(rnd, cols, 1.0);
                float[] out = new float[rows];
                mm.matVec(out, w, x);
                Q8Activation a = new Q8Activation();
                if (RowDotInt8.supports(type)) a.quantize(Q8Activation.formatFor(type), x, 0, cols);
                float[] wf = w.toFloatArray();
                for (int r = 0; r < rows; r++) {
                    double absTerms = 0;
                    for (int i = 0; i < cols; i++) {
                        absTerms += Math.abs((double) wf[r * cols + i] * (RowDotInt8.supports(type) ? a.value(i) : x[i]));
                    }
                    float ref = RowDotInt8.supports(type)
                            ? RowDotInt8.dotScalar(type, w.data(), w.rowOffset(r), a)
                            : RowDotScalar.dot(type, w.data(), w.rowOffset(r), x, 0, cols);
                    assertThat((double) Math.abs(out[r] - ref)).as("%s row %d", type, r).isLessThanOrEqualTo(1e-5 * absTerms);
                }
            }
        }
    }

    /**
     * The INT8 matMul equals T INT8 matVecs: the same integer kernels on the same quantized tokens, so the same numbers
     * up to the order of the final float lane sum, which differs between a kernel's interpreted and compiled forms (the
     * Vector API leaves a lane reduction's order open): within 1e-6 of the sum of |w x| (an exact comparison failed
     * whenever one of the two calls ran before C2 had compiled the kernel).
     */
    @Test
    void int8MatMulEqualsInt8MatVecs() {
        Random rnd = new Random(17);
        try (WorkerPool pool = new WorkerPool(3)) {
            MatMul mm = new MatMul(pool, MatMul.Path.INT8);
            for (GGMLType type : new GGMLType[] {GGMLType.Q8_0, GGMLType.Q4_1, GGMLType.Q4_K, GGMLType.Q6_K, GGMLType.Q4_K_R, GGMLType.Q4_0_R, GGMLType.Q8_0_R, GGMLType.Q4_K_R16}) {
                int cols = 512, rows = 29, T = 5;
                Tensor w = RandomTensors.rawBytes(rnd, type, rows, cols);
                float[] x = RandomTensors.gaussian(rnd, 3 + T * cols, 1.0);
                float[] out = new float[T * rows + 2];
                mm.matMul(out, 2, w, x, 3, T);
                float[] one = new float[rows];
                float[] wf = w.toFloatArray();
                Q8Activation a = new Q8Activation();
                for (int t = 0; t < T; t++) {
                    mm.matVec(one, 0, w, x, 3 + t * cols);
                    a.quantize(Q8Activation.formatFor(type), x, 3 + t * cols, cols);
                    for (int r = 0; r < rows; r++) {
                        double absTerms = 0;
                        for (int i = 0; i < cols; i++) absTerms += Math.abs((double) wf[r * cols + i] * a.value(i));
                        assertThat((double) Math.abs(out[2 + t * rows + r] - one[r])).as("%s t %d r %d", type, t, r)
                                .isLessThanOrEqualTo(1e-6 * absTerms);
                    }
                }
            }
        }
    }
}
