package jllm.estimate;

import java.util.ArrayList;
import java.util.List;

/**
 * The shape of a transformer, as much as the planner needs: enough to list every weight tensor (and so count
 * parameters exactly), to size the KV cache, the activations and the FLOPs.
 *
 * <p>Architecture is data (ARCHITECTURE invariant 4): decoder-only (GPT-2, OPT, Llama, Mistral, Mixtral, Qwen2),
 * encoder-only (BERT) and encoder-decoder (T5) differ only in the fields below. Tensor lists follow the
 * checkpoints' own layouts (Hugging Face {@code transformers} modules; Radford et al. 2019, Devlin et al. 2019,
 * Raffel et al. 2020, Touvron et al. 2023, Jiang et al. 2023/2024, Qwen Team 2024), which is what the parameter
 * counts in {@code PresetsTest} are checked against.
 *
 * <pre>
 *   h = hidden, a = heads, kv = kvHeads, d = headDim, f = ffn (per expert), V = vocab, L = layers
 *   attention: q (a*d x h), k and v (kv*d x h), o (h x a*d)      MLP: up (f x h), down (h x f), gate (f x h) if gated
 * </pre>
 *
 * @param name             preset or file name, for display
 * @param arch             decoder-only, encoder-only or encoder-decoder
 * @param layers           transformer blocks (the encoder's for encoder-decoder models)
 * @param decoderLayers    decoder blocks of an encoder-decoder model; 0 otherwise
 * @param hidden           model width h
 * @param heads            query heads a
 * @param kvHeads          key/value heads (a for MHA, 1 for MQA, between for GQA)
 * @param headDim          per-head width d (usually h / a)
 * @param ffn              MLP inner width f (per expert for mixture-of-experts models)
 * @param vocab            vocabulary size V (rows of the token embedding)
 * @param contextLength    longest context the model was trained for (0 if unknown)
 * @param learnedPositions rows of a learned position embedding (0 for RoPE or relative positions)
 * @param experts          MLP experts per layer (0 or 1: dense)
 * @param activeExperts    experts each token is routed to
 * @param tiedEmbeddings   output projection shares the token embedding
 * @param gatedMlp         SwiGLU/GeGLU MLP with three matrices instead of two
 * @param norm             norm kind, which decides its parameter count
 * @param linearBias       every linear layer has a bias (GPT-2, BERT, OPT)
 * @param qkvBias          only q, k and v have biases (Qwen2)
 * @param tokenTypes       BERT token-type embedding rows (0 otherwise)
 * @param pooler           BERT pooler (a dense h x h layer with bias)
 * @param relativeBuckets  T5 relative-position buckets (one bias table of buckets x a per stack)
 * @param slidingWindow    attention window that bounds the KV cache (Mistral 7B v0.1: 4096); 0 for none
 */
