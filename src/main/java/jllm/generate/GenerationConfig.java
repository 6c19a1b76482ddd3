package jllm.generate;

import java.util.List;

/**
 * What to generate: at most {@code maxTokens} new tokens, stopping early at an end-of-generation token or when
 * the text produced contains one of {@code stop} (the stop string itself is not returned).
 */
public record GenerationConfig(int maxTokens, SamplerConfig sampler, List<String> stop) {
    public GenerationConfig {
        if (maxTokens < 0) throw new IllegalArgumentException("-n must be >= 0, got " + maxTokens);
        stop = stop == null ? List.of() : List.copyOf(stop);
        for (String s : stop) if (s.isEmpty()) throw new IllegalArgumentException("a stop string must not be empty");
    }
}
