package jllm.estimate;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import jllm.estimate.ModelShape.Arch;
import jllm.estimate.ModelShape.Norm;

/**
 * Named model shapes, each taken from the model's own configuration (its Hugging Face {@code config.json} or,
 * for models never released, the paper's table). Parameter counts computed from these shapes are checked
 * against the published totals in {@code PresetsTest}.
 *
 * <pre>
 *   gpt2, gpt2-xl        Radford et al. 2019; HF openai-community/gpt2{,-xl} config.json
 *   bert-base-uncased    Devlin et al. 2019; HF google-bert/bert-base-uncased (BertModel, with pooler)
 *   bert-base-cased      same shape, 28,996-token cased vocabulary
 *   t5-base              Raffel et al. 2020; HF google-t5/t5-base (T5ForConditionalGeneration, tied head)
 *   llama-2-7b/13b/70b   Touvron et al. 2023b, Table 1; HF meta-llama/Llama-2-{7b,13b,70b}-hf config.json
 *   llama-3-8b/70b       Meta 2024; HF meta-llama/Meta-Llama-3-{8B,70B} config.json
 *   llama-3.1-405b       Llama Team 2024 (The Llama 3 Herd of Models), Table 3
 *   mistral-7b           Jiang et al. 2023, Table 1 (v0.1: sliding window 4096)
 *   mixtral-8x7b         Jiang et al. 2024, Table 1
 *   qwen2.5-7b           Qwen Team 2024; HF Qwen/Qwen2.5-7B config.json (q, k, v biases)
 *   gpt-3-175b           Brown et al. 2020, Table 2.1 (n_ctx 2048, GPT-2 tokenizer)
 *   mt-nlg-530b          Smith et al. 2022 (105 layers, h 20480, 128 heads; vocab 51,200 as padded by Megatron)
 *   opt-13b              Zhang et al. 2022, Table 1; HF facebook/opt-13b (2,048 + 2 learned positions)
 * </pre>
 */
public final class Presets {
    private Presets() {}

    private static final Map<String, ModelShape> PRESETS = new LinkedHashMap<>();

    private static void gpt(String name, int layers, int hidden, int heads, int vocab, int positions, long ctx) {
        put(new ModelShape(name, Arch.DECODER, layers, 0, hidden, heads, heads, hidden / heads, 4L * hidden, vocab, ctx,
                positions, 0, 0, true, false, Norm.LAYER_NORM, true, false, 0, false, 0, 0));
    }

    private static void llama(String name, int layers, int hidden, int heads, int kv, long ffn, int vocab, long ctx,
                              boolean tied, boolean qkvBias, int experts, int active, int window) {
        put(new ModelShape(name, Arch.DECODER, layers, 0, hidden, heads, kv, hidden / heads, ffn, vocab, ctx, 0,
                experts, active, tied, true, Norm.RMS_NORM, false, qkvBias, 0, false, 0, window));
    }

    private static void bert(String name, int vocab) {
        put(new ModelShape(name, Arch.ENCODER, 12, 0, 768, 12, 12, 64, 3072, vocab, 512, 512, 0, 0, false, false,
                Norm.LAYER_NORM, true, false, 2, true, 0, 0));
    }

    private static void put(ModelShape s) {
        PRESETS.put(s.name(), s);
    }

    static {
        gpt("gpt2", 12, 768, 12, 50257, 1024, 1024);
        gpt("gpt2-xl", 48, 1600, 25, 50257, 1024, 1024);
        bert("bert-base-uncased", 30522);
        bert("bert-base-cased", 28996);
        put(new ModelShape("t5-base", Arch.ENCODER_DECODER, 12, 12, 768, 12, 12, 64, 3072, 32128, 512, 0, 0, 0,
                true, false, Norm.RMS_NORM, false, false, 0, false, 32, 0));
        llama("llama-2-7b", 32, 4096, 32, 32, 11008, 32000, 4096, false, false, 0, 0, 0);
        llama("llama-2-13b", 40, 5120, 40, 40, 13824, 32000, 4096, false, false, 0, 0, 0);
        llama("llama-2-70b", 80, 8192, 64, 8, 28672, 32000, 4096, false, false, 0, 0, 0);
        llama("llama-3-8b", 32, 4096, 32, 8, 14336, 128256, 8192, false, false, 0, 0, 0);
        llama("llama-3-70b", 80, 8192, 64, 8, 28672, 128256, 8192, false, false, 0, 0, 0);
        llama("llama-3.1-405b", 126, 16384, 128, 8, 53248, 128256, 131072, false, false, 0, 0, 0);
        llama("mistral-7b", 32, 4096, 32, 8, 14336, 32000, 32768, false, false, 0, 0, 4096);
        llama("mixtral-8x7b", 32, 4096, 32, 8, 14336, 32000, 32768, false, false, 8, 2, 0);
        llama("qwen2.5-7b", 28, 3584, 28, 4, 18944, 152064, 131072, false, true, 0, 0, 0);
        gpt("gpt-3-175b", 96, 12288, 96, 50257, 2048, 2048);
        gpt("mt-nlg-530b", 105, 20480, 128, 51200, 2048, 2048);
        gpt("opt-13b", 40, 5120, 40, 50272, 2050, 2048);
    }

    /** The preset called {@code name} (case-insensitive), or an exception listing the known names. */
    public static ModelShape get(String name) {
        ModelShape s = PRESETS.get(name.toLowerCase(Locale.ROOT));
        if (s == null) {
            throw new IllegalArgumentException("unknown model preset '" + name + "'; known presets: " + String.join(", ", names()));
        }
        return s;
    }

    /** True when {@code name} is a preset. */
    public static boolean has(String name) {
        return PRESETS.containsKey(name.toLowerCase(Locale.ROOT));
    }

    /** Preset names in a stable order. */
    public static Iterable<String> names() {
        return PRESETS.keySet();
    }
}
