package jllm.model;

/**
 * Softmax cross-entropy of logits against target token ids, with a loss mask, and its backward, done in place on
 * the logits (they are not needed after the backward).
 * <pre>
 *   per row t with target y_t >= 0:  loss_t = logsumexp(z_t) - z_t[y_t]        (rows with y_t < 0 are masked)
 *   loss = sum_t loss_t / count,  count = number of unmasked rows
 *   backward: dz_t = scale (softmax(z_t) - onehot(y_t)) for unmasked rows, 0 for masked rows
 * </pre>
 * The log-sum-exp is accumulated in double with the maximum subtracted first. Scalar {@link Math#exp} on purpose: it
 * gives the same bits interpreted and compiled (Vector API EXP lanes need not), so a resumed run is bit-exact.
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
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) max = Math.max(max, logits[o + i]);
        double sum = 0;
        for (int i = 0; i < vocab; i++) sum += Math.exp(logits[o + i] - max);
        float l = (float) (max + Math.log(sum));
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
        float l = lse[t];
        for (int i = 0; i < vocab; i++) logits[o + i] = (float) Math.exp(logits[o + i] - l) * scale;
        logits[o + y] -= scale;
    }

    /** The number of unmasked rows of targets[0, rows). */
    public static int count(int[] targets, int rows) {
        int n = 0;
        for (int t = 0; t < rows; t++) if (targets[t] >= 0) n++;
        return n;
    }
}
