package jllm.generate;

/**
 * Sampling settings; CLI flags map one-to-one to these fields.
 *
 * @param temperature        0 means greedy (argmax)
 * @param topK               keep the k most likely tokens; 0 disables
 * @param topP               nucleus: keep the smallest set whose probability reaches p; 1 disables
 * @param minP               drop tokens whose probability is below minP times the top token's; 0 disables
 * @param repeatPenalty      CTRL-style penalty (Keskar et al. 2019) on tokens in the last {@code repeatLastN}; 1 disables
 * @param repeatLastN        how many recent tokens the penalty looks at
 * @param seed               random seed: the same seed gives the same output
 */
public record SamplerConfig(float temperature, int topK, float topP, float minP, float repeatPenalty,
                            int repeatLastN, long seed) {
    public SamplerConfig {
        if (!(temperature >= 0)) throw new IllegalArgumentException("--temp must be >= 0, got " + temperature);
        if (topK < 0) throw new IllegalArgumentException("--top-k must be >= 0, got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("--top-p must be in (0, 1], got " + topP);
        if (!(minP >= 0 && minP <= 1)) throw new IllegalArgumentException("--min-p must be in [0, 1], got " + minP);
        if (!(repeatPenalty > 0)) throw new IllegalArgumentException("--repeat-penalty must be > 0, got " + repeatPenalty);
        if (repeatLastN < 0) throw new IllegalArgumentException("--repeat-last-n must be >= 0, got " + repeatLastN);
    }

    public static SamplerConfig greedy() {
        return new SamplerConfig(0f, 0, 1f, 0f, 1f, 64, 0);
    }

    /** llama.cpp's defaults: temperature 0.8, top-k 40, top-p 0.95, min-p 0.05, no repetition penalty. */
    public static SamplerConfig defaults(long seed) {
        return new SamplerConfig(0.8f, 40, 0.95f, 0.05f, 1f, 64, seed);
    }
}
