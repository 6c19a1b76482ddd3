package jllm.model;

/**
 * SwiGLU gating (Shazeer 2020, "GLU Variants Improve Transformer"): out = silu(gate) * up,
 * silu(x) = x * sigmoid(x).
 */
public final class SwiGLU {
    private SwiGLU() {}

    /** out[i] = silu(gate[i]) * up[i]; out may alias gate. */
    public static void forward(float[] out, float[] gate, float[] up, int n) {
        for (int i = 0; i < n; i++) {
            float g = gate[i];
            out[i] = g / (1f + (float) Math.exp(-g)) * up[i];
        }
    }
}
