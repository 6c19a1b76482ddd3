package jllm.model;

/**
 * The architecture of a decoder-only transformer as data (ARCHITECTURE invariant 4): the loader fills it from a
 * model file's metadata and the forward pass is chosen by it, not by class. The LLaMA block (RMSNorm, SwiGLU,
 * RoPE, no biases) and the GPT-2 block (LayerNorm with bias, GELU MLP, learned absolute positions, biases on every
 * linear layer, tied output) are two settings of the same record.
 *
 * <pre>
 *   dim        model width d_model            nHeads   query heads      nKvHeads  key/value heads (GQA; 1 = MQA)
 *   headDim    per-head width (dim / nHeads unless the file says otherwise)
 *   ffnDim     hidden width of the MLP         vocab    vocabulary size  contextLength  trained context
 * </pre>
 *
 * @param architecture   GGUF {@code general.architecture}, e.g. "llama", "qwen2", "gpt2"
 * @param norm           RMSNorm (LLaMA) or LayerNorm with a bias (GPT-2)
 * @param mlp            gated SwiGLU MLP (LLaMA) or a GELU MLP (GPT-2)
 * @param positions      how positions enter: RoPE on q and k, ALiBi biases on the scores, or learned / sinusoidal
 *                       absolute embeddings added to the token embedding
 * @param biases         which linear layers carry a bias: none (LLaMA), Q/K/V only (Qwen2), or all (GPT-2)
 * @param ropeType       pair ordering of rotary embeddings
 * @param ropeTheta      RoPE base frequency (10000 for Llama 2, 500000 for Llama 3)
 * @param ropeDim        number of leading dimensions of each head that are rotated (usually headDim)
 * @param ropeFreqScale  linear position scaling (1 = none)
 * @param normEps        epsilon of the norm
 * @param tiedOutput     whether the output matrix is the token embedding matrix
 */
