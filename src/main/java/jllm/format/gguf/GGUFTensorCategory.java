package jllm.format.gguf;

/**
 * What a tensor is for, from its GGUF name (the naming convention of llama.cpp's {@code llama-arch.cpp}:
 * {@code token_embd}, {@code blk.N.attn_q}, {@code blk.N.ffn_up}, {@code output_norm}, {@code output}, with a
 * {@code .weight} or {@code .bias} suffix), for reporting memory by category.
 */
public enum GGUFTensorCategory {
    /** Input embeddings: {@code token_embd}, {@code position_embd}, {@code token_types}. */
    TOKEN_EMBEDDINGS("token embeddings"),
    /** Attention projections: {@code attn_q/k/v/qkv/output} and other {@code attn_*}, {@code cross_attn_*}. */
    ATTENTION("attention"),
    /** Feed-forward (MLP and expert) matrices: {@code ffn_*}. */
    FFN("feed-forward"),
    /** Normalisation weights and biases: any name whose base contains {@code norm}. */
    NORMS("norms"),
    /** The output (unembedding) matrix: {@code output}. */
    OUTPUT("output"),
    /** Anything else, e.g. {@code rope_freqs}. */
    OTHER("other");

    /** Words for a human reader. */
    public final String label;

    GGUFTensorCategory(String label) {
        this.label = label;
    }

    public static GGUFTensorCategory of(String tensorName) {
        String base = tensorName;
        boolean inBlock = base.startsWith("blk.");
        if (inBlock) {
            int dot = base.indexOf('.', 4);
            base = dot < 0 ? "" : base.substring(dot + 1);
        }
        int dot = base.indexOf('.');
        if (dot >= 0) base = base.substring(0, dot);
        if (base.contains("norm")) return NORMS;
        if (base.equals("token_embd") || base.equals("position_embd") || base.equals("token_types")) return TOKEN_EMBEDDINGS;
        if (base.startsWith("attn_") || base.startsWith("cross_attn_")) return ATTENTION;
        if (base.startsWith("ffn_")) return FFN;
        if (!inBlock && base.equals("output")) return OUTPUT;
        return OTHER;
    }
}
