package jllm.format.hf;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.node.ObjectNode;

import jllm.model.LlamaWeights;
import jllm.model.ModelConfig;
import jllm.tensor.Tensor;

/**
 * The one place where a Hugging Face {@code gpt2} folder ({@code GPT2LMHeadModel}, tensor names under
 * {@code transformer.}; or a bare {@code GPT2Model} without the prefix) is mapped to jllm. Spec: transformers'
 * {@code GPT2Config} (keys and defaults) and {@code modeling_gpt2.py} (module names; {@code Conv1D}, whose weight
 * is (in, out) and computes {@code x W + b}); llama.cpp's tensor-name table for GGUF {@code gpt2} names.
 *
 * <pre>
 *   n_embd -> dim   n_layer -> nLayers   n_head -> nHeads   n_inner (default 4 n_embd) -> ffnDim
 *   n_positions -> contextLength   vocab_size -> vocab   layer_norm_epsilon -> normEps (default 1e-5)
 *   activation_function: gelu_new / gelu_pytorch_tanh (GELU, tanh approximation)   tie_word_embeddings (default true)
 *
 *   wte.weight (vocab, n)            -> token_embd.weight          wpe.weight (n_positions, n) -> position_embd.weight
 *   h.N.ln_1.{weight,bias}           -> blk.N.attn_norm.{weight,bias}
 *   h.N.attn.c_attn.weight (n, 3n)   -> blk.N.attn_qkv.weight, transposed; rows [0,n) q, [n,2n) k, [2n,3n) v
 *   h.N.attn.c_attn.bias (3n)        -> blk.N.attn_qkv.bias, split the same way
 *   h.N.attn.c_proj.{weight (n, n), bias} -> blk.N.attn_output.{weight, bias}, transposed
 *   h.N.ln_2.{weight,bias}           -> blk.N.ffn_norm.{weight,bias}
 *   h.N.mlp.c_fc.{weight (n, inner), bias}   -> blk.N.ffn_up.{weight, bias}, transposed
 *   h.N.mlp.c_proj.{weight (inner, n), bias} -> blk.N.ffn_down.{weight, bias}, transposed
 *   ln_f.{weight,bias} -> output_norm.{weight,bias}      lm_head.weight (vocab, n) -> output.weight, when untied
 * </pre>
 * Conv1D weights are the transpose of jllm's (out, in) rows, so the loader makes transposed F32 copies of them (the
 * only weights it copies; embeddings stay views). The fused c_attn is split into q, k and v row blocks (views of its
 * transposed copy) and the weights are assembled by jllm's GGUF-style names ({@code blk.N.attn_q.weight} ...,
 * {@link LlamaWeights#assemble}) into a GPT-2 {@link ModelConfig}: LayerNorm, GELU, learned positions, all biases.
 */
public final class HfGpt2Mapping {
    private HfGpt2Mapping() {}

    public static final String MODEL_TYPE = "gpt2";

    /** A loaded folder: config and weights (embeddings are views; Conv1D matrices transposed F32 copies). */
    public record Loaded(ModelConfig config, LlamaWeights weights) {}

    /** Reads a gpt2 config.json into a GPT-2 {@link ModelConfig} (LayerNorm, GELU, learned positions, all biases). */
    public static ModelConfig config(HfJson j) {
        String type = j.getString("model_type", "");
        if (!type.equals(MODEL_TYPE)) throw j.error("model_type '" + type + "' is not " + MODEL_TYPE);
        String act = j.getString("activation_function", "gelu_new");
        if (!act.equals("gelu_new") && !act.equals("gelu_pytorch_tanh")) {
            throw j.error("activation_function '" + act + "' is not supported (jllm's GPT-2 block uses GELU with the tanh approximation, gelu_new)");
        }
        if (!j.getBool("scale_attn_weights", true)) throw j.error("scale_attn_weights = false is not supported");
        if (j.getBool("scale_attn_by_inverse_layer_idx", false)) throw j.error("scale_attn_by_inverse_layer_idx = true is not supported");
        if (j.getBool("add_cross_attention", false)) throw j.error("add_cross_attention = true is not supported (decoder-only)");
        int dim = j.getInt("n_embd");
        try {
            return ModelConfig.gpt2(dim, j.getInt("n_layer"), j.getInt("n_head"), j.getInt("n_inner", Math.multiplyExact(4, dim)),
                    j.getInt("vocab_size"), j.getInt("n_positions"))
                    .withNormEps(j.getFloat("layer_norm_epsilon", 1e-5f)).withTiedOutput(j.getBool("tie_word_embeddings", true));
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw j.error(e.getMessage());
        }
    }

