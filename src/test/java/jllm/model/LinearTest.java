package jllm.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import jllm.tensor.DequantizeScalar;
import jllm.tensor.GGMLType;
import jllm.tensor.Quantize;
import jllm.tensor.Tensor;

/**
 * {@link Linear#apply} against its definition, y[t][r] = sum_c W[r][c] x~[t][c] (x~ = x rounded to the weight's half
 * type for F16/BF16 weights, as ggml does), summed in double from the scalar dequantization of W, for batch sizes on
 * both sides of every switch (8-bit or float activations, MatMul or Sgemm, slices) and with an output offset.
 * Tolerance: 1e-5 of sum_c |W[r][c] x~[t][c]| (float sums in another order); 1e-2 with 8-bit activations.
 */
class LinearTest {

    @Test
    void applyMatchesTheDefinitionOnEveryPath() {
        int rows = 72, cols = 96;
        SplittableRandom r = new SplittableRandom(3);
        try (Linear linear = new Linear(2)) {
            for (GGMLType type : new GGMLType[] {GGMLType.F32, GGMLType.F16, GGMLType.BF16, GGMLType.Q8_0}) {
                float[] v = new float[rows * cols];
                for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
                Tensor w = type == GGMLType.F32 ? Tensor.ofFloats("w", v, cols, rows) : Tensor.quantize("w", type, v, cols, rows);
                float[] wf = new float[rows * cols];
                DequantizeScalar.dequantize(type, w.data(), 0, wf, 0, rows * cols);
                for (int T : new int[] {1, Linear.FLOAT_BATCH_MIN_ROWS - 1, Linear.FLOAT_BATCH_MIN_ROWS, Linear.SGEMM_MIN_ROWS - 1,
                        Linear.SGEMM_MIN_ROWS, 2 * Linear.FLOAT_BATCH_SLICE + 1, 2 * Linear.SGEMM_MIN_ROWS + 3}) {
                    float[] x = new float[T * cols];
                    for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
                    int off = 7;
                    float[] out = new float[off + T * rows + 5];
                    java.util.Arrays.fill(out, 42f);
                    linear.apply(out, off, w, x, T);
                    double worst = 0;
                    for (int t = 0; t < T; t++) {
                        for (int o = 0; o < rows; o++) {
                            double sum = 0, abs = 0;
                            for (int c = 0; c < cols; c++) {
                                double p = (double) wf[o * cols + c] * rounded(type, x[t * cols + c]);
                                sum += p;
                                abs += Math.abs(p);
                            }
                            double err = Math.abs(out[off + t * rows + o] - sum) / abs;
                            worst = Math.max(worst, err);
                        }
                    }
                    // Q8_0 weights take 8-bit activations below FLOAT_BATCH_MIN_ROWS rows (ggml's int8 path): the error is
                    // then the activation quantization's (1/127 of a block's largest value); float activations otherwise
                    double tol = type == GGMLType.Q8_0 && T < Linear.FLOAT_BATCH_MIN_ROWS ? 1e-2 : 1e-5;
                    assertThat(worst).as("%s T=%d: max error relative to sum |terms|", type, T).isLessThan(tol);
                    assertThat(out[off - 1]).as("before the output").isEqualTo(42f);
                    assertThat(out[off + T * rows]).as("after the output").isEqualTo(42f);
                }
            }
        }
    }

    private static float rounded(GGMLType type, float v) {
        return switch (type) {
            case F16 -> Float.float16ToFloat(Float.floatToFloat16(v));
            case BF16 -> Float.intBitsToFloat(Quantize.floatToBf16(v) << 16);
            default -> v;
        };
    }
}
