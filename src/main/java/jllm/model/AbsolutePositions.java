package jllm.model;

import jllm.tensor.Tensor;
import jllm.tensor.kernels.Dequantize;

/**
 * Absolute position encodings added to the token embeddings: a learned (contextLength, dim) table (GPT-2,
 * Radford et al. 2019) or the fixed sinusoids of Vaswani et al. 2017,
 * <pre>  PE(pos, 2i) = sin(pos / 10000^(2i/dim)),   PE(pos, 2i+1) = cos(pos / 10000^(2i/dim))</pre>
 * (added without scaling the token embedding by sqrt(dim)). Only the learned table has a gradient.
 */
public final class AbsolutePositions {
    private AbsolutePositions() {}

    /** x[o..o+dim) += table[pos]; {@code row} is a (dim) work buffer. */
    public static void addLearned(float[] x, int o, Tensor table, int pos, float[] row, int dim) {
        Dequantize.row(row, 0, table, pos);
        for (int i = 0; i < dim; i++) x[o + i] += row[i];
    }

    /** dTable[positions of rows] += dx: row t of sequence b (rows b*T + t) is at position startPos + t. */
    public static void learnedBackward(float[] dTable, float[] dx, int B, int T, int startPos, int dim) {
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < T; t++) {
                int dst = (startPos + t) * dim, src = (b * T + t) * dim;
                for (int i = 0; i < dim; i++) dTable[dst + i] += dx[src + i];
            }
        }
    }

    /** x[o..o+dim) += PE(pos). */
    public static void addSinusoidal(float[] x, int o, int pos, int dim) {
        for (int i = 0; i < dim / 2; i++) {
            double angle = pos * Math.pow(10000.0, -2.0 * i / dim);
            x[o + 2 * i] += (float) Math.sin(angle);
            x[o + 2 * i + 1] += (float) Math.cos(angle);
        }
    }
}
