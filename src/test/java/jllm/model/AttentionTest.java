package jllm.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The tiled online-softmax attention against the plain softmax(QK^T/sqrt(d))V with a causal mask. */
class AttentionTest {

    static ModelConfig config(int nHeads, int nKvHeads, int headDim) {
        return new ModelConfig("llama", nHeads * headDim, 1, nHeads, nKvHeads, headDim, 8, 16, 4096,
                ModelConfig.RopeType.NORM, 10000f, headDim, 1f, 1e-5f, false, false);
    }

    @ParameterizedTest(name = "heads {0}/{1}, headDim {2}, startPos {3}, T {4}")
    @CsvSource({
            "4, 4, 16, 0, 1",     // MHA, single token
            "4, 4, 16, 0, 37",    // MHA prompt spanning several query and key tiles
            "8, 2, 32, 0, 150",   // GQA, > 2 key tiles
            "8, 1, 8, 5, 20",     // MQA with a cached prefix
            "6, 3, 64, 130, 1",   // decoding step after a long cache
            "4, 2, 16, 63, 66"})  // tile boundaries straddled
    void tiledEqualsNaive(int nHeads, int nKv, int hd, int startPos, int T) {
        ModelConfig c = config(nHeads, nKv, hd);
        SplittableRandom r = new SplittableRandom(nHeads * 31L + T);
        int n = startPos + T;
        float[] q = random(r, T * c.qDim(), 2f);
        float[] k = random(r, n * c.kvDim(), 2f);
        float[] v = random(r, n * c.kvDim(), 1f);
        float[] expected = new float[T * c.qDim()];
        NaiveAttention.forward(expected, q, k, v, startPos, T, c);
        float[] actual = new float[T * c.qDim()];
        Attention.Scratch w = new Attention.Scratch(hd);
        for (int h = 0; h < nHeads; h++) Attention.head(actual, q, k, v, startPos, 0, T, h, c, w);
        double maxDiff = 0;
        for (int i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs(expected[i] - actual[i]));
        assertThat(maxDiff).as("max |tiled - naive|").isLessThan(2e-5);
    }

    @org.junit.jupiter.api.Test
    void firstPositionAttendsOnlyToItself() {
        ModelConfig c = config(2, 1, 4);
        float[] q = {1, 2, 3, 4, -1, 0, 2, 1};
        float[] k = {1, 1, 1, 1, 9, 9, 9, 9};
        float[] v = {0.5f, -1, 2, 3, 7, 7, 7, 7};
        float[] out = new float[8];
        Attention.Scratch w = new Attention.Scratch(4);
        for (int h = 0; h < 2; h++) Attention.head(out, q, k, v, 0, 0, 1, h, c, w);
        assertThat(out).containsExactly(0.5f, -1, 2, 3, 0.5f, -1, 2, 3);
    }

    static float[] random(SplittableRandom r, int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * scale);
        return a;
    }
}
