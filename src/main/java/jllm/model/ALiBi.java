package jllm.model;

/**
 * Attention with linear biases (Press, Smith and Lewis 2022, "Train Short, Test Long"): no position embedding;
 * the score of query position i for key position j gets {@code -m_h (i - j)}, with one slope per head. For n
 * heads a power of two the slopes are the geometric sequence starting at and with ratio {@code 2^(-8/n)}; otherwise
 * the slopes of the nearest lower power of two, followed by every other slope of twice that power (the paper's
 * reference implementation). The bias has no parameters, so it has no gradient of its own.
 */
public final class ALiBi {
    private ALiBi() {}

    /** The slope m_h of every head h in [0, nHeads). */
    public static float[] slopes(int nHeads) {
        if (nHeads <= 0) throw new IllegalArgumentException("head count " + nHeads + " is not positive");
        double[] s = slopesDouble(nHeads);
        float[] out = new float[nHeads];
        for (int i = 0; i < nHeads; i++) out[i] = (float) s[i];
        return out;
    }

    private static double[] slopesDouble(int n) {
        int p = Integer.highestOneBit(n);
        double[] out = new double[n];
        double start = Math.pow(2, -8.0 / p);
        for (int i = 0; i < p; i++) out[i] = Math.pow(start, i + 1);
        if (p != n) {
            double[] twice = slopesDouble(2 * p);
            for (int i = 0; i < n - p; i++) out[p + i] = twice[2 * i];
        }
        return out;
    }
}
