package jllm.model;

/**
 * Layer normalisation (Ba, Kiros and Hinton 2016) with a weight and a bias, as GPT-2 uses it, and its backward.
 * <pre>
 *   forward:  mu = mean(x), r = 1 / sqrt(var(x) + eps), xhat = (x - mu) r,  y = xhat w + b
 *   backward: dw += dy xhat,  db += dy,  g = dy w
 *             dx += r (g - mean(g) - xhat mean(g xhat))
 * </pre>
 * Mean and variance are accumulated in double. The backward keeps the input x and (mu, r) per row.
 */
public final class LayerNorm {
    private LayerNorm() {}

    /**
     * out[o..o+n) = layernorm(x[xo..xo+n)) * weight + bias (bias may be null); out may alias x. Stores mu and r of
     * the row in mean[row], rstd[row].
     */
    public static void forward(float[] out, int o, float[] x, int xo, float[] weight, float[] bias, float eps, int n,
                               float[] mean, float[] rstd, int row) {
        double s = 0;
        for (int i = 0; i < n; i++) s += x[xo + i];
        double mu = s / n;
        double v = 0;
        for (int i = 0; i < n; i++) {
            double d = x[xo + i] - mu;
            v += d * d;
        }
        float m = (float) mu;
        float r = (float) (1.0 / Math.sqrt(v / n + eps));
        for (int i = 0; i < n; i++) {
            float y = (x[xo + i] - m) * r * weight[i];
            out[o + i] = bias == null ? y : y + bias[i];
        }
        mean[row] = m;
        rstd[row] = r;
    }

    /** dx[o..o+n) += the input gradient of one row, given its dy, input x, mu and r. */
    public static void backward(float[] dx, int o, float[] dy, float[] x, float[] weight, float mu, float r, int n) {
        double sg = 0, sgx = 0;
        for (int i = 0; i < n; i++) {
            double g = (double) dy[o + i] * weight[i];
            sg += g;
            sgx += g * ((x[o + i] - mu) * r);
        }
        float mg = (float) (sg / n), mgx = (float) (sgx / n);
        for (int i = 0; i < n; i++) {
            float xhat = (x[o + i] - mu) * r;
            dx[o + i] += r * (dy[o + i] * weight[i] - mg - xhat * mgx);
        }
    }

    /** dw[i] += sum_t dy[t][i] xhat[t][i], db[i] += sum_t dy[t][i] (db may be null), for columns [from, to). */
    public static void weightBackward(float[] dw, float[] db, float[] dy, float[] x, float[] mean, float[] rstd,
                                      int rows, int n, int from, int to) {
        for (int t = 0; t < rows; t++) {
            int o = t * n;
            float mu = mean[t], r = rstd[t];
            for (int i = from; i < to; i++) {
                dw[i] += dy[o + i] * ((x[o + i] - mu) * r);
                if (db != null) db[i] += dy[o + i];
            }
        }
    }
}
