package jllm.format.hf;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.databind.node.ObjectNode;

import jllm.model.LlamaWeights;
import jllm.model.ModelConfig;
import jllm.tensor.GGMLType;
import jllm.tensor.Tensor;

/**
 * The one place where a Hugging Face {@code llama} folder ({@code LlamaForCausalLM}: Llama 2/3/3.1/3.2, TinyLlama,
 * SmolLM) is mapped to jllm: config.json keys to {@link ModelConfig}, checkpoint tensor names to jllm's weight
 * roles ({@link HfTensorRole}, named as GGUF names them), and back for saving. Spec: transformers'
 * {@code LlamaConfig} (keys and defaults) and {@code modeling_llama.py} (module names); llama.cpp's
 * convert_hf_to_gguf.py for the GGUF names, the q/k permutation ({@link RopePermutation}) and the Llama 3.1
 * frequency factors.
 *
 * <pre>
 *   hidden_size -> dim                 num_hidden_layers -> nLayers       intermediate_size -> ffnDim
 *   num_attention_heads -> nHeads      num_key_value_heads -> nKvHeads (default nHeads)
 *   head_dim (default hidden_size / num_attention_heads)                   vocab_size -> vocab
 *   max_position_embeddings -> contextLength (default 2048)               rms_norm_eps -> normEps (default 1e-6)
 *   rope_theta -> ropeTheta (default 10000)   rope_scaling: none | linear (freqScale 1/factor) | llama3 (ropeFreqs)
 *   tie_word_embeddings -> tiedOutput (default false)   attention_bias -> qkvBias (o_proj.bias must then be zero)
 *
 *   model.embed_tokens.weight                   -> token_embd.weight      (vocab, dim)
 *   model.layers.N.input_layernorm.weight       -> blk.N.attn_norm.weight
 *   model.layers.N.self_attn.{q,k,v,o}_proj     -> blk.N.attn_{q,k,v,output}   q, k rows half-split (NEOX)
 *   model.layers.N.post_attention_layernorm     -> blk.N.ffn_norm.weight
 *   model.layers.N.mlp.{gate,up,down}_proj      -> blk.N.ffn_{gate,up,down}.weight
 *   model.norm.weight -> output_norm.weight     lm_head.weight -> output.weight (absent when tied)
 * </pre>
 * Weights load as views over the mapped safetensors (F32, F16 or BF16 as stored) and run with
 * {@link ModelConfig.RopeType#NEOX}, so no weight is copied; only the norm vectors and biases become float arrays.
 */
public final class HfLlamaMapping {
    private HfLlamaMapping() {}

    public static final String MODEL_TYPE = "llama";

    /** Buffers some checkpoints carry that are not weights (transformers recomputes them). */
    private static final String INV_FREQ = ".self_attn.rotary_emb.inv_freq";

    /**
     * config.json's {@code rope_scaling}.
     *
     * @param type                 "linear" or "llama3"
     * @param originalMaxPositions llama3's original_max_position_embeddings (0 for linear)
     */
    public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {}

    /**
     * What config.json says, in jllm's terms.
     *
     * @param ropeScaling null when config.json has none
     * @param ropeFreqs   the Llama 3.1 per-pair frequency divisors (ropeDim/2), or null
     */
    public record Config(ModelConfig model, RopeScaling ropeScaling, float[] ropeFreqs) {}

    /** A loaded folder: config and weights (views over the mapped files). */
    public record Loaded(Config config, LlamaWeights weights) {}

