package jllm.cli;

import java.util.ArrayList;
import java.util.List;

import jllm.generate.GenerationConfig;
import jllm.generate.SamplerConfig;
import picocli.CommandLine.Option;

/** Sampling and stopping flags shared by {@code generate} and {@code chat}; one flag per record field. */
public final class SamplingOptions {
    @Option(names = {"-n", "--n-predict"}, description = "Maximum new tokens (default: ${DEFAULT-VALUE}).", defaultValue = "128")
    int maxTokens;

    @Option(names = "--temp", description = "Temperature; 0 is greedy (default: ${DEFAULT-VALUE}).", defaultValue = "0.8")
    float temperature;

    @Option(names = "--top-k", description = "Top-k; 0 disables (default: ${DEFAULT-VALUE}).", defaultValue = "40")
    int topK;

    @Option(names = "--top-p", description = "Nucleus top-p; 1 disables (default: ${DEFAULT-VALUE}).", defaultValue = "0.95")
    float topP;

    @Option(names = "--min-p", description = "Min-p; 0 disables (default: ${DEFAULT-VALUE}).", defaultValue = "0.05")
    float minP;

    @Option(names = "--repeat-penalty", description = "Repetition penalty; 1 disables (default: ${DEFAULT-VALUE}).", defaultValue = "1.0")
    float repeatPenalty;

    @Option(names = "--repeat-last-n", description = "Tokens the repetition penalty looks back over (default: ${DEFAULT-VALUE}).", defaultValue = "64")
    int repeatLastN;

    @Option(names = {"-s", "--seed"}, description = "Random seed (default: time-based).")
    Long seed;

    @Option(names = "--stop", description = "Stop when this text appears (repeatable).")
    List<String> stop = new ArrayList<>();

    SamplerConfig sampler() {
        long s = seed != null ? seed : System.nanoTime();
        return new SamplerConfig(temperature, topK, topP, minP, repeatPenalty, repeatLastN, s);
    }

    GenerationConfig generation() {
        return new GenerationConfig(maxTokens, sampler(), stop);
    }
}
