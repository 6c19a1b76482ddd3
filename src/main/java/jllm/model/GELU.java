package jllm.model;

/**
 * The Gaussian error linear unit (Hendrycks and Gimpel 2016) in the tanh approximation GPT-2 uses
 * (Hugging Face's {@code gelu_new}, PyTorch's {@code gelu(approximate='tanh')}), and its backward.
 * <pre>
 *   forward:  y = x/2 (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3)
 *   backward: dx += dy (1/2 (1 + tanh u) + x/2 (1 - tanh^2 u) sqrt(2/pi) (1 + 3 0.044715 x^2))
 * </pre>
 * Scalar on purpose: {@link Math#tanh} gives the same bits interpreted and compiled, which the Vector API's TANH
 * lanes do not promise, and a resumed training run must compute exactly what an uninterrupted one does.
 */
public final class GELU {
    private GELU() {}

    static final float SQRT_2_OVER_PI = (float) Math.sqrt(2.0 / Math.PI);
    static final float C = 0.044715f;

    /** out[i] = gelu(x[i]) for i in [from, to); out may alias x. */
    public static void forward(float[] out, float[] x, int from, int to) {
        for (int i = from; i < to; i++) {
            float v = x[i];
            float t = (float) Math.tanh(SQRT_2_OVER_PI * (v + C * v * v * v));
            out[i] = 0.5f * v * (1f + t);
        }
    }

    /** dx[i] += dy[i] gelu'(x[i]) for i in [from, to). */
    public static void backward(float[] dx, float[] dy, float[] x, int from, int to) {
        for (int i = from; i < to; i++) {
            float v = x[i];
            float t = (float) Math.tanh(SQRT_2_OVER_PI * (v + C * v * v * v));
            float d = 0.5f * (1f + t) + 0.5f * v * (1f - t * t) * SQRT_2_OVER_PI * (1f + 3f * C * v * v);
            dx[i] += dy[i] * d;
        }
    }
}