    /** Reads a llama config.json; throws {@link HfFormatException} naming the key and value it cannot use. */
    public static Config config(HfJson j) {
        String type = j.getString("model_type", "");
        if (!type.equals(MODEL_TYPE)) throw j.error("model_type '" + type + "' is not " + MODEL_TYPE);
        String act = j.getString("hidden_act", "silu");
        if (!act.equals("silu")) throw j.error("hidden_act '" + act + "' is not supported (jllm's LLaMA block uses silu)");
        if (j.getBool("mlp_bias", false)) throw j.error("mlp_bias = true is not supported (jllm's SwiGLU has no biases)");
        int dim = j.getInt("hidden_size");
        int nHeads = j.getInt("num_attention_heads");
        if (dim <= 0 || nHeads <= 0) throw j.error("hidden_size " + dim + " and num_attention_heads " + nHeads + " must be positive");
        if (!j.has("head_dim") && dim % nHeads != 0) {
            throw j.error("hidden_size " + dim + " is not a multiple of num_attention_heads " + nHeads + " and head_dim is not given");
        }
        int headDim = j.getInt("head_dim", dim / nHeads);
        double theta = j.getDouble("rope_theta", 10000.0);
        RopeScaling scaling = null;
        float freqScale = 1f;
        float[] ropeFreqs = null;
        HfJson rs = j.objectOrNull("rope_scaling");
        if (rs != null) {
            String t = rs.has("rope_type") ? rs.getString("rope_type") : rs.getString("type", "default");
            double factor = rs.getDouble("factor", 1.0);
            if (!(factor > 0)) throw j.error("'rope_scaling.factor' = " + factor + " must be positive");
            switch (t) {
                case "default" -> { }
                case "linear" -> {
                    scaling = new RopeScaling("linear", factor, 0, 0, 0);
                    freqScale = (float) (1.0 / factor);
                }
                case "llama3" -> {
                    scaling = new RopeScaling("llama3", factor, rs.getDouble("low_freq_factor", 1.0), rs.getDouble("high_freq_factor", 4.0),
                            rs.getInt("original_max_position_embeddings", j.getInt("original_max_position_embeddings", 8192)));
                    if (!(scaling.highFreqFactor() > scaling.lowFreqFactor()) || !(scaling.lowFreqFactor() > 0) || scaling.originalMaxPositions() <= 0) {
                        throw j.error("rope_scaling " + rs.node() + " needs high_freq_factor > low_freq_factor > 0 and a positive original_max_position_embeddings");
                    }
                    ropeFreqs = llama3FreqFactors(theta, headDim, scaling);
                }
                default -> throw j.error("rope_scaling type '" + t + "' is not supported (jllm runs linear and llama3)");
            }
        }
        try {
            ModelConfig m = new ModelConfig(MODEL_TYPE, dim, j.getInt("num_hidden_layers"), nHeads,
                    j.getInt("num_key_value_heads", nHeads), headDim, j.getInt("intermediate_size"), j.getInt("vocab_size"),
                    j.getInt("max_position_embeddings", 2048), ModelConfig.RopeType.NEOX, (float) theta, headDim, freqScale,
                    j.getFloat("rms_norm_eps", 1e-6f), j.getBool("attention_bias", false), j.getBool("tie_word_embeddings", false));
            return new Config(m, scaling, ropeFreqs);
        } catch (IllegalArgumentException e) {
            throw j.error(e.getMessage());
        }
    }

    /**
     * Llama 3.1's frequency divisors per rotated pair j, as llama.cpp's converter computes them for
     * {@code rope_freqs.weight} (float32, like its torch code): with {@code freq = 1 / theta^(2j/headDim)} and
     * {@code wavelen = 2 pi / freq}: 1 when {@code wavelen < original / high_freq_factor}; {@code factor} when
     * {@code wavelen > original / low_freq_factor}; otherwise {@code 1 / ((1 - s) / factor + s)} with
     * {@code s = (original / wavelen - low) / (high - low)}. jllm's RoPE divides the angle by these.
     */
    public static float[] llama3FreqFactors(double theta, int headDim, RopeScaling s) {
        float factor = (float) s.factor(), low = (float) s.lowFreqFactor(), high = (float) s.highFreqFactor();
        float old = s.originalMaxPositions();
        float lowWavelen = old / low, highWavelen = old / high;
        float[] out = new float[headDim / 2];
        for (int j = 0; j < out.length; j++) {
            float freq = 1f / (float) Math.pow((float) theta, (float) (2 * j) / headDim);
            float wavelen = (float) (2 * Math.PI) / freq;
            if (wavelen < highWavelen) out[j] = 1f;
            else if (wavelen > lowWavelen) out[j] = factor;
            else {
                float smooth = (old / wavelen - low) / (high - low);
                out[j] = 1f / ((1 - smooth) / factor + smooth);
            }
        }
        return out;
    }

