package jllm.model;

/**
 * Root mean square layer normalisation (Zhang and Sennrich 2019): y = x / sqrt(mean(x^2) + eps) * w.
 * The sum of squares is accumulated in double so it does not depend on the summation order of a SIMD kernel.
 */
public final class RMSNorm {
    private RMSNorm() {}

    /** out[o..o+n) = rmsnorm(x[xo..xo+n)) * weight; out may alias x. */
    public static void forward(float[] out, int o, float[] x, int xo, float[] weight, float eps, int n) {
        double ss = 0;
        for (int i = 0; i < n; i++) {
            float v = x[xo + i];
            ss += v * v;
        }
        float scale = (float) (1.0 / Math.sqrt(ss / n + eps));
        for (int i = 0; i < n; i++) out[o + i] = x[xo + i] * scale * weight[i];
    }
}