    /**
     * Every weight tensor of the checkpoint with its role (GGUF {@code gpt2} names: the fused q/k/v is
     * {@code attn_qkv}), expected shape and layout; {@code prefix} is "transformer." or "".
     */
    public static List<HfTensorRole> roles(ModelConfig c, String prefix) {
        List<HfTensorRole> r = new ArrayList<>();
        long n = c.dim(), inner = c.ffnDim();
        r.add(as(prefix + "wte.weight", "token_embd.weight", c.vocab(), n));
        r.add(as(prefix + "wpe.weight", "position_embd.weight", c.contextLength(), n));
        for (int l = 0; l < c.nLayers(); l++) {
            String h = prefix + "h." + l + ".", g = "blk." + l + ".";
            r.add(as(h + "ln_1.weight", g + "attn_norm.weight", n));
            r.add(as(h + "ln_1.bias", g + "attn_norm.bias", n));
            r.add(conv(h + "attn.c_attn.weight", g + "attn_qkv.weight", n, 3 * n));
            r.add(as(h + "attn.c_attn.bias", g + "attn_qkv.bias", 3 * n));
            r.add(conv(h + "attn.c_proj.weight", g + "attn_output.weight", n, n));
            r.add(as(h + "attn.c_proj.bias", g + "attn_output.bias", n));
            r.add(as(h + "ln_2.weight", g + "ffn_norm.weight", n));
            r.add(as(h + "ln_2.bias", g + "ffn_norm.bias", n));
            r.add(conv(h + "mlp.c_fc.weight", g + "ffn_up.weight", n, inner));
            r.add(as(h + "mlp.c_fc.bias", g + "ffn_up.bias", inner));
            r.add(conv(h + "mlp.c_proj.weight", g + "ffn_down.weight", inner, n));
            r.add(as(h + "mlp.c_proj.bias", g + "ffn_down.bias", n));
        }
        r.add(as(prefix + "ln_f.weight", "output_norm.weight", n));
        r.add(as(prefix + "ln_f.bias", "output_norm.bias", n));
        if (!c.tiedOutput()) r.add(as("lm_head.weight", "output.weight", c.vocab(), n));
        return r;
    }

    private static HfTensorRole as(String hf, String role, long... shape) {
        return new HfTensorRole(hf, role, shape, HfTensorRole.Layout.AS_IS, 0);
    }

    private static HfTensorRole conv(String hf, String role, long in, long out) {
        return new HfTensorRole(hf, role, new long[] {in, out}, HfTensorRole.Layout.CONV1D_TRANSPOSED, 0);
    }

    /** "transformer." when the checkpoint is a GPT2LMHeadModel, "" for a bare GPT2Model. */
    public static String prefix(SafetensorsStore store) {
        if (store.has("transformer.wte.weight")) return "transformer.";
        if (store.has("wte.weight")) return "";
        throw new HfFormatException(store.path().getFileName() + ": no GPT-2 token embedding (transformer.wte.weight or wte.weight)");
    }

