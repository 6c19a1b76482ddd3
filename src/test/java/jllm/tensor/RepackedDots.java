package jllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import jllm.tensor.kernels.Q8Activation;
import jllm.tensor.kernels.RowDotInt8;

/** The int8 dot products of a matrix repacked at load time, against those of the file's layout. */
final class RepackedDots {
    private RepackedDots() {}

    /**
     * For each of the first {@code rows} rows: the repacked type's scalar twin and kernel equal the file type's scalar
     * twin within 1e-6 of sum |w x| (the integer sums are the same numbers; only the float additions' order differs).
     * Returns the largest |repacked kernel - file kernel| / sum |w x|.
     */
    static double worstAgainstFileLayout(Tensor file, Tensor packed, Q8Activation a, int rows) {
        int cols = file.cols();
        float[] wf = file.toFloatArray();
        double worst = 0;
        for (int row = 0; row < rows; row++) {
            double absTerms = 0;
            for (int i = 0; i < cols; i++) absTerms += Math.abs((double) wf[row * cols + i] * a.value(i));
            float want = RowDotInt8.dotScalar(file.type(), file.data(), file.rowOffset(row), a);
            float scalar = RowDotInt8.dotScalar(packed.type(), packed.data(), packed.rowOffset(row), a);
            float vector = RowDotInt8.dot(packed.type(), packed.data(), packed.rowOffset(row), a);
            float fileKernel = RowDotInt8.dot(file.type(), file.data(), file.rowOffset(row), a);
            assertThat((double) Math.abs(scalar - want)).as("scalar twins, cols %d row %d", cols, row).isLessThanOrEqualTo(1e-6 * absTerms);
            assertThat((double) Math.abs(vector - want)).as("kernel, cols %d row %d", cols, row).isLessThanOrEqualTo(1e-6 * absTerms);
            worst = Math.max(worst, Math.abs(vector - fileKernel) / absTerms);
        }
        return worst;
    }
}
