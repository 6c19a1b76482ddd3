package jllm.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The whole model's backward (every parameter tensor) against central finite differences of the training forward's
 * loss, for every block and position variant: LLaMA (RMSNorm, SwiGLU, RoPE, GQA), NEOX RoPE with tied output, MQA
 * with ALiBi, Qwen2's QKV biases, GPT-2 (LayerNorm, GELU, learned positions, biases, tied output), sinusoidal
 * positions, and a GPT block with RoPE and GQA; two sequences, one masked target. Step h = 1e-2; tolerance 2e-3 of
 * each tensor's largest gradient plus 5e-5 absolute (the float rounding of a loss of about 2.5 over 2h). Also: recomputing activations in the backward gives the same bits, and so do 1
 * and 3 threads.
 */
class ModelBackwardTest {
    static final int B = 2, T = 5;

    static int[] tokens(ModelConfig c) {
        SplittableRandom r = new SplittableRandom(3);
        int[] t = new int[B * T];
        for (int i = 0; i < t.length; i++) t[i] = r.nextInt(c.vocab());
        return t;
    }

    static int[] targets(ModelConfig c) {
        int[] t = tokens(c).clone();
        for (int i = 0; i < t.length - 1; i++) t[i] = t[i + 1];
        t[t.length - 1] = 1;
        t[3] = CrossEntropy.IGNORE; // a masked row
        return t;
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "llama-neox-tied", "llama-mqa-alibi", "qwen2-bias", "gpt2", "gpt2-sinusoidal", "gpt2-rope-gqa"})
    void everyGradientMatchesFiniteDifferences(String variant) {
        ModelConfig c = TinyModels.config(variant);
        Map<String, float[]> arrays = TinyModels.randomArrays(c, 42);
        int[] tokens = tokens(c), targets = targets(c);
        try (Linear linear = new Linear(2)) {
            LlamaModel m = new LlamaModel(c, TinyModels.weights(c, arrays), linear);
            LlamaModel.State s = m.newTrainingState(B, T, false);
            Gradients g = Gradients.zeros(c);
            m.forward(tokens, targets, s);
            m.backward(tokens, targets, s, g, 1f);
            for (var e : arrays.entrySet()) {
                GradCheck.check(variant + " " + e.getKey(), e.getValue(), g.byName().get(e.getKey()),
                        () -> m.forward(tokens, targets, s), 1e-2f, 2e-3, 5e-5);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "gpt2", "llama-mqa-alibi"})
    void recomputeAndThreadCountGiveTheSameBits(String variant) {
        ModelConfig c = TinyModels.config(variant);
        Map<String, float[]> arrays = TinyModels.randomArrays(c, 7);
        int[] tokens = tokens(c), targets = targets(c);
        Gradients ref = run(c, arrays, tokens, targets, 1, false);
        for (int threads : new int[] {1, 3}) {
            for (boolean recompute : new boolean[] {false, true}) {
                Gradients g = run(c, arrays, tokens, targets, threads, recompute);
                for (var e : ref.byName().entrySet()) {
                    assertThat(g.byName().get(e.getKey())).as("%s threads %d recompute %b", e.getKey(), threads, recompute)
                            .containsExactly(e.getValue());
                }
            }
        }
    }

    private static Gradients run(ModelConfig c, Map<String, float[]> arrays, int[] tokens, int[] targets, int threads, boolean recompute) {
        try (Linear linear = new Linear(threads)) {
            LlamaModel m = new LlamaModel(c, TinyModels.weights(c, arrays), linear);
            LlamaModel.State s = m.newTrainingState(B, T, recompute);
            Gradients g = Gradients.zeros(c);
            m.forward(tokens, targets, s);
            m.backward(tokens, targets, s, g, 1f);
            return g;
        }
    }
}