public record ModelConfig(
        String architecture,
        int dim,
        int nLayers,
        int nHeads,
        int nKvHeads,
        int headDim,
        int ffnDim,
        int vocab,
        int contextLength,
        Norm norm,
        Mlp mlp,
        Positions positions,
        Biases biases,
        RopeType ropeType,
        float ropeTheta,
        int ropeDim,
        float ropeFreqScale,
        float normEps,
        boolean tiedOutput) {

    /** How RoPE pairs the dimensions of a head. */
    public enum RopeType {
        /** Adjacent pairs (2i, 2i+1): llama.cpp's LLAMA_ROPE_TYPE_NORM, used by GGUF {@code llama} files. */
        NORM,
        /** Pairs (i, i + ropeDim/2): GPT-NeoX / Hugging Face layout, used by GGUF {@code qwen2}. */
        NEOX
    }

    /** The normalisation before attention, before the MLP and before the output. */
    public enum Norm {
        /** x / rms(x) * w (Zhang and Sennrich 2019). */
        RMS,
        /** (x - mean) / std * w + b (Ba et al. 2016). */
        LAYER
    }

    /** The feed-forward block. */
    public enum Mlp {
        /** down(silu(gate(x)) * up(x)) (Shazeer 2020). */
        SWIGLU,
        /** down(gelu(up(x))), GELU with GPT-2's tanh approximation (Hendrycks and Gimpel 2016). */
        GELU
    }

    /** How token positions are encoded. */
    public enum Positions {
        /** Rotary embeddings on q and k (Su et al. 2021). */
        ROPE,
        /** Linear biases on the attention scores, -m_h (i - j) (Press et al. 2022). */
        ALIBI,
        /** A trained (contextLength, dim) table added to the token embeddings (GPT-2). */
        LEARNED,
        /** The fixed sin/cos table of Vaswani et al. 2017 added to the token embeddings. */
        SINUSOIDAL
    }

    /** Which linear layers have a bias (the output projection to the vocabulary never has one). */
    public enum Biases {
        NONE,
        /** Only the query, key and value projections (Qwen2). */
        QKV,
        /** Q, K, V, the attention output and every MLP projection (GPT-2). */
        ALL
    }

    public ModelConfig {
        requirePositive("dim", dim);
        requirePositive("block_count", nLayers);
        requirePositive("head_count", nHeads);
        requirePositive("head_count_kv", nKvHeads);
        requirePositive("head dimension", headDim);
        requirePositive("feed_forward_length", ffnDim);
        requirePositive("vocabulary size", vocab);
        requirePositive("context_length", contextLength);
        if (norm == null || mlp == null || positions == null || biases == null || ropeType == null) {
            throw new IllegalArgumentException("norm, mlp, positions, biases and rope type must be given");
        }
        if (nHeads % nKvHeads != 0) {
            throw new IllegalArgumentException("head_count " + nHeads + " is not a multiple of head_count_kv " + nKvHeads);
        }
        if (ropeDim <= 0 || ropeDim > headDim || ropeDim % 2 != 0) {
            throw new IllegalArgumentException("rope dimension " + ropeDim + " must be even and in 2.." + headDim);
        }
        if (!(normEps > 0) || !(ropeTheta > 0) || !(ropeFreqScale > 0)) {
            throw new IllegalArgumentException("norm epsilon, rope base and rope scale must be positive (got "
                    + normEps + ", " + ropeTheta + ", " + ropeFreqScale + ")");
        }
        if (positions == Positions.SINUSOIDAL && dim % 2 != 0) {
            throw new IllegalArgumentException("sinusoidal positions need an even dim, got " + dim);
        }
    }

    /** A LLaMA-family config (RMSNorm, SwiGLU, RoPE; Q/K/V biases for Qwen2), as GGUF {@code llama} / {@code qwen2}. */
    public ModelConfig(String architecture, int dim, int nLayers, int nHeads, int nKvHeads, int headDim, int ffnDim,
                       int vocab, int contextLength, RopeType ropeType, float ropeTheta, int ropeDim,
                       float ropeFreqScale, float normEps, boolean qkvBias, boolean tiedOutput) {
        this(architecture, dim, nLayers, nHeads, nKvHeads, headDim, ffnDim, vocab, contextLength, Norm.RMS, Mlp.SWIGLU,
                Positions.ROPE, qkvBias ? Biases.QKV : Biases.NONE, ropeType, ropeTheta, ropeDim, ropeFreqScale,
                normEps, tiedOutput);
    }

    /** A GPT-2 config: LayerNorm (eps 1e-5), GELU MLP, learned positions, biases everywhere, tied output, MHA. */
    public static ModelConfig gpt2(int dim, int nLayers, int nHeads, int ffnDim, int vocab, int contextLength) {
        return new ModelConfig("gpt2", dim, nLayers, nHeads, nHeads, headDim(dim, nHeads), ffnDim, vocab, contextLength,
                Norm.LAYER, Mlp.GELU, Positions.LEARNED, Biases.ALL, RopeType.NEOX, 10000f, headDim(dim, nHeads), 1f,
                1e-5f, true);
    }

    /** A LLaMA config: RMSNorm (eps 1e-5), SwiGLU, RoPE (base 10000, adjacent pairs as GGUF), no biases, untied. */
    public static ModelConfig llama(int dim, int nLayers, int nHeads, int nKvHeads, int ffnDim, int vocab, int contextLength) {
        return new ModelConfig("llama", dim, nLayers, nHeads, nKvHeads, headDim(dim, nHeads), ffnDim, vocab,
                contextLength, RopeType.NORM, 10000f, headDim(dim, nHeads), 1f, 1e-5f, false, false);
    }

    private static int headDim(int dim, int nHeads) {
        if (nHeads <= 0 || dim % nHeads != 0) {
            throw new IllegalArgumentException("dim " + dim + " is not a multiple of head_count " + nHeads);
        }
        return dim / nHeads;
    }

    public ModelConfig withPositions(Positions p) {
        return new ModelConfig(architecture, dim, nLayers, nHeads, nKvHeads, headDim, ffnDim, vocab, contextLength, norm,
                mlp, p, biases, ropeType, ropeTheta, ropeDim, ropeFreqScale, normEps, tiedOutput);
    }

    public ModelConfig withRopeType(RopeType t) {
        return new ModelConfig(architecture, dim, nLayers, nHeads, nKvHeads, headDim, ffnDim, vocab, contextLength, norm,
                mlp, positions, biases, t, ropeTheta, ropeDim, ropeFreqScale, normEps, tiedOutput);
    }

    public ModelConfig withTiedOutput(boolean tied) {
        return new ModelConfig(architecture, dim, nLayers, nHeads, nKvHeads, headDim, ffnDim, vocab, contextLength, norm,
                mlp, positions, biases, ropeType, ropeTheta, ropeDim, ropeFreqScale, normEps, tied);
    }

    public ModelConfig withVocab(int v) {
        return new ModelConfig(architecture, dim, nLayers, nHeads, nKvHeads, headDim, ffnDim, v, contextLength, norm,
                mlp, positions, biases, ropeType, ropeTheta, ropeDim, ropeFreqScale, normEps, tiedOutput);
    }

    public ModelConfig withNormEps(float eps) {
        return new ModelConfig(architecture, dim, nLayers, nHeads, nKvHeads, headDim, ffnDim, vocab, contextLength, norm,
                mlp, positions, biases, ropeType, ropeTheta, ropeDim, ropeFreqScale, eps, tiedOutput);
    }

    private static void requirePositive(String what, int v) {
        if (v <= 0) throw new IllegalArgumentException(what + " must be positive, got " + v);
    }

    /** Width of all query heads together: nHeads * headDim. */
    public int qDim() { return nHeads * headDim; }

    /** Width of all key (or value) heads together: nKvHeads * headDim. */
    public int kvDim() { return nKvHeads * headDim; }

    /** Query heads that share one key/value head. */
    public int groupSize() { return nHeads / nKvHeads; }

    /** Whether Q, K and V have biases. */
    public boolean qkvBias() { return biases != Biases.NONE; }

    /** Whether the attention output and the MLP projections have biases. */
    public boolean allBiases() { return biases == Biases.ALL; }

    /** Whether the norms have a bias (LayerNorm). */
    public boolean normBias() { return norm == Norm.LAYER; }
}
