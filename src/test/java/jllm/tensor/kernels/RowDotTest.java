package jllm.tensor.kernels;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import jllm.tensor.GGMLType;
import jllm.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The Vector API row dot ({@link RowDot}) against its scalar twin ({@link RowDotScalar}) for every type, on
 * quantized-from-float and raw random blocks, odd row counts and several widths. Tolerance: 1e-5 times
 * {@code sum |w_i x_i|} (float accumulation in a different order than the double reference).
 */
class RowDotTest {
    static final double REL = 1e-5;

    static double absDot(Tensor w, int r, float[] x, int xo) {
        float[] row = new float[w.cols()];
        Dequantize.row(row, 0, w, r);
        double s = 0;
        for (int i = 0; i < row.length; i++) s += Math.abs((double) row[i] * x[xo + i]);
        return s;
    }

    @Test
    void vectorRowDotMatchesScalarTwinForEveryType() {
        Random rnd = new Random(7);
        for (GGMLType type : RandomTensors.ALL) {
            double worst = 0;
            for (int cols : RandomTensors.widths(type)) {
                for (boolean raw : new boolean[] {false, true}) {
                    int rows = 7;
                    Tensor w = raw ? RandomTensors.rawBytes(rnd, type, rows, cols) : RandomTensors.quantized(rnd, type, rows, cols);
                    float[] x = RandomTensors.gaussian(rnd, cols + 3, 1.0);
                    for (int r = 0; r < rows; r++) {
                        float got = RowDot.dot(type, w.data(), w.rowOffset(r), x, 3, cols);
                        float ref = RowDotScalar.dot(type, w.data(), w.rowOffset(r), x, 3, cols);
                        double scale = absDot(w, r, x, 3);
                        double err = Math.abs(got - ref) / Math.max(scale, 1e-30);
                        worst = Math.max(worst, err);
                        assertThat(err).as("%s cols %d row %d raw %s: %g vs %g", type, cols, r, raw, got, ref).isLessThanOrEqualTo(REL);
                    }
                }
            }
            System.out.printf("RowDot %-5s max |vector - scalar| / sum|w x| = %.3g%n", type, worst);
        }
    }

    /**
     * Every one of the 65,536 halves through the F16 row dot, at every position of a row (both vector accumulators
     * and the scalar tail): the fast decoder is exact for zeros, subnormals and normals, and a row holding an Inf or
     * a NaN comes back as Inf or NaN, as the exact decoder it falls back to computes.
     */
    @Test
    void f16RowDotDecodesEveryHalfExactly() {
        int n = 69;   // two 2L-lane steps (L = 16) or four (L = 8), and a scalar tail of 5
        java.lang.foreign.MemorySegment row = java.lang.foreign.Arena.ofAuto().allocate(2L * n);
        float[] ones = new float[n];
        java.util.Arrays.fill(ones, 1f);
        for (int h = 0; h < 65536; h++) {
            int at = h % n;
            row.fill((byte) 0);
            row.set(Simd.I16, 2L * at, (short) h);
            float want = Float.float16ToFloat((short) h) + 0f;   // -0 + the other +0 products is +0
            float got = RowDot.f16Dot(row, 0, ones, 0, n);
            assertThat(Float.floatToIntBits(got)).as("half 0x%04x at %d: %s vs %s", h, at, got, want).isEqualTo(Float.floatToIntBits(want));
        }
    }
}
