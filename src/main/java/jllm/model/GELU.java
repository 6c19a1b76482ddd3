package jllm.model;

import jllm.tensor.kernels.Activations;

/**
 * The Gaussian error linear unit (Hendrycks and Gimpel 2016) in the tanh approximation GPT-2 uses
 * (Hugging Face's {@code gelu_new}, PyTorch's {@code gelu(approximate='tanh')}), and its backward.
 * <pre>
 *   forward:  y = x/2 (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3)
 *   backward: dx += dy (1/2 (1 + tanh u) + x/2 (1 - tanh^2 u) sqrt(2/pi) (1 + 3 0.044715 x^2))
 * </pre>
 */
public final class GELU {
    private GELU() {}

    /** out[i] = gelu(x[i]) for i in [from, to); out may alias x (vector kernel, scalar twin in the kernels). */
    public static void forward(float[] out, float[] x, int from, int to) {
        Activations.gelu(out, x, from, to);
    }

    /** dx[i] += dy[i] gelu'(x[i]) for i in [from, to). */
    public static void backward(float[] dx, float[] dy, float[] x, int from, int to) {
        Activations.geluBackward(dx, dy, x, from, to);
    }
}
