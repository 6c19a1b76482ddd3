package jllm.model;

import jllm.tensor.kernels.Activations;

/**
 * Softmax cross-entropy of logits against target token ids, with a loss mask, and its backward, done in place on
 * the logits (they are not needed after the backward).
 * <pre>
 *   per row t with target y_t >= 0:  loss_t = logsumexp(z_t) - z_t[y_t]        (rows with y_t < 0 are masked)
 *   loss = sum_t loss_t / count,  count = number of unmasked rows
 *   backward: dz_t = scale (softmax(z_t) - onehot(y_t)) for unmasked rows, 0 for masked rows
 * </pre>
 * The log-sum-exp subtracts the maximum first (vector kernels, scalar twins in the kernels package).
 */
public final class CrossEntropy {
    private CrossEntropy() {}

    /** The target id that marks a row whose prediction is not scored (PyTorch's ignore_index, here any negative id). */
    public static final int IGNORE = -1;

    /**
     * Row t's loss (0 when masked) into rowLoss[t], and its log-sum-exp into lse[t]; logits (rows, vocab).
     */
    public static void forwardRow(float[] rowLoss, float[] lse, float[] logits, int[] targets, int t, int vocab) {
        int y = targets[t];
        if (y >= vocab) throw new IllegalArgumentException("target id " + y + " is out of range [0, " + vocab + ")");
        int o = t * vocab;
        float l = Activations.logSumExp(logits, o, vocab);
        lse[t] = l;
        rowLoss[t] = y < 0 ? 0f : l - logits[o + y];
    }

    /** Row t of the logits becomes scale * (softmax - onehot(target)), or 0 when masked. */
    public static void backwardRow(float[] logits, float[] lse, int[] targets, int t, int vocab, float scale) {
        int o = t * vocab, y = targets[t];
        if (y < 0) {
            java.util.Arrays.fill(logits, o, o + vocab, 0f);
            return;
        }
        Activations.softmaxScaled(logits, o, vocab, lse[t], scale);
        logits[o + y] -= scale;
    }

    /** The number of unmasked rows of targets[0, rows). */
    public static int count(int[] targets, int rows) {
        int n = 0;
        for (int t = 0; t < rows; t++) if (targets[t] >= 0) n++;
        return n;
    }
}
