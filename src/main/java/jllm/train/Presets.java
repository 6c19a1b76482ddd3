package jllm.train;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.IntFunction;

import jllm.model.ModelConfig;

/**
 * Model shapes to pretrain from scratch ({@code jllm train --config NAME}); the vocabulary size comes from the
 * tokenizer.
 * <pre>
 *   llama-tiny   dim 128, 4 layers, 4 heads (2 KV), SwiGLU 352, context 512         (~0.8M + embeddings)
 *   llama-3m     dim 192, 6 layers, 6 heads (2 KV), SwiGLU 512, context 256     (~2.4M + embeddings; jllm's default model)
 *   llama-15m    dim 288, 6 layers, 6 heads, SwiGLU 768, context 256  (llama2.c's stories15M shape)
 *   gpt2-tiny    dim 128, 4 layers, 4 heads, GELU 512, context 512
 *   gpt2-124m    dim 768, 12 layers, 12 heads, GELU 3072, context 1024 (GPT-2 small, Radford et al. 2019)
 * </pre>
 */
public final class Presets {
    private Presets() {}

    private static final Map<String, IntFunction<ModelConfig>> PRESETS = new LinkedHashMap<>();

    static {
        PRESETS.put("llama-tiny", v -> ModelConfig.llama(128, 4, 4, 2, 352, v, 512));
        PRESETS.put("llama-3m", v -> ModelConfig.llama(192, 6, 6, 2, 512, v, 256));
        PRESETS.put("llama-15m", v -> ModelConfig.llama(288, 6, 6, 6, 768, v, 256));
        PRESETS.put("gpt2-tiny", v -> ModelConfig.gpt2(128, 4, 4, 512, v, 512));
        PRESETS.put("gpt2-124m", v -> ModelConfig.gpt2(768, 12, 12, 3072, v, 1024));
    }

    public static java.util.Set<String> names() {
        return PRESETS.keySet();
    }

    /** The preset's config for a vocabulary of {@code vocab} tokens. */
    public static ModelConfig get(String name, int vocab) {
        IntFunction<ModelConfig> f = PRESETS.get(name);
        if (f == null) throw new IllegalArgumentException("unknown preset '" + name + "' (known: " + String.join(", ", names()) + ")");
        return f.apply(vocab);
    }
}