    /** Every tensor a checkpoint of this shape holds, in checkpoint order, with its role, shape and layout. */
    public static List<HfTensorRole> roles(ModelConfig c) {
        List<HfTensorRole> r = new ArrayList<>();
        long dim = c.dim(), q = c.qDim(), kv = c.kvDim(), ffn = c.ffnDim();
        r.add(as("model.embed_tokens.weight", "token_embd.weight", c.vocab(), dim));
        for (int l = 0; l < c.nLayers(); l++) {
            String h = "model.layers." + l + ".", g = "blk." + l + ".";
            r.add(as(h + "input_layernorm.weight", g + "attn_norm.weight", dim));
            r.add(new HfTensorRole(h + "self_attn.q_proj.weight", g + "attn_q.weight", new long[] {q, dim}, HfTensorRole.Layout.ROPE_HALF_SPLIT, c.nHeads()));
            r.add(new HfTensorRole(h + "self_attn.k_proj.weight", g + "attn_k.weight", new long[] {kv, dim}, HfTensorRole.Layout.ROPE_HALF_SPLIT, c.nKvHeads()));
            r.add(as(h + "self_attn.v_proj.weight", g + "attn_v.weight", kv, dim));
            if (c.qkvBias()) {
                r.add(new HfTensorRole(h + "self_attn.q_proj.bias", g + "attn_q.bias", new long[] {q}, HfTensorRole.Layout.ROPE_HALF_SPLIT, c.nHeads()));
                r.add(new HfTensorRole(h + "self_attn.k_proj.bias", g + "attn_k.bias", new long[] {kv}, HfTensorRole.Layout.ROPE_HALF_SPLIT, c.nKvHeads()));
                r.add(as(h + "self_attn.v_proj.bias", g + "attn_v.bias", kv));
            }
            r.add(as(h + "self_attn.o_proj.weight", g + "attn_output.weight", dim, q));
            r.add(as(h + "post_attention_layernorm.weight", g + "ffn_norm.weight", dim));
            r.add(as(h + "mlp.gate_proj.weight", g + "ffn_gate.weight", ffn, dim));
            r.add(as(h + "mlp.up_proj.weight", g + "ffn_up.weight", ffn, dim));
            r.add(as(h + "mlp.down_proj.weight", g + "ffn_down.weight", dim, ffn));
        }
        r.add(as("model.norm.weight", "output_norm.weight", dim));
        if (!c.tiedOutput()) r.add(as("lm_head.weight", "output.weight", c.vocab(), dim));
        return r;
    }

    private static HfTensorRole as(String hf, String role, long... shape) {
        return new HfTensorRole(hf, role, shape, HfTensorRole.Layout.AS_IS, 0);
    }

