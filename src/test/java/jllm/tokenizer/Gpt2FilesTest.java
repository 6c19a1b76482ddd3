package jllm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The GPT-2 tokenizer built from OpenAI's encoder.json + vocab.bpe, against the expected encodings of the
 * gpt-3-encoder and tiktoken test suites (../shared/testdata/tokenizer/gpt2-bpe/gpt2_expected_encodings.json,
 * exact ids), and against the GGUF GPT-2 vocabulary on llama.cpp's 46 texts.
 */
class Gpt2FilesTest {
    private static VocabTokenizer tokenizer;

    static synchronized VocabTokenizer tokenizer() {
        if (tokenizer == null) {
            Path dir = GoldenCases.testdata("tokenizer/gpt2-bpe");
            try {
                tokenizer = Tokenizers.fromGpt2Files(dir.resolve("encoder.json"), dir.resolve("vocab.bpe"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return tokenizer;
    }

    record Expected(int index, String text, int[] ids, boolean special) {
        @Override
        public String toString() {
            return "#" + index + " '" + text + "'";
        }
    }

    static Stream<Expected> expected() throws IOException {
        Path file = GoldenCases.testdata("tokenizer/gpt2-bpe").resolve("gpt2_expected_encodings.json");
        JsonNode cases = new ObjectMapper().readTree(file.toFile()).get("cases");
        List<Expected> all = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            JsonNode c = cases.get(i);
            int[] ids = new int[c.get("ids").size()];
            for (int k = 0; k < ids.length; k++) ids[k] = c.get("ids").get(k).asInt();
            // tiktoken's allowed_special=all case: <|endoftext|> is parsed as the special token
            all.add(new Expected(i, c.get("text").asText(), ids, c.get("src").asText().contains("allowed_special")));
        }
        assertEquals(26, all.size());
        return all.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("expected")
    void encodesLikeReference(Expected e) {
        int[] got = tokenizer().encode(e.text(), false, e.special());
        assertArrayEquals(e.ids(), got, () -> e + ": expected " + Arrays.toString(e.ids()) + " got " + Arrays.toString(got));
        if (!e.special()) assertEquals(e.text(), tokenizer().decode(got));
    }

    @Test
    void sameIdsAsTheGgufVocabulary() {
        VocabTokenizer gguf = GoldenCases.vocab("gpt-2");
        assertEquals(gguf.vocabSize(), tokenizer().vocabSize());
        String inp = GoldenCases.read(GoldenCases.vocabDir().resolve("ggml-vocab-gpt-2.gguf.inp"));
        for (String text : GoldenCases.splitInputs(inp)) {
            assertArrayEquals(gguf.encode(text, false, false), tokenizer().encode(text, false, false), text);
        }
        assertEquals(50256, tokenizer().eos());
        assertTrue(tokenizer().isEog(50256));
    }
}
