package jllm.tensor.kernels;

/** The scalar twin of {@link Activations}: the same definitions with {@link Math#tanh} and {@link Math#exp}. */
public final class ActivationsScalar {
    private ActivationsScalar() {}

    public static void gelu(float[] out, float[] x, int from, int to) {
        for (int i = from; i < to; i++) {
            float v = x[i];
            float t = (float) Math.tanh(Activations.SQRT_2_OVER_PI * (v + Activations.C * v * v * v));
            out[i] = 0.5f * v * (1f + t);
        }
    }

    public static void geluBackward(float[] dx, float[] dy, float[] x, int from, int to) {
        float s = Activations.SQRT_2_OVER_PI, c = Activations.C;
        for (int i = from; i < to; i++) {
            float v = x[i];
            float t = (float) Math.tanh(s * (v + c * v * v * v));
            float d = 0.5f * (1f + t) + 0.5f * v * (1f - t * t) * s * (1f + 3f * c * v * v);
            dx[i] += dy[i] * d;
        }
    }

    public static float logSumExp(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[off + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.exp(x[off + i] - max);
        return (float) (max + Math.log(sum));
    }

    public static void softmaxScaled(float[] x, int off, int n, float lse, float scale) {
        for (int i = 0; i < n; i++) x[off + i] = (float) Math.exp(x[off + i] - lse) * scale;
    }
}
