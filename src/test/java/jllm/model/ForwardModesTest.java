package jllm.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * One forward, two modes: for every block and position variant, the logits of the training forward (per-layer
 * activations, keys from the batch) equal those of the inference forward (a KV cache, the prompt in chunks of 3 and
 * then one token at a time, so later positions attend to cached keys), to 1e-5 absolute (the same arithmetic in a
 * different order of chunks; logits are O(1)). The second sequence of the training batch must not see the first.
 */
class ForwardModesTest {
    @ParameterizedTest
    @ValueSource(strings = {"llama", "llama-neox-tied", "llama-mqa-alibi", "qwen2-bias", "gpt2", "gpt2-sinusoidal", "gpt2-rope-gqa"})
    void trainingAndCachedInferenceGiveTheSameLogits(String variant) {
        ModelConfig c = TinyModels.config(variant);
        Map<String, float[]> arrays = TinyModels.randomArrays(c, 5);
        int T = 9, V = c.vocab();
        SplittableRandom r = new SplittableRandom(2);
        int[] tokens = new int[2 * T], targets = new int[2 * T];
        for (int i = 0; i < tokens.length; i++) tokens[i] = r.nextInt(V);
        try (Linear linear = new Linear(2)) {
            LlamaModel m = new LlamaModel(c, TinyModels.weights(c, arrays), linear);
            LlamaModel.State train = m.newTrainingState(2, T, false);
            m.forward(tokens, targets, train);
            for (int b = 0; b < 2; b++) {
                KvCache cache = new KvCache(c, T);
                LlamaModel.State inf = m.newState(3);
                float[] prompt = m.forward(tokens, b * T, 5, 0, cache, inf, true);   // positions 0..4 in chunks of 3
                double worst = 0;
                for (int t = 0; t < T; t++) {
                    float[] logits = t < 5 ? java.util.Arrays.copyOfRange(prompt, t * V, (t + 1) * V)
                            : m.forward(tokens, b * T + t, 1, t, cache, inf, false);
                    for (int v = 0; v < V; v++) worst = Math.max(worst, Math.abs(logits[v] - train.logits[(b * T + t) * V + v]));
                }
                assertThat(worst).as("%s sequence %d: max |inference - training| logit", variant, b).isLessThan(1e-5);
            }
        }
    }
}
