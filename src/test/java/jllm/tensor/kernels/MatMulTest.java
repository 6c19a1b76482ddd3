package jllm.tensor.kernels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import jllm.tensor.GGMLType;
import jllm.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * matVec against the scalar row dot, and the tiled matMul against T scalar matVecs, for every type, odd row
 * counts, several widths and token counts, on pools of 1, 2 and 3 threads. Tolerance: 1e-5 times
 * {@code sum |w x|} per output.
 */
class MatMulTest {
    static final double REL = 1e-5;

    static void assertClose(String what, float got, float ref, double scale) {
        assertThat(Math.abs(got - ref) / Math.max(scale, 1e-30)).as("%s: %g vs %g", what, got, ref).isLessThanOrEqualTo(REL);
    }

    @Test
    void matVecAndMatMulMatchScalarReferenceOnPoolsOf1To3Threads() {
        Random rnd = new Random(11);
        for (int threads = 1; threads <= 3; threads++) {
            try (WorkerPool pool = new WorkerPool(threads)) {
                MatMul mm = new MatMul(pool);
                for (GGMLType type : RandomTensors.ALL) {
                    int[] widths = RandomTensors.widths(type);
                    for (int wi = 0; wi < widths.length; wi += 2) {
                        int cols = widths[wi];
                        int rows = 37;
                        Tensor w = RandomTensors.rawBytes(rnd, type, rows, cols);
                        float[] wf = w.toFloatArray();
                        for (int T : new int[] {1, 3, 6}) {
                            float[] x = RandomTensors.gaussian(rnd, 5 + T * cols, 1.0);
                            float[] out = new float[2 + T * rows];
                            mm.matMul(out, 2, w, x, 5, T);
                            float[] outVec = new float[rows + 1];
                            for (int t = 0; t < T; t++) {
                                mm.matVec(outVec, 1, w, x, 5 + t * cols);
                                for (int r = 0; r < rows; r++) {
                                    float ref = RowDotScalar.dot(type, w.data(), w.rowOffset(r), x, 5 + t * cols, cols);
                                    double scale = 0;
                                    for (int c = 0; c < cols; c++) scale += Math.abs((double) wf[r * cols + c] * x[5 + t * cols + c]);
                                    String what = type + " threads " + threads + " cols " + cols + " T " + T + " t " + t + " r " + r;
                                    assertClose("matMul " + what, out[2 + t * rows + r], ref, scale);
                                    assertClose("matVec " + what, outVec[1 + r], ref, scale);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void rejectsMismatchedSizes() {
        try (WorkerPool pool = new WorkerPool(2)) {
            MatMul mm = new MatMul(pool);
            Tensor w = Tensor.ofFloats("w", new float[64], 32, 2);
            assertThatThrownBy(() -> mm.matVec(new float[2], w, new float[31]))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("31");
            assertThatThrownBy(() -> mm.matMul(new float[3], w, new float[64], 2))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("output");
        }
    }
}
