package jllm.tensor.kernels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;

import jllm.tensor.GGMLType;
import jllm.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * {@link Sgemm} against its scalar twin {@link SgemmScalar} for the three layouts training uses (X W^T, dY W,
 * dY^T X), for F32, F16 and BF16 weights, on sizes that are and are not multiples of the tile (4 rows x 4 vectors)
 * and of the panel depth, on 1, 2 and 3 threads; C starts non-zero to check that the product is added.
 * Tolerance: 1e-5 times {@code sum_k |A(i,k) B(k,j)|} per element (float rounding of a reordered sum).
 * Also: the result is bit-for-bit the same on 1 and 3 threads (a fixed order per element).
 */
class SgemmTest {
    static final double REL = 1e-5;

    @Test
    void matchesScalarTwinForEveryLayoutTypeAndThreadCount() {
        Random rnd = new Random(5);
        int[][] shapes = {{1, 1, 1}, {4, 64, 128}, {7, 33, 5}, {37, 70, 300}, {130, 17, 129}, {16, 200, 64}};
        for (int threads = 1; threads <= 3; threads++) {
            try (WorkerPool pool = new WorkerPool(threads)) {
                Sgemm g = new Sgemm(pool);
                for (int[] s : shapes) {
                    int M = s[0], N = s[1], K = s[2];
                    // A row-major, B row-major floats with an offset
                    float[] a = RandomTensors.gaussian(rnd, 3 + M * K, 1.0);
                    float[] b = RandomTensors.gaussian(rnd, 2 + K * N, 1.0);
                    check(g, a, 3, K, 1, Sgemm.Operand.of(b, 2, N, 1), b, 2, N, 1, M, N, K, "row-major " + threads);
                    // A transposed (dY^T), B strided by columns
                    float[] at = RandomTensors.gaussian(rnd, K * M, 1.0);
                    float[] bt = RandomTensors.gaussian(rnd, N * K, 1.0);
                    check(g, at, 0, 1, M, Sgemm.Operand.of(bt, 0, 1, K), bt, 0, 1, K, M, N, K, "transposed " + threads);
                    for (GGMLType type : new GGMLType[] {GGMLType.F32, GGMLType.F16, GGMLType.BF16}) {
                        Tensor w = RandomTensors.rawBytes(rnd, type, K, N);   // W (K rows, N cols): B = W
                        float[] wf = w.toFloatArray();
                        check(g, a, 3, K, 1, Sgemm.Operand.of(w, false), wf, 0, N, 1, M, N, K, type + " W " + threads);
                        Tensor wt = RandomTensors.rawBytes(rnd, type, N, K);  // W (N rows, K cols): B = W^T
                        float[] wtf = wt.toFloatArray();
                        check(g, a, 3, K, 1, Sgemm.Operand.of(wt, true), wtf, 0, 1, K, M, N, K, type + " W^T " + threads);
                    }
                }
            }
        }
    }

    /**
     * Quantized weights as B = W^T (the forward product x W^T of prompt processing): against the scalar twin on the
     * scalar dequantization of W, for every block type, with K spanning several panels of KC and (for the 256-blocks
     * of the K-quants) super-blocks that straddle two panels.
     */
    @Test
    void quantizedWeightsTransposedMatchTheirDequantization() {
        Random rnd = new Random(9);
        for (int threads = 1; threads <= 2; threads++) {
            try (WorkerPool pool = new WorkerPool(threads)) {
                Sgemm g = new Sgemm(pool);
                for (GGMLType type : new GGMLType[] {GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K, GGMLType.Q4_0_R, GGMLType.Q8_0_R, GGMLType.Q4_K_R16}) {
                    // Q4_0_R, Q8_0_R: three 512-weight groups, each split across panels of KC columns
                    int K = type.blockSize == 512 ? 3 * 512 : type.blockSize == 256 ? 3 * 256 : 7 * 32 + 5 * Sgemm.KC, N = 70, M = 9;
                    float[] v = RandomTensors.gaussian(rnd, N * K, 1.0);
                    Tensor wt = Tensor.quantize("w", type, v, K, N);   // W (N rows, K cols)
                    float[] wtf = new float[N * K];
                    jllm.tensor.DequantizeScalar.dequantize(type, wt.data(), 0, wtf, 0, N * K);
                    float[] a = RandomTensors.gaussian(rnd, 3 + M * K, 1.0);
                    check(g, a, 3, K, 1, Sgemm.Operand.of(wt, true), wtf, 0, 1, K, M, N, K, type + " W^T " + threads);
                }
            }
        }
    }

    private static void check(Sgemm g, float[] a, int aOff, int aRow, int aCol, Sgemm.Operand b,
                              float[] bf, int bOff, int bRow, int bCol, int M, int N, int K, String what) {
        int ldc = N + 3;
        float[] c = RandomTensors.gaussian(new Random(M * 7L + N), M * ldc, 1.0);
        float[] ref = c.clone();
        g.gemm(c, 0, ldc, a, aOff, aRow, aCol, b, M, N, K);
        SgemmScalar.gemm(ref, 0, ldc, a, aOff, aRow, aCol, bf, bOff, bRow, bCol, M, N, K);
        for (int i = 0; i < M; i++) {
            for (int j = 0; j < ldc; j++) {
                double scale = 1;
                if (j < N) for (int k = 0; k < K; k++) scale += Math.abs((double) a[aOff + i * aRow + k * aCol] * bf[bOff + k * bRow + j * bCol]);
                else assertThat(c[i * ldc + j]).as("%s: padding column %d untouched", what, j).isEqualTo(ref[i * ldc + j]);
                assertThat(Math.abs(c[i * ldc + j] - ref[i * ldc + j]) / scale)
                        .as("%s M %d N %d K %d at (%d, %d)", what, M, N, K, i, j).isLessThanOrEqualTo(REL);
            }
        }
    }

    @Test
    void sameBitsOnOneAndThreeThreads() {
        Random rnd = new Random(9);
        int M = 67, N = 150, K = 260;
        float[] a = RandomTensors.gaussian(rnd, M * K, 1.0);
        float[] b = RandomTensors.gaussian(rnd, K * N, 1.0);
        float[] c1 = new float[M * N], c3 = new float[M * N];
        try (WorkerPool p1 = new WorkerPool(1); WorkerPool p3 = new WorkerPool(3)) {
            new Sgemm(p1).gemm(c1, 0, N, a, 0, K, 1, Sgemm.Operand.of(b, 0, N, 1), M, N, K);
            new Sgemm(p3).gemm(c3, 0, N, a, 0, K, 1, Sgemm.Operand.of(b, 0, N, 1), M, N, K);
        }
        assertThat(c3).containsExactly(c1);
    }

    @Test
    void rejectsOperandsThatDoNotHoldTheirShape() {
        try (WorkerPool pool = new WorkerPool(1)) {
            Sgemm g = new Sgemm(pool);
            assertThatThrownBy(() -> g.gemm(new float[6], 0, 3, new float[3], 0, 2, 1, Sgemm.Operand.of(new float[6], 0, 3, 1), 2, 3, 2))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("A of 2 x 2");
            Tensor w = Tensor.ofFloats("w", new float[8], 4, 2);
            assertThatThrownBy(() -> g.gemm(new float[8], 0, 4, new float[4], 0, 2, 1, Sgemm.Operand.of(w, true), 2, 4, 2))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("w transposed is 4 x 2");
            assertThatThrownBy(() -> Sgemm.Operand.of(Tensor.quantize("q", GGMLType.Q8_0, new float[32], 32), false))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Q8_0").hasMessageContaining("only as W^T");
        }
    }
}
