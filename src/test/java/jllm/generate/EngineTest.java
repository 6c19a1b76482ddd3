package jllm.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import jllm.testing.TestData;

/**
 * A GGUF file jllm did not write (../shared/testdata/gguf/tiny-random-llama-gguf, F16 matrices, 32,000-token SPM
 * vocabulary) loads and generates what llama.cpp generates: greedy ids recorded with reference/llamacpp's
 * harness (`logits_harness llama-2-tiny-random.gguf 12 1,450,4996 --kv-type f32`, llama.cpp b4747).
 */
class EngineTest {
    static final Path MODEL = TestData.file("gguf/tiny-random-llama-gguf/llama-2-tiny-random.gguf");
    static final int[] LLAMACPP_GREEDY = {16974, 3761, 12321, 12681, 14340, 1189, 30070, 29182, 9645, 20945, 16138, 2451, 19209};
    static Engine engine;

    @BeforeAll
    static void open() throws Exception {
        engine = Engine.open(MODEL, 2);
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    static GenerationConfig greedy(int n) {
        return new GenerationConfig(n, SamplerConfig.greedy(), List.of());
    }

    @Test
    void tokenizesLikeLlamaCppAndGeneratesItsGreedyContinuation() {
        int[] prompt = engine.tokenizer().encode("The quick", true, true);
        assertThat(prompt).containsExactly(1, 450, 4996);
        Session s = engine.newSession(64, 8);
        StringBuilder streamed = new StringBuilder();
        Session.Result r = s.generate(prompt, greedy(13), streamed::append);
        assertThat(r.tokens()).containsExactly(LLAMACPP_GREEDY);
        assertThat(r.reason()).isEqualTo(Session.StopReason.MAX_TOKENS);
        assertThat(streamed.toString()).isEqualTo(r.text());
        // llama-simple prints the same continuation: " früya HarttekupsologЕfahrt" for the first 8 tokens
        assertThat(r.text()).startsWith(" früya HarttekupsologЕfahrt");
    }

    @Test
    void promptBatchSizeDoesNotChangeTheResult() {
        int[] prompt = engine.tokenizer().encode("The quick brown fox jumps over the lazy dog", true, true);
        int[] a = engine.newSession(64, 1).generate(prompt, greedy(6), null).tokens();
        int[] b = engine.newSession(64, 4).generate(prompt, greedy(6), null).tokens();
        int[] c = engine.newSession(64, 64).generate(prompt, greedy(6), null).tokens();
        assertThat(b).containsExactly(a);
        assertThat(c).containsExactly(a);
    }

    @Test
    void multiTurnReusesTheCachedPrefixAndMatchesAFreshSession() {
        int[] turn1 = engine.tokenizer().encode("The quick", true, true);
        Session s = engine.newSession(128, 8);
        Session.Result r1 = s.generate(turn1, greedy(4), null);
        // second turn: the whole conversation so far plus new text
        List<Integer> convo = new ArrayList<>();
        for (int t : turn1) convo.add(t);
        for (int t : r1.tokens()) convo.add(t);
        for (int t : engine.tokenizer().encode(" brown fox", false, true)) convo.add(t);
        int[] turn2 = convo.stream().mapToInt(Integer::intValue).toArray();
        Session.Result r2 = s.generate(turn2, greedy(5), null);
        // everything but the last generated token of turn 1 (never fed back) and the new text was reused
        assertThat(r2.evaluatedPromptTokens()).isEqualTo(turn2.length - (turn1.length + r1.tokens().length - 1));
        Session fresh = engine.newSession(128, 8);
        assertThat(r2.tokens()).containsExactly(fresh.generate(turn2, greedy(5), null).tokens());
    }

    @Test
    void stopStringEndsGenerationAndIsNotReturned() {
        int[] prompt = engine.tokenizer().encode("The quick", true, true);
        String full = engine.newSession(64, 8).generate(prompt, greedy(13), null).text();
        String stop = full.substring(5, 8);
        Session.Result r = engine.newSession(64, 8).generate(prompt, new GenerationConfig(13, SamplerConfig.greedy(), List.of(stop)), null);
        assertThat(r.reason()).isEqualTo(Session.StopReason.STOP_STRING);
        assertThat(r.text()).isEqualTo(full.substring(0, full.indexOf(stop)));
    }

    @Test
    void seededSamplingIsReproducible() {
        int[] prompt = engine.tokenizer().encode("The quick", true, true);
        GenerationConfig g = new GenerationConfig(10, new SamplerConfig(1.0f, 40, 0.95f, 0.05f, 1.1f, 64, 1234), List.of());
        int[] a = engine.newSession(64, 8).generate(prompt, g, null).tokens();
        int[] b = engine.newSession(64, 8).generate(prompt, g, null).tokens();
        assertThat(a).containsExactly(b);
    }

    @Test
    void tooLongPromptAndBadTokensGetClearErrors() {
        int[] prompt = new int[70];
        java.util.Arrays.fill(prompt, 450);
        assertThatThrownBy(() -> engine.newSession(64, 8).generate(prompt, greedy(1), null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("70 tokens").hasMessageContaining("context of 64");
        assertThatThrownBy(() -> engine.newSession(64, 8).generate(new int[]{1, 32000}, greedy(1), null))
                .hasMessageContaining("token id 32000 is out of range");
    }
}
