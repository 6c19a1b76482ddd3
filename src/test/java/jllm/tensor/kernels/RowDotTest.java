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
}
