package jllm.model;

/**
 * Root mean square layer normalisation (Zhang and Sennrich 2019) and its backward.
 * <pre>
 *   forward:  r = 1 / sqrt(mean(x^2) + eps),   y_i = x_i r w_i
 *   backward: dw_i += dy_i x_i r
 *             dx_i += r dy_i w_i - (r^3 / n) x_i sum_j dy_j w_j x_j
 * </pre>
 * The sum of squares is accumulated in double so it does not depend on the summation order of a SIMD kernel.
 * The backward keeps only the input x and r per row.
 */
public final class RMSNorm {
    private RMSNorm() {}

    /** out[o..o+n) = rmsnorm(x[xo..xo+n)) * weight; out may alias x. Returns r, the reciprocal RMS. */
    public static float forward(float[] out, int o, float[] x, int xo, float[] weight, float eps, int n) {
        double ss = 0;
        for (int i = 0; i < n; i++) {
            float v = x[xo + i];
            ss += v * v;
        }
        float scale = (float) (1.0 / Math.sqrt(ss / n + eps));
        for (int i = 0; i < n; i++) out[o + i] = x[xo + i] * scale * weight[i];
        return scale;
    }

    /** dx[o..o+n) += the input gradient of one row, given its dy, input x and r. */
    public static void backward(float[] dx, int o, float[] dy, float[] x, float[] weight, float r, int n) {
        double dot = 0;
        for (int i = 0; i < n; i++) dot += (double) dy[o + i] * weight[i] * x[o + i];
        float c = (float) (dot * r * r * r / n);
        for (int i = 0; i < n; i++) dx[o + i] += r * dy[o + i] * weight[i] - c * x[o + i];
    }

    /**
     * dw[i] += sum over rows t of dy[t][i] x[t][i] r[t], for columns i in [from, to) (rows of width n): split by
     * columns so that threads never add into the same element and each sum runs over the rows in order.
     */
    public static void weightBackward(float[] dw, float[] dy, float[] x, float[] r, int rows, int n, int from, int to) {
        for (int t = 0; t < rows; t++) {
            int o = t * n;
            float rt = r[t];
            for (int i = from; i < to; i++) dw[i] += dy[o + i] * x[o + i] * rt;
        }
    }
}
