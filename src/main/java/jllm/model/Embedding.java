package jllm.model;

import jllm.tensor.DequantizeScalar;
import jllm.tensor.Tensor;

/**
 * Token embedding lookup (a row of the (vocab, dim) table per token) and its backward, a scatter-add of each
 * row's gradient into the row of its token. The same table is the output matrix when the output is tied
 * (Press and Wolf 2017), so its gradient gets both contributions.
 */
public final class Embedding {
    private Embedding() {}

    /**
     * out[o..o+dim) = table[token]. One row per token is not worth the vector kernel: called once per decoded token,
     * it would run for hundreds of tokens in the JIT's early tiers, where every vector operation is a heap object;
     * the scalar twin gives the same bits (Dequantize's contract) and allocates nothing in any tier.
     */
    public static void forward(float[] out, int o, Tensor table, int token) {
        DequantizeScalar.dequantize(table.type(), table.data(), table.rowOffset(token), out, o, table.cols());
    }

    /**
     * dTable[tokens[off + t]] += dx[t] for t in [0, rows), in row order (so the sums do not depend on threads).
     */
    public static void backward(float[] dTable, float[] dx, int[] tokens, int off, int rows, int dim) {
        for (int t = 0; t < rows; t++) {
            int dst = tokens[off + t] * dim, src = t * dim;
            for (int i = 0; i < dim; i++) dTable[dst + i] += dx[src + i];
        }
    }
}
