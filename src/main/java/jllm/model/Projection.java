package jllm.model;

import jllm.tensor.Tensor;

/**
 * The linear projections of a decoder block, by role, named as GGUF names their weights (llama.cpp's tensor-name
 * table): the attention's query, key, value and output projections and the MLP's gate (SwiGLU only), up and down
 * projections. The one place that says, for a {@link ModelConfig}, each projection's input and output width and where
 * its weight, bias and gradients live, so that code adapting projections (LoRA) does not repeat the block's layout.
 * <pre>
 *   Q    attn_q       dim    -> qDim        K, V  attn_k, attn_v   dim -> kvDim
 *   O    attn_output  qDim   -> dim
 *   GATE ffn_gate     dim    -> ffnDim      UP    ffn_up           dim -> ffnDim      DOWN  ffn_down  ffnDim -> dim
 * </pre>
 */
public enum Projection {
    Q("attn_q"), K("attn_k"), V("attn_v"), O("attn_output"), GATE("ffn_gate"), UP("ffn_up"), DOWN("ffn_down");

    private final String gguf;

    Projection(String gguf) {
        this.gguf = gguf;
    }

    /** The GGUF role, e.g. {@code attn_q}. */
    public String ggufRole() { return gguf; }

    /** The GGUF name of layer l's weight, e.g. {@code blk.3.attn_q.weight}. */
    public String weightName(int l) {
        return "blk." + l + "." + gguf + ".weight";
    }

    /** Whether blocks of config c have this projection (the gate only in SwiGLU MLPs). */
    public boolean exists(ModelConfig c) {
        return this != GATE || c.mlp() == ModelConfig.Mlp.SWIGLU;
    }

    /** Input features. */
    public int in(ModelConfig c) {
        return switch (this) {
            case Q, K, V, GATE, UP -> c.dim();
            case O -> c.qDim();
            case DOWN -> c.ffnDim();
        };
    }

    /** Output features. */
    public int out(ModelConfig c) {
        return switch (this) {
            case Q -> c.qDim();
            case K, V -> c.kvDim();
            case O, DOWN -> c.dim();
            case GATE, UP -> c.ffnDim();
        };
    }

    /** Layer l's weight (out, in). */
    public Tensor weight(LlamaWeights w, int l) {
        Tensor[] a = switch (this) {
            case Q -> w.wq();
            case K -> w.wk();
            case V -> w.wv();
            case O -> w.wo();
            case GATE -> w.wGate();
            case UP -> w.wUp();
            case DOWN -> w.wDown();
        };
        return a == null ? null : a[l];
    }

    /** Layer l's bias (out), or null. */
    public float[] bias(LlamaWeights w, int l) {
        return at(switch (this) {
            case Q -> w.bq();
            case K -> w.bk();
            case V -> w.bv();
            case O -> w.bo();
            case GATE -> w.bGate();
            case UP -> w.bUp();
            case DOWN -> w.bDown();
        }, l);
    }

    /** Layer l's weight gradient (out * in floats), or null when g is null (a frozen base). */
    public float[] weightGrad(Gradients g, int l) {
        if (g == null) return null;
        return at(switch (this) {
            case Q -> g.wq;
            case K -> g.wk;
            case V -> g.wv;
            case O -> g.wo;
            case GATE -> g.wGate;
            case UP -> g.wUp;
            case DOWN -> g.wDown;
        }, l);
    }

    /** Layer l's bias gradient, or null (no bias, or a frozen base). */
    public float[] biasGrad(Gradients g, int l) {
        if (g == null) return null;
        return at(switch (this) {
            case Q -> g.bq;
            case K -> g.bk;
            case V -> g.bv;
            case O -> g.bo;
            case GATE -> g.bGate;
            case UP -> g.bUp;
            case DOWN -> g.bDown;
        }, l);
    }

    private static float[] at(float[][] a, int l) {
        return a == null ? null : a[l];
    }
}