    /**
     * Loads a GPT-2 folder's weights, after checking every tensor against config.json: embeddings as views, Conv1D
     * matrices as transposed F32 copies, c_attn split into q, k and v (row-block views of its copy).
     */
    public static Loaded load(HfJson configJson, SafetensorsStore store) {
        ModelConfig c = config(configJson);
        String file = store.path().getFileName().toString();
        String p = prefix(store);
        List<HfTensorRole> roles = roles(c, p);
        Set<String> known = HfTensorRole.requireAll(roles, store);
        for (int l = 0; l < c.nLayers(); l++) { // the causal-mask buffers older checkpoints saved
            known.add(p + "h." + l + ".attn.bias");
            known.add(p + "h." + l + ".attn.masked_bias");
        }
        if (c.tiedOutput()) known.add("lm_head.weight");
        for (String name : store.tensors().keySet()) {
            if (!known.contains(name)) throw new HfFormatException(file + ": tensor '" + name + "' is not part of a " + c.nLayers() + "-layer gpt2 model");
        }

        Map<String, Tensor> m = new LinkedHashMap<>();
        Map<String, float[]> v = new LinkedHashMap<>();
        int n = c.dim();
        m.put("token_embd.weight", store.tensor(p + "wte.weight"));
        m.put("position_embd.weight", store.tensor(p + "wpe.weight"));
        for (int l = 0; l < c.nLayers(); l++) {
            String h = p + "h." + l + ".", g = "blk." + l + ".";
            v.put(g + "attn_norm.weight", store.floats(h + "ln_1.weight"));
            v.put(g + "attn_norm.bias", store.floats(h + "ln_1.bias"));
            Tensor qkv = transposed(store, h + "attn.c_attn.weight"); // (3n rows of n)
            m.put(g + "attn_q.weight", qkv.sliceRows(0, n));
            m.put(g + "attn_k.weight", qkv.sliceRows(n, n));
            m.put(g + "attn_v.weight", qkv.sliceRows(2 * n, n));
            float[] b = store.floats(h + "attn.c_attn.bias");
            v.put(g + "attn_q.bias", Arrays.copyOfRange(b, 0, n));
            v.put(g + "attn_k.bias", Arrays.copyOfRange(b, n, 2 * n));
            v.put(g + "attn_v.bias", Arrays.copyOfRange(b, 2 * n, 3 * n));
            m.put(g + "attn_output.weight", transposed(store, h + "attn.c_proj.weight"));
            v.put(g + "attn_output.bias", store.floats(h + "attn.c_proj.bias"));
            v.put(g + "ffn_norm.weight", store.floats(h + "ln_2.weight"));
            v.put(g + "ffn_norm.bias", store.floats(h + "ln_2.bias"));
            m.put(g + "ffn_up.weight", transposed(store, h + "mlp.c_fc.weight"));
            v.put(g + "ffn_up.bias", store.floats(h + "mlp.c_fc.bias"));
            m.put(g + "ffn_down.weight", transposed(store, h + "mlp.c_proj.weight"));
            v.put(g + "ffn_down.bias", store.floats(h + "mlp.c_proj.bias"));
        }
        v.put("output_norm.weight", store.floats(p + "ln_f.weight"));
        v.put("output_norm.bias", store.floats(p + "ln_f.bias"));
        if (!c.tiedOutput()) m.put("output.weight", store.tensor("lm_head.weight"));
        try {
            return new Loaded(c, LlamaWeights.assemble(c, m::get, v::get, null));
        } catch (IllegalArgumentException e) {
            throw new HfFormatException(file + ": " + e.getMessage(), e);
        }
    }

    /** A Conv1D weight (in, out) as a jllm F32 matrix of out rows of length in: a transposed copy. */
    static Tensor transposed(SafetensorsStore store, String name) {
        long[] s = store.info(name).shape();
        int in = Math.toIntExact(s[0]), out = Math.toIntExact(s[1]);
        float[] w = store.floats(name); // (in, out) row-major
        return Tensor.ofFloats(name, transpose(w, in, out), in, out);
    }

    /** The transpose of a row-major (rows, cols) matrix: (cols, rows). */
    static float[] transpose(float[] w, int rows, int cols) {
        float[] t = new float[w.length];
        for (int i = 0; i < rows; i++) for (int o = 0; o < cols; o++) t[o * rows + i] = w[i * cols + o];
        return t;
    }