    /**
     * Loads the weights of a llama folder as views (F32, F16, BF16 as stored), after checking every tensor's
     * presence, shape and dtype against config.json and refusing tensors the mapping does not know.
     */
    public static Loaded load(HfJson configJson, SafetensorsStore store) {
        Config cfg = config(configJson);
        ModelConfig c = cfg.model();
        String file = store.path().getFileName().toString();
        List<HfTensorRole> roles = roles(c);
        Set<String> known = HfTensorRole.requireAll(roles, store);
        for (int l = 0; l < c.nLayers(); l++) {
            String bo = "model.layers." + l + ".self_attn.o_proj.bias";
            if (store.has(bo)) {
                known.add(bo);
                for (float v : store.floats(bo)) {
                    if (v != 0f) throw new HfFormatException(file + ": tensor '" + bo + "' is not zero; jllm's LLaMA block has no output-projection bias");
                }
            }
            known.add("model.layers." + l + INV_FREQ);
        }
        if (c.tiedOutput()) known.add("lm_head.weight"); // some tied checkpoints store the copy; transformers ties it anyway
        for (String name : store.tensors().keySet()) {
            if (!known.contains(name)) throw new HfFormatException(file + ": tensor '" + name + "' is not part of a " + c.nLayers() + "-layer llama model");
        }

        int n = c.nLayers();
        Tensor[] wq = new Tensor[n], wk = new Tensor[n], wv = new Tensor[n], wo = new Tensor[n];
        Tensor[] wg = new Tensor[n], wu = new Tensor[n], wd = new Tensor[n];
        float[][] an = new float[n][], fn = new float[n][], bq = new float[n][], bk = new float[n][], bv = new float[n][];
        for (int l = 0; l < n; l++) {
            String h = "model.layers." + l + ".";
            an[l] = store.floats(h + "input_layernorm.weight");
            fn[l] = store.floats(h + "post_attention_layernorm.weight");
            wq[l] = view(store, h + "self_attn.q_proj.weight");
            wk[l] = view(store, h + "self_attn.k_proj.weight");
            wv[l] = view(store, h + "self_attn.v_proj.weight");
            wo[l] = view(store, h + "self_attn.o_proj.weight");
            wg[l] = view(store, h + "mlp.gate_proj.weight");
            wu[l] = view(store, h + "mlp.up_proj.weight");
            wd[l] = view(store, h + "mlp.down_proj.weight");
            if (c.qkvBias()) {
                bq[l] = store.floats(h + "self_attn.q_proj.bias");
                bk[l] = store.floats(h + "self_attn.k_proj.bias");
                bv[l] = store.floats(h + "self_attn.v_proj.bias");
            }
        }
        Tensor embd = view(store, "model.embed_tokens.weight");
        Tensor out = c.tiedOutput() ? embd : view(store, "lm_head.weight");
        LlamaWeights w = new LlamaWeights(embd, an, wq, wk, wv, wo, c.qkvBias() ? bq : null, c.qkvBias() ? bk : null,
                c.qkvBias() ? bv : null, fn, wg, wu, wd, store.floats("model.norm.weight"), out, cfg.ropeFreqs());
        try {
            w.validate(c);
        } catch (IllegalArgumentException e) {
            throw new HfFormatException(file + ": " + e.getMessage(), e);
        }
        return new Loaded(cfg, w);
    }

    private static Tensor view(SafetensorsStore store, String name) {
        return store.tensor(name);
    }

    /**
     * Adds a LLaMA model's tensors to {@code out} under Hugging Face's names: q and k rows in the half-split layout
     * (permuted from GGUF's when {@code c.model().ropeType()} is NORM), F32/F16/BF16 matrices as they are and quantized
     * ones dequantized to F32, norms and biases as F32.
     */
    public static void save(Config cfg, LlamaWeights w, SafetensorsWriter out) {
        ModelConfig c = cfg.model();
        if (c.norm() != ModelConfig.Norm.RMS || c.mlp() != ModelConfig.Mlp.SWIGLU || c.positions() != ModelConfig.Positions.ROPE
                || c.allBiases()) {
            throw new IllegalArgumentException("a " + c.norm() + "/" + c.mlp() + "/" + c.positions() + "/" + c.biases()
                    + " model is not a LLaMA block (RMSNorm, SwiGLU, RoPE, no or Q/K/V biases) that a llama config.json can describe");
        }
        w.validate(c);
        boolean llama3 = cfg.ropeScaling() != null && cfg.ropeScaling().type().equals("llama3");
        if (w.ropeFreqs() != null && !llama3) {
            throw new IllegalArgumentException("the weights carry rope frequency factors, which config.json can only express "
                    + "as llama3 rope_scaling parameters; none were given");
        }
        if (llama3) {
            float[] implied = llama3FreqFactors(c.ropeTheta(), c.headDim(), cfg.ropeScaling());
            float[] have = w.ropeFreqs();
            for (int j = 0; j < implied.length; j++) {
                if (have == null || Math.abs(have[j] - implied[j]) > 1e-4f * implied[j]) {
                    throw new IllegalArgumentException("rope_scaling " + cfg.ropeScaling() + " implies frequency factor "
                            + implied[j] + " for pair " + j + " but the weights have " + (have == null ? "none" : have[j]));
                }
            }
        }
        boolean permute = c.ropeType() == ModelConfig.RopeType.NORM;
        out.tensor("model.embed_tokens.weight", storable(w.tokenEmbedding()));
        for (int l = 0; l < c.nLayers(); l++) {
            String h = "model.layers." + l + ".";
            out.floats(h + "input_layernorm.weight", w.attnNorm()[l], c.dim());
            out.tensor(h + "self_attn.q_proj.weight", storable(permute ? RopePermutation.ggufToHf(w.wq()[l], c.nHeads()) : w.wq()[l]));
            out.tensor(h + "self_attn.k_proj.weight", storable(permute ? RopePermutation.ggufToHf(w.wk()[l], c.nKvHeads()) : w.wk()[l]));
            out.tensor(h + "self_attn.v_proj.weight", storable(w.wv()[l]));
            if (c.qkvBias()) {
                out.floats(h + "self_attn.q_proj.bias", permute ? RopePermutation.ggufToHf(w.bq()[l], 1, c.nHeads()) : w.bq()[l], c.qDim());
                out.floats(h + "self_attn.k_proj.bias", permute ? RopePermutation.ggufToHf(w.bk()[l], 1, c.nKvHeads()) : w.bk()[l], c.kvDim());
                out.floats(h + "self_attn.v_proj.bias", w.bv()[l], c.kvDim());
                out.floats(h + "self_attn.o_proj.bias", new float[c.dim()], c.dim()); // attention_bias gives o_proj one too
            }
            out.tensor(h + "self_attn.o_proj.weight", storable(w.wo()[l]));
            out.floats(h + "post_attention_layernorm.weight", w.ffnNorm()[l], c.dim());
            out.tensor(h + "mlp.gate_proj.weight", storable(w.wGate()[l]));
            out.tensor(h + "mlp.up_proj.weight", storable(w.wUp()[l]));
            out.tensor(h + "mlp.down_proj.weight", storable(w.wDown()[l]));
        }
        out.floats("model.norm.weight", w.outputNorm(), c.dim());
        if (!c.tiedOutput()) out.tensor("lm_head.weight", storable(w.output()));
    }

