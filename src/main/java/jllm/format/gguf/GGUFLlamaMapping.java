package jllm.format.gguf;

import jllm.model.LlamaWeights;
import jllm.model.ModelConfig;
import jllm.tensor.Tensor;

/**
 * The one place where GGUF metadata keys and tensor names of the LLaMA family are mapped to jllm's config record
 * and weight fields (architectures {@code llama}: Llama 2/3/3.1/3.2, Mistral, TinyLlama, SmolLM; {@code qwen2}).
 * Spec: ggml docs/gguf.md "LLM" key conventions and llama.cpp's tensor name table.
 *
 * <pre>
 *   {arch}.embedding_length -> dim          {arch}.block_count -> nLayers     {arch}.feed_forward_length -> ffnDim
 *   {arch}.attention.head_count[_kv]        {arch}.attention.key_length -> headDim (default dim / heads)
 *   {arch}.rope.freq_base (10000)           {arch}.rope.dimension_count (headDim)
 *   {arch}.rope.scaling.type = linear, {arch}.rope.scaling.factor f -> freqScale 1/f
 *   {arch}.attention.layer_norm_rms_epsilon {arch}.context_length
 *   token_embd, output_norm, output (absent: tied to token_embd), rope_freqs (Llama 3.1)
 *   blk.N.{attn_norm, attn_q, attn_k, attn_v, attn_output, ffn_norm, ffn_gate, ffn_up, ffn_down}.weight
 *   blk.N.attn_{q,k,v}.bias (qwen2)
 * </pre>
 * GGUF {@code llama} files store Q and K rows permuted by the converter so that RoPE rotates adjacent pairs
 * (NORM); {@code qwen2} keeps Hugging Face's half-split layout (NEOX).
 */
public final class GGUFLlamaMapping {
    private GGUFLlamaMapping() {}

    public record Loaded(ModelConfig config, LlamaWeights weights) {}

    public static boolean supports(String arch) {
        return arch.equals("llama") || arch.equals("qwen2");
    }

    public static ModelConfig config(GGUFFile f) {
        String arch = f.getString("general.architecture");
        if (!supports(arch)) {
            throw new GGUFFormatException(f.path().getFileName() + ": architecture '" + arch
                    + "' is not supported (jllm runs llama and qwen2)");
        }
        String p = arch + ".";
        int dim = f.getInt(p + "embedding_length");
        int nHeads = f.getInt(p + "attention.head_count");
        int nKv = f.getInt(p + "attention.head_count_kv", nHeads);
        if (nHeads <= 0 || dim <= 0) throw new GGUFFormatException(f.path().getFileName() + ": embedding_length " + dim + " / head_count " + nHeads + " must be positive");
        int headDim = f.getInt(p + "attention.key_length", dim / nHeads);
        int vocab;
        if (f.has(p + "vocab_size")) vocab = f.getInt(p + "vocab_size");
        else vocab = (int) f.tensor("token_embd.weight").ne()[1];
        float scale = 1f;
        String scalingType = f.getString(p + "rope.scaling.type", "none");
        if (scalingType.equals("linear")) {
            float factor = f.getFloat(p + "rope.scaling.factor", 1f);
            if (!(factor > 0)) throw new GGUFFormatException(p + "rope.scaling.factor " + factor + " must be positive");
            scale = 1f / factor;
        } else if (!scalingType.equals("none")) {
            throw new GGUFFormatException(f.path().getFileName() + ": rope scaling type '" + scalingType + "' is not supported (none, linear)");
        }
        boolean tied = f.findTensor("output.weight").isEmpty();
        try {
            return new ModelConfig(arch, dim, f.getInt(p + "block_count"), nHeads, nKv, headDim,
                    f.getInt(p + "feed_forward_length"), vocab, f.getInt(p + "context_length", 2048),
                    arch.equals("qwen2") ? ModelConfig.RopeType.NEOX : ModelConfig.RopeType.NORM,
                    f.getFloat(p + "rope.freq_base", 10000f), f.getInt(p + "rope.dimension_count", headDim), scale,
                    f.getFloat(p + "attention.layer_norm_rms_epsilon", 1e-5f),
                    arch.equals("qwen2") || f.findTensor("blk.0.attn_q.bias").isPresent(), tied);
        } catch (IllegalArgumentException e) {
            throw new GGUFFormatException(f.path().getFileName() + ": " + e.getMessage(), e);
        }
    }

    public static Loaded load(GGUFFile f) {
        ModelConfig c = config(f);
        int n = c.nLayers();
        Tensor[] wq = new Tensor[n], wk = new Tensor[n], wv = new Tensor[n], wo = new Tensor[n];
        Tensor[] wg = new Tensor[n], wu = new Tensor[n], wd = new Tensor[n];
        float[][] an = new float[n][], fn = new float[n][], bq = new float[n][], bk = new float[n][], bv = new float[n][];
        for (int l = 0; l < n; l++) {
            String b = "blk." + l + ".";
            an[l] = floats(f, b + "attn_norm.weight");
            fn[l] = floats(f, b + "ffn_norm.weight");
            wq[l] = tensor(f, b + "attn_q.weight");
            wk[l] = tensor(f, b + "attn_k.weight");
            wv[l] = tensor(f, b + "attn_v.weight");
            wo[l] = tensor(f, b + "attn_output.weight");
            wg[l] = tensor(f, b + "ffn_gate.weight");
            wu[l] = tensor(f, b + "ffn_up.weight");
            wd[l] = tensor(f, b + "ffn_down.weight");
            if (c.qkvBias()) {
                bq[l] = floats(f, b + "attn_q.bias");
                bk[l] = floats(f, b + "attn_k.bias");
                bv[l] = floats(f, b + "attn_v.bias");
            }
        }
        Tensor embd = tensor(f, "token_embd.weight");
        Tensor out = c.tiedOutput() ? embd : tensor(f, "output.weight");
        float[] ropeFreqs = f.findTensor("rope_freqs.weight").isPresent() ? floats(f, "rope_freqs.weight") : null;
        LlamaWeights w = new LlamaWeights(embd, an, wq, wk, wv, wo, c.qkvBias() ? bq : null, c.qkvBias() ? bk : null,
                c.qkvBias() ? bv : null, fn, wg, wu, wd, floats(f, "output_norm.weight"), out, ropeFreqs);
        try {
            w.validate(c);
        } catch (IllegalArgumentException e) {
            throw new GGUFFormatException(f.path().getFileName() + ": " + e.getMessage(), e);
        }
        return new Loaded(c, w);
    }

    static Tensor tensor(GGUFFile f, String name) {
        GGUFTensorInfo info = f.tensor(name);
        return Tensor.of(name, info.type(), f.tensorData(info), info.ne());
    }

    static float[] floats(GGUFFile f, String name) {
        return tensor(f, name).toFloatArray();
    }
}
