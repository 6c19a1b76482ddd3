package jllm.tensor.kernels;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Vector API float kernels against their scalar twins (double sums) on random data, odd lengths and offsets.
 * Tolerances: dot 1e-5 of {@code sum |a b|}; axpy within 1 ulp of {@code |y| + |a x|}, add exact; rmsnorm, softmax
 * and SwiGLU 2e-6 relative (plus 1e-30 absolute).
 */
class FloatKernelsTest {
    static final int[] LENGTHS = {1, 3, 8, 15, 16, 17, 63, 100, 257, 2048};

    static void assertRel(float[] got, float[] ref, double rel, String what) {
        for (int i = 0; i < ref.length; i++) {
            double tol = rel * Math.abs(ref[i]) + 1e-30;
            assertThat((double) Math.abs(got[i] - ref[i])).as("%s [%d]: %g vs %g", what, i, got[i], ref[i]).isLessThanOrEqualTo(tol);
        }
    }

    @Test
    void kernelsMatchScalarTwins() {
        Random rnd = new Random(5);
        for (int n : LENGTHS) {
            float[] a = RandomTensors.gaussian(rnd, n + 2, 2.0);
            float[] b = RandomTensors.gaussian(rnd, n + 1, 2.0);
            // dot
            double absSum = 0;
            for (int i = 0; i < n; i++) absSum += Math.abs((double) a[2 + i] * b[1 + i]);
            float dv = FloatKernels.dot(a, 2, b, 1, n), ds = FloatKernelsScalar.dot(a, 2, b, 1, n);
            assertThat((double) Math.abs(dv - ds)).as("dot n=%d", n).isLessThanOrEqualTo(1e-5 * absSum);
            // axpy
            float[] y1 = RandomTensors.gaussian(rnd, n + 3, 1.0), y0 = y1.clone(), y2 = y1.clone();
            FloatKernels.axpy(y1, 3, 0.7f, a, 2, n);
            FloatKernelsScalar.axpy(y2, 3, 0.7f, a, 2, n);
            for (int i = 0; i < n; i++) {
                float terms = Math.abs(y0[3 + i]) + Math.abs(0.7f * a[2 + i]);
                assertThat(Math.abs(y1[3 + i] - y2[3 + i])).as("axpy n=%d [%d]", n, i).isLessThanOrEqualTo(Math.ulp(terms));
            }
            // add
            float[] o1 = new float[n], o2 = new float[n];
            FloatKernels.add(o1, 0, a, 2, b, 1, n);
            FloatKernelsScalar.add(o2, 0, a, 2, b, 1, n);
            assertThat(o1).containsExactly(o2);
            // rmsnorm
            float[] wgt = RandomTensors.gaussian(rnd, n, 1.0);
            FloatKernels.rmsnorm(o1, 0, a, 2, wgt, n, 1e-5f);
            FloatKernelsScalar.rmsnorm(o2, 0, a, 2, wgt, n, 1e-5f);
            assertRel(o1, o2, 2e-6, "rmsnorm n=" + n);
            // softmax (with a large offset to check the max subtraction)
            float[] s1 = new float[n + 1];
            for (int i = 0; i < n + 1; i++) s1[i] = a[i] * 3 + 80;
            float[] s2 = s1.clone();
            FloatKernels.softmax(s1, 1, n);
            FloatKernelsScalar.softmax(s2, 1, n);
            assertRel(s1, s2, 2e-6, "softmax n=" + n);
            double sum = 0;
            for (int i = 1; i <= n; i++) sum += s1[i];
            assertThat(sum).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
            // swiglu
            FloatKernels.swiglu(o1, 0, a, 2, b, 1, n);
            FloatKernelsScalar.swiglu(o2, 0, a, 2, b, 1, n);
            assertRel(o1, o2, 2e-6, "swiglu n=" + n);
        }
    }

    /**
     * axpyRows is bit for bit a run of axpy calls (attention's results must not change with it), and within rounding
     * of its scalar twin (double products, float sums), for row widths across the vector blocks and the scalar tail.
     */
    @Test
    void axpyRowsIsAxpyRowByRow() {
        Random rnd = new Random(9);
        for (int n : new int[] {1, 7, 16, 63, 64, 65, 80, 131}) {
            for (int rows : new int[] {0, 1, 5, 64}) {
                int stride = n + 3;
                float[] x = RandomTensors.gaussian(rnd, 2 + rows * stride, 1.0);
                float[] e = RandomTensors.gaussian(rnd, rows + 1, 1.0);
                float[] y0 = RandomTensors.gaussian(rnd, n + 4, 1.0);
                float[] y1 = y0.clone(), y2 = y0.clone();
                FloatKernels.axpyRows(y1, 4, e, 1, x, 2, stride, rows, n);
                for (int j = 0; j < rows; j++) FloatKernels.axpy(y2, 4, e[1 + j], x, 2 + j * stride, n);
                for (int i = 0; i < y1.length; i++) {
                    assertThat(Float.floatToIntBits(y1[i])).as("n=%d rows=%d [%d]: %g vs %g", n, rows, i, y1[i], y2[i])
                            .isEqualTo(Float.floatToIntBits(y2[i]));
                }
                float[] y3 = y0.clone();
                FloatKernelsScalar.axpyRows(y3, 4, e, 1, x, 2, stride, rows, n);
                assertRel(y1, y3, 1e-5 * Math.max(1, rows), "axpyRows n=" + n + " rows=" + rows);
            }
        }
    }

    /** dotInOrder's documented order, element by element: eight Math.fma chains, lanes added as a fixed tree, tail. */
    @org.junit.jupiter.api.Test
    void dotHasItsDocumentedOrder() {
        java.util.Random rnd = new java.util.Random(3);
        for (int n : new int[] {1, 7, 8, 9, 64, 67, 128}) {
            float[] a = new float[n + 2], b = new float[n + 1];
            for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextGaussian();
            for (int i = 0; i < b.length; i++) b[i] = (float) rnd.nextGaussian();
            float[] lane = new float[8];
            int i = 0;
            for (; i + 8 <= n; i += 8) for (int l = 0; l < 8; l++) lane[l] = Math.fma(a[2 + i + l], b[1 + i + l], lane[l]);
            float want = 0;
            if (n >= 8) want = ((lane[0] + lane[4]) + (lane[2] + lane[6])) + ((lane[1] + lane[5]) + (lane[3] + lane[7]));
            for (; i < n; i++) want += a[2 + i] * b[1 + i];
            org.assertj.core.api.Assertions.assertThat(Float.floatToIntBits(FloatKernels.dotInOrder(a, 2, b, 1, n))).as("n=%d", n)
                    .isEqualTo(Float.floatToIntBits(want));
        }
    }
}