    /**
     * Adds a GPT-2 to {@code out} under GPT2LMHeadModel's names ({@code transformer.*}): matrices transposed back to
     * Conv1D's (in, out) and q, k, v fused into c_attn, all as F32; embeddings in their own type (quantized ones as F32).
     *
     * @throws IllegalArgumentException when {@code c} is not a GPT-2 block (LayerNorm, GELU, learned positions, all
     *     biases, as many KV heads as heads), which a GPT-2 config.json cannot describe
     */
    public static void save(ModelConfig c, LlamaWeights w, SafetensorsWriter out) {
        requireGpt2Block(c);
        w.validate(c);
        int n = c.dim(), inner = c.ffnDim();
        String p = "transformer.";
        out.tensor(p + "wte.weight", HfLlamaMapping.storable(w.tokenEmbedding()));
        out.tensor(p + "wpe.weight", HfLlamaMapping.storable(w.positionEmbedding()));
        for (int l = 0; l < c.nLayers(); l++) {
            String h = p + "h." + l + ".";
            out.floats(h + "ln_1.weight", w.attnNorm()[l], n);
            out.floats(h + "ln_1.bias", w.attnNormBias()[l], n);
            float[] qkv = new float[3 * n * n]; // (3n, n) rows, then transposed to (n, 3n)
            float[] bias = new float[3 * n];
            Tensor[] parts = {w.wq()[l], w.wk()[l], w.wv()[l]};
            float[][] biases = {w.bq()[l], w.bk()[l], w.bv()[l]};
            for (int i = 0; i < 3; i++) {
                System.arraycopy(parts[i].toFloatArray(), 0, qkv, i * n * n, n * n);
                System.arraycopy(biases[i], 0, bias, i * n, n);
            }
            out.floats(h + "attn.c_attn.weight", transpose(qkv, 3 * n, n), n, 3 * n);
            out.floats(h + "attn.c_attn.bias", bias, 3 * n);
            out.floats(h + "attn.c_proj.weight", transpose(w.wo()[l].toFloatArray(), n, n), n, n);
            out.floats(h + "attn.c_proj.bias", w.bo()[l], n);
            out.floats(h + "ln_2.weight", w.ffnNorm()[l], n);
            out.floats(h + "ln_2.bias", w.ffnNormBias()[l], n);
            out.floats(h + "mlp.c_fc.weight", transpose(w.wUp()[l].toFloatArray(), inner, n), n, inner);
            out.floats(h + "mlp.c_fc.bias", w.bUp()[l], inner);
            out.floats(h + "mlp.c_proj.weight", transpose(w.wDown()[l].toFloatArray(), n, inner), inner, n);
            out.floats(h + "mlp.c_proj.bias", w.bDown()[l], n);
        }
        out.floats(p + "ln_f.weight", w.outputNorm(), n);
        out.floats(p + "ln_f.bias", w.outputNormBias(), n);
        if (!c.tiedOutput()) out.tensor("lm_head.weight", HfLlamaMapping.storable(w.output()));
    }

    private static void requireGpt2Block(ModelConfig c) {
        if (c.norm() != ModelConfig.Norm.LAYER || c.mlp() != ModelConfig.Mlp.GELU || c.positions() != ModelConfig.Positions.LEARNED
                || c.biases() != ModelConfig.Biases.ALL || c.nKvHeads() != c.nHeads() || c.qDim() != c.dim()) {
            throw new IllegalArgumentException("a " + c.norm() + "/" + c.mlp() + "/" + c.positions() + "/" + c.biases() + " model with "
                    + c.nHeads() + " heads and " + c.nKvHeads() + " KV heads is not a GPT-2 block that config.json can describe");
        }
    }

    /** config.json for a GPT2LMHeadModel of config {@code c}. */
    public static ObjectNode configJson(ModelConfig c) {
        requireGpt2Block(c);
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("activation_function", "gelu_new");
        o.putArray("architectures").add("GPT2LMHeadModel");
        o.put("layer_norm_epsilon", HfLlamaMapping.decimal(c.normEps()));
        o.put("model_type", MODEL_TYPE);
        o.put("n_embd", c.dim());
        o.put("n_head", c.nHeads());
        o.put("n_inner", c.ffnDim());
        o.put("n_layer", c.nLayers());
        o.put("n_positions", c.contextLength());
        o.put("tie_word_embeddings", c.tiedOutput());
        o.put("torch_dtype", "float32");
        o.put("vocab_size", c.vocab());
        return o;
    }
}
