package jllm.model;

/**
 * The architecture of a decoder-only transformer as data (ARCHITECTURE invariant 4): the loader fills it from a
 * model file's metadata and the forward pass is chosen by it, not by class.
 *
 * <pre>
 *   dim        model width d_model            nHeads   query heads      nKvHeads  key/value heads (GQA; 1 = MQA)
 *   headDim    per-head width (dim / nHeads unless the file says otherwise)
 *   ffnDim     hidden width of the SwiGLU MLP  vocab    vocabulary size  contextLength  trained context
 * </pre>
 *
 * @param architecture   GGUF {@code general.architecture}, e.g. "llama", "qwen2"
 * @param ropeType       pair ordering of rotary embeddings
 * @param ropeTheta      RoPE base frequency (10000 for Llama 2, 500000 for Llama 3)
 * @param ropeDim        number of leading dimensions of each head that are rotated (usually headDim)
 * @param ropeFreqScale  linear position scaling (1 = none)
 * @param normEps        RMSNorm epsilon
 * @param qkvBias        whether Q, K, V projections carry a bias (Qwen2)
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
        RopeType ropeType,
        float ropeTheta,
        int ropeDim,
        float ropeFreqScale,
        float normEps,
        boolean qkvBias,
        boolean tiedOutput) {

    /** How RoPE pairs the dimensions of a head. */
    public enum RopeType {
        /** Adjacent pairs (2i, 2i+1): llama.cpp's LLAMA_ROPE_TYPE_NORM, used by GGUF {@code llama} files. */
        NORM,
        /** Pairs (i, i + ropeDim/2): GPT-NeoX / Hugging Face layout, used by GGUF {@code qwen2}. */
        NEOX
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
}
