package jllm.estimate;

import jllm.estimate.ActivationMemory.Recompute;

/**
 * Floating-point operation counts of transformer training and inference.
 *
 * <p>Rules of thumb (Kaplan et al. 2020, Sec. 2.1): training costs C = 6ND (forward 2ND, backward 4ND) for N
 * parameters and D tokens; full activation recomputation repeats the forward, 8ND. For a mixture of experts
 * N is the parameters a token uses.
 *
 * <p>Exact count (Narayanan et al. 2021, "Efficient Large-Scale Language Model Training on GPU Clusters Using
 * Megatron-LM", Sec. 5.1 and Appendix): per token and layer the forward pass does 2 FLOPs per weight of every
 * linear layer and 4*s*a*d for the attention scores QK^T and their weighted sum with V (s = context, a*d =
 * query width), and the output layer 2*h*V. Training does this three times; full recomputation adds a second
 * forward of the layers (not of the output layer), selective recomputation a second attention core. For GPT
 * shapes this is their 72*B*s*l*h^2*(1 + s/(6h) + V/(12lh)) and, with recomputation, 96*B*s*l*h^2*(1 + s/(6h) +
 * V/(16lh)); PaLM's Appendix B counts the same attention term as 12*L*H*Q*T.
 */
public final class Flops {
    private Flops() {}

    /** How training FLOPs are counted. */
    public enum Method { SIX_ND, EXACT }

    /** Forward FLOPs of the linear layers and the output layer for one token: 2 per weight used. */
    public static double linearPerToken(ModelShape s) {
        return 2.0 * s.matmulParamsPerToken();
    }

    /** Forward FLOPs of the output layer alone for one token: 2*h*V (none for encoder-only models). */
    public static double logitsPerToken(ModelShape s) {
        return s.arch() == ModelShape.Arch.ENCODER ? 0 : 2.0 * s.hidden() * s.vocab();
    }

    /** Forward FLOPs of attention scores and their use for one token attending over {@code ctx} positions. */
    public static double attentionPerToken(ModelShape s, double ctx) {
        double blocks = s.layers() + 2.0 * s.decoderLayers(); // decoders attend to themselves and to the encoder
        return 4.0 * ctx * s.qDim() * blocks;
    }

    /** Forward FLOPs for one token with {@code ctx} positions of context. */
    public static double forwardPerToken(ModelShape s, double ctx) {
        return linearPerToken(s) + attentionPerToken(s, ctx);
    }

    /** Training FLOPs per token, exact per-layer count, at sequence length {@code seq}. */
    public static double trainingPerToken(ModelShape s, long seq, Recompute recompute) {
        double fwd = forwardPerToken(s, seq);
        double t = 3 * fwd;
        if (recompute == Recompute.FULL) t += fwd - logitsPerToken(s);
        else if (recompute == Recompute.SELECTIVE) t += attentionPerToken(s, seq);
        return t;
    }

    /** Training FLOPs per token by the rule of thumb: 6N, or 8N with full recomputation. */
    public static double ruleOfThumbPerToken(long activeParams, Recompute recompute) {
        return (recompute == Recompute.FULL ? 8.0 : 6.0) * activeParams;
    }
}
