package jllm.model;

/**
 * SwiGLU gating (Shazeer 2020, "GLU Variants Improve Transformer") and its backward.
 * <pre>
 *   forward:  out = silu(g) u,  silu(g) = g s(g),  s = sigmoid
 *   backward: dg += dout u s(g) (1 + g (1 - s(g))),   du += dout silu(g)
 * </pre>
 * Scalar {@link Math#exp}: the same bits interpreted and compiled (see {@link GELU}).
 */
public final class SwiGLU {
    private SwiGLU() {}

    /** out[i] = silu(gate[i]) * up[i]; out may alias gate. */
    public static void forward(float[] out, float[] gate, float[] up, int n) {
        forward(out, gate, up, 0, n);
    }

    /** out[i] = silu(gate[i]) * up[i] for i in [from, to); out may alias gate or up. */
    public static void forward(float[] out, float[] gate, float[] up, int from, int to) {
        for (int i = from; i < to; i++) {
            float g = gate[i];
            out[i] = g / (1f + (float) Math.exp(-g)) * up[i];
        }
    }

    /** dGate[i] += ..., dUp[i] += ... for i in [from, to), given dOut and the forward's inputs. */
    public static void backward(float[] dGate, float[] dUp, float[] dOut, float[] gate, float[] up, int from, int to) {
        for (int i = from; i < to; i++) {
            float g = gate[i];
            float s = 1f / (1f + (float) Math.exp(-g));
            float d = dOut[i];
            dGate[i] += d * up[i] * s * (1f + g * (1f - s));
            dUp[i] += d * g * s;
        }
    }
}