    /** F32, F16 and BF16 tensors as they are; quantized ones dequantized to F32 (safetensors has no GGML block types). */
    static Tensor storable(Tensor t) {
        return switch (t.type()) {
            case F32, F16, BF16 -> t;
            default -> Tensor.ofFloats(t.name(), t.toFloatArray(), t.ne());
        };
    }

    /** config.json for {@code cfg}, with transformers' key names; {@code torchDtype} names the weights' dtype. */
    public static ObjectNode configJson(Config cfg, GGMLType weightType) {
        ModelConfig c = cfg.model();
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.putArray("architectures").add("LlamaForCausalLM");
        o.put("attention_bias", c.qkvBias());
        o.put("head_dim", c.headDim());
        o.put("hidden_act", "silu");
        o.put("hidden_size", c.dim());
        o.put("intermediate_size", c.ffnDim());
        o.put("max_position_embeddings", c.contextLength());
        o.put("mlp_bias", false);
        o.put("model_type", MODEL_TYPE);
        o.put("num_attention_heads", c.nHeads());
        o.put("num_hidden_layers", c.nLayers());
        o.put("num_key_value_heads", c.nKvHeads());
        o.put("rms_norm_eps", decimal(c.normEps()));
        RopeScaling s = cfg.ropeScaling();
        if (s == null && c.ropeFreqScale() != 1f) s = new RopeScaling("linear", decimal(1f / c.ropeFreqScale()), 0, 0, 0);
        if (s == null) {
            o.putNull("rope_scaling");
        } else {
            ObjectNode r = o.putObject("rope_scaling");
            r.put("factor", s.factor());
            if (s.type().equals("llama3")) {
                r.put("high_freq_factor", s.highFreqFactor());
                r.put("low_freq_factor", s.lowFreqFactor());
                r.put("original_max_position_embeddings", s.originalMaxPositions());
            }
            r.put("rope_type", s.type());
        }
        o.put("rope_theta", decimal(c.ropeTheta()));
        o.put("tie_word_embeddings", c.tiedOutput());
        o.put("torch_dtype", torchDtype(weightType));
        o.put("vocab_size", c.vocab());
        return o;
    }

    /** transformers' torch_dtype name for the type weights are saved in. */
    static String torchDtype(GGMLType t) {
        return switch (t) {
            case F16 -> "float16";
            case BF16 -> "bfloat16";
            default -> "float32";
        };
    }

    /** The shortest decimal that reads back as {@code f} (so 1e-5f is written 1.0E-5, not 9.99999974737875E-6). */
    static double decimal(float f) {
        return Double.parseDouble(Float.toString(f));
    }
}