public record ModelShape(String name, Arch arch, int layers, int decoderLayers, int hidden, int heads, int kvHeads,
                         int headDim, long ffn, int vocab, long contextLength, int learnedPositions, int experts,
                         int activeExperts, boolean tiedEmbeddings, boolean gatedMlp, Norm norm, boolean linearBias,
                         boolean qkvBias, int tokenTypes, boolean pooler, int relativeBuckets, int slidingWindow) {

    /** Which stacks a model has. */
    public enum Arch { DECODER, ENCODER, ENCODER_DECODER }

    /** LayerNorm has a weight and a bias per channel; RMSNorm (and T5's LayerNorm) a weight only. */
    public enum Norm {
        LAYER_NORM(2), RMS_NORM(1);
        public final int paramsPerChannel;

        Norm(int p) {
            this.paramsPerChannel = p;
        }
    }

    /** What a tensor is, which decides how quantizers and LoRA treat it. */
    public enum Kind { EMBEDDING, MATRIX, VECTOR, OUTPUT }

    /**
     * One weight tensor, repeated {@code count} times (once per layer, or per layer and expert).
     *
     * @param name   a readable name such as {@code blk.*.attn_q}
     * @param kind   embedding table, linear matrix, 1-D vector (norm or bias) or output projection
     * @param rows   output features (rows of the stored matrix); 1 for vectors
     * @param cols   input features: the row length that block quantizers divide into blocks
     * @param count  how many such tensors the model holds
     * @param target the LoRA target name ({@code q k v o gate up down}) or null
     * @param expert true for the tensors of a mixture-of-experts expert (only the routed ones are active)
     */
    public record Tensor(String name, Kind kind, long rows, long cols, long count, String target, boolean expert) {
        /** Elements of one tensor. */
        public long elementsEach() {
            return Math.multiplyExact(rows, cols);
        }

        /** Elements of all {@code count} tensors. */
        public long elements() {
            return Math.multiplyExact(elementsEach(), count);
        }
    }

    public ModelShape {
        if (arch == null || norm == null) throw new IllegalArgumentException("arch and norm must be given");
        requirePositive("layers", layers);
        requirePositive("hidden", hidden);
        requirePositive("heads", heads);
        requirePositive("kv-heads", kvHeads);
        requirePositive("head-dim", headDim);
        requirePositive("ffn", ffn);
        requirePositive("vocab", vocab);
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("heads " + heads + " is not a multiple of kv-heads " + kvHeads);
        }
        if (arch == Arch.ENCODER_DECODER) requirePositive("decoder layers", decoderLayers);
        if (experts > 1 && (activeExperts < 1 || activeExperts > experts)) {
            throw new IllegalArgumentException("active experts " + activeExperts + " must be between 1 and experts " + experts);
        }
        if (contextLength < 0 || learnedPositions < 0 || tokenTypes < 0 || relativeBuckets < 0 || slidingWindow < 0) {
            throw new IllegalArgumentException("negative size in shape " + name);
        }
    }

    private static void requirePositive(String what, long v) {
        if (v <= 0) throw new IllegalArgumentException(what + " must be positive, got " + v);
    }

    /** Width of all query heads together, a*d. */
    public long qDim() {
        return (long) heads * headDim;
    }

    /** Width of all key (or value) heads together, kv*d. */
    public long kvDim() {
        return (long) kvHeads * headDim;
    }

    /** True for a mixture-of-experts model. */
    public boolean isMoE() {
        return experts > 1;
    }

    /** Blocks that keep a KV cache: the decoder's (none for encoder-only models). */
    public int kvLayers() {
        return switch (arch) {
            case DECODER -> layers;
            case ENCODER -> 0;
            case ENCODER_DECODER -> decoderLayers;
        };
    }

    /** All transformer blocks (encoder and decoder). */
    public int totalLayers() {
        return layers + decoderLayers;
    }

    /** Every weight tensor of the model, in checkpoint order. */
    public List<Tensor> tensors() {
        List<Tensor> t = new ArrayList<>();
        int normP = norm.paramsPerChannel;
        t.add(new Tensor("token_embd", Kind.EMBEDDING, vocab, hidden, 1, null, false));
        if (learnedPositions > 0) t.add(new Tensor("position_embd", Kind.EMBEDDING, learnedPositions, hidden, 1, null, false));
        if (tokenTypes > 0) t.add(new Tensor("token_types", Kind.EMBEDDING, tokenTypes, hidden, 1, null, false));
        if (arch == Arch.ENCODER) t.add(new Tensor("embd_norm", Kind.VECTOR, 1, (long) normP * hidden, 1, null, false));

        String first = arch == Arch.ENCODER_DECODER ? "enc" : "blk";
        addBlock(t, first, layers, false);
        if (relativeBuckets > 0) t.add(new Tensor(first + ".rel_bias", Kind.EMBEDDING, relativeBuckets, heads, 1, null, false));
        if (arch != Arch.ENCODER) t.add(new Tensor(first + ".output_norm", Kind.VECTOR, 1, (long) normP * hidden, 1, null, false));
        if (arch == Arch.ENCODER_DECODER) {
            addBlock(t, "dec", decoderLayers, true);
            if (relativeBuckets > 0) t.add(new Tensor("dec.rel_bias", Kind.EMBEDDING, relativeBuckets, heads, 1, null, false));
            t.add(new Tensor("dec.output_norm", Kind.VECTOR, 1, (long) normP * hidden, 1, null, false));
        }
        if (pooler) {
            t.add(new Tensor("pooler", Kind.MATRIX, hidden, hidden, 1, null, false));
            t.add(new Tensor("pooler.bias", Kind.VECTOR, 1, hidden, 1, null, false));
        }
        if (arch != Arch.ENCODER && !tiedEmbeddings) t.add(new Tensor("output", Kind.OUTPUT, vocab, hidden, 1, null, false));
        return t;
    }

    private void addBlock(List<Tensor> t, String p, int n, boolean crossAttention) {
        long normCols = (long) norm.paramsPerChannel * hidden;
        t.add(new Tensor(p + ".*.attn_norm", Kind.VECTOR, 1, normCols, n, null, false));
        addAttention(t, p + ".*.attn", n);
        if (crossAttention) {
            t.add(new Tensor(p + ".*.cross_norm", Kind.VECTOR, 1, normCols, n, null, false));
            addAttention(t, p + ".*.cross", n);
        }
        t.add(new Tensor(p + ".*.ffn_norm", Kind.VECTOR, 1, normCols, n, null, false));
        long e = isMoE() ? experts : 1;
        long count = n * e;
        if (isMoE()) t.add(new Tensor(p + ".*.ffn_router", Kind.MATRIX, experts, hidden, n, null, false));
        boolean ex = isMoE();
        if (gatedMlp) t.add(new Tensor(p + ".*.ffn_gate", Kind.MATRIX, ffn, hidden, count, "gate", ex));
        t.add(new Tensor(p + ".*.ffn_up", Kind.MATRIX, ffn, hidden, count, "up", ex));
        if (linearBias) t.add(new Tensor(p + ".*.ffn_up.bias", Kind.VECTOR, 1, ffn, count, null, ex));
        t.add(new Tensor(p + ".*.ffn_down", Kind.MATRIX, hidden, ffn, count, "down", ex));
        if (linearBias) t.add(new Tensor(p + ".*.ffn_down.bias", Kind.VECTOR, 1, hidden, count, null, ex));
    }

    private void addAttention(List<Tensor> t, String p, int n) {
        boolean qkvB = linearBias || qkvBias;
        t.add(new Tensor(p + "_q", Kind.MATRIX, qDim(), hidden, n, "q", false));
        if (qkvB) t.add(new Tensor(p + "_q.bias", Kind.VECTOR, 1, qDim(), n, null, false));
        t.add(new Tensor(p + "_k", Kind.MATRIX, kvDim(), hidden, n, "k", false));
        if (qkvB) t.add(new Tensor(p + "_k.bias", Kind.VECTOR, 1, kvDim(), n, null, false));
        t.add(new Tensor(p + "_v", Kind.MATRIX, kvDim(), hidden, n, "v", false));
        if (qkvB) t.add(new Tensor(p + "_v.bias", Kind.VECTOR, 1, kvDim(), n, null, false));
        t.add(new Tensor(p + "_o", Kind.MATRIX, hidden, qDim(), n, "o", false));
        if (linearBias) t.add(new Tensor(p + "_o.bias", Kind.VECTOR, 1, hidden, n, null, false));
    }

    /** Total parameters, every expert included. */
    public long params() {
        long s = 0;
        for (Tensor x : tensors()) s = Math.addExact(s, x.elements());
        return s;
    }

    /** Parameters one token uses: for a mixture of experts only the routed experts count. */
    public long activeParams() {
        long s = 0;
        for (Tensor x : tensors()) s += x.expert() ? x.elements() / experts * activeExperts : x.elements();
        return s;
    }

    /**
     * Parameters outside the embedding tables and the output projection (the convention of Kaplan et al. 2020
     * and of Qwen's model cards, "Number of Parameters (Non-Embedding)").
     */
    public long nonEmbeddingParams() {
        long s = 0;
        for (Tensor x : tensors()) if (x.kind() != Kind.EMBEDDING && x.kind() != Kind.OUTPUT) s += x.elements();
        return s;
    }

    /**
     * Weights that a forward pass multiplies with, per token: active linear matrices plus the output
     * projection (the token embedding when tied). Each contributes 2 FLOPs per weight per token.
     */
    public long matmulParamsPerToken() {
        long s = 0;
        for (Tensor x : tensors()) {
            if (x.kind() == Kind.MATRIX || x.kind() == Kind.OUTPUT) {
                s += x.expert() ? x.elements() / experts * activeExperts : x.elements();
            }
        }
        if (arch != Arch.ENCODER && tiedEmbeddings) s += (long) vocab * hidden;
        return s;
    }

    /** Elements of the largest single tensor: what must fit at once when layers stream in (DeepSpeed, accelerate). */
    public long largestTensorParams() {
        long m = 0;
        for (Tensor x : tensors()) m = Math.max(m, x.elementsEach());
        return m;
    }

    /** Positions of the KV cache a sequence of {@code seq} tokens occupies (bounded by a sliding window). */
    public long kvPositions(long seq) {
        return slidingWindow > 0 ? Math.min(seq, slidingWindow) : seq;
    }

    /** A copy with another name. */
    public ModelShape withName(String newName) {
        return new ModelShape(newName, arch, layers, decoderLayers, hidden, heads, kvHeads, headDim, ffn, vocab,
                contextLength, learnedPositions, experts, activeExperts, tiedEmbeddings, gatedMlp, norm, linearBias,
                qkvBias, tokenTypes, pooler, relativeBuckets, slidingWindow);
    }
}
