package jllm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/**
 * {@link TrainBenchmark#flopsPerStep} against the formula of its class comment worked out by hand from each preset's
 * shape (no call into the parameter list): 3 B T [2 (N + V C) + 4 L Q (T + 1) / 2], N the blocks' matrix weights.
 * Tolerance: 1e-12 relative (the same integers in doubles).
 */
class TrainBenchmarkTest {
    static void assertFlops(String preset, int vocab, int B, int T, double expected) {
        double got = TrainBenchmark.flopsPerStep(Presets.get(preset, vocab), B, T);
        assertThat(got).as(preset).isCloseTo(expected, within(1e-12 * expected));
    }

    @Test
    void llamaTinyUntiedOutputCountedOnce() {
        // dim 128, 4 layers, 4 heads of 32 (qDim 128), 2 KV heads (kvDim 64), SwiGLU 352, vocab 257, untied output
        long perLayer = 128L * 128 + 128 * 64 + 128 * 64 + 128 * 128 + 3L * 128 * 352; // q, k, v, o, gate/up/down = 184,320
        long n = 4 * perLayer;                                                           // 737,280
        int B = 2, T = 8;
        double perToken = 2.0 * (n + 257L * 128) + 4.0 * 4 * 128 * (T + 1) / 2;          // 1,540,352 + 9,216
        assertThat(perToken).isEqualTo(1_549_568.0);
        assertFlops("llama-tiny", 257, B, T, 3 * perToken * B * T);                       // 74,379,264
    }

    @Test
    void gpt2SmallIssue5Shape() {
        // GPT-2 124M: dim 768, 12 layers, 12 heads (qDim 768), GELU 3072, vocab 50257, tied output; batch 4 x 64
        long n = 12 * (4L * 768 * 768 + 2L * 768 * 3072);                                // 84,934,656
        double perToken = 2.0 * (n + 50257L * 768) + 4.0 * 12 * 768 * 65 / 2;
        double expected = 3 * perToken * 4 * 64;
        assertThat(expected).isEqualTo(190_665_326_592.0);                               // reference/llmc's 190.7 GFLOP
        assertFlops("gpt2-124m", 50257, 4, 64, expected);
    }

    @Test
    void gpt2TinyAndBadShapes() {
        long n = 4 * (4L * 128 * 128 + 2L * 128 * 512);
        double perToken = 2.0 * (n + 257L * 128) + 4.0 * 4 * 128 * 17 / 2;
        assertFlops("gpt2-tiny", 257, 3, 16, 3 * perToken * 3 * 16);
        assertThatThrownBy(() -> TrainBenchmark.flopsPerStep(Presets.get("gpt2-tiny", 257), 0, 16)).hasMessageContaining("got 0");
    }
}
