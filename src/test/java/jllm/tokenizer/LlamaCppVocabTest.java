package jllm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every case of every .inp/.out pair in ../shared/testdata/tokenizer/llamacpp-vocab (llama.cpp's own tokenizer
 * tests; ids exact, no tolerance): no BOS/EOS, special tokens not parsed, as in llama.cpp's test-tokenizer-0.
 */
class LlamaCppVocabTest {
    static final List<String> VOCABS = List.of("llama-spm", "phi-3", "gpt-2", "deepseek-llm", "bert-bge", "llama-bpe");

    static Stream<GoldenCases.Case> cases() {
        List<GoldenCases.Case> all = new ArrayList<>();
        for (String v : VOCABS) {
            String base = "ggml-vocab-" + v + ".gguf";
            all.addAll(GoldenCases.cases(v, GoldenCases.read(GoldenCases.vocabDir().resolve(base + ".inp")),
                    GoldenCases.read(GoldenCases.vocabDir().resolve(base + ".out"))));
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void encodesLikeLlamaCpp(GoldenCases.Case c) {
        int[] got = GoldenCases.vocab(c.file()).encode(c.text(), false, false);
        assertArrayEquals(c.ids(), got, () -> c + ": expected " + Arrays.toString(c.ids()) + " got " + Arrays.toString(got));
    }

    /** Every vocabulary in the folder has its pair here, and each has the 46 cases of this llama.cpp version. */
    @Test
    void allFilesCovered() throws Exception {
        try (Stream<java.nio.file.Path> files = java.nio.file.Files.list(GoldenCases.vocabDir())) {
            List<String> found = files.map(p -> p.getFileName().toString()).filter(f -> f.endsWith(".gguf"))
                    .map(f -> f.substring("ggml-vocab-".length(), f.length() - ".gguf".length())).sorted().toList();
            assertEquals(VOCABS.stream().sorted().toList(), found);
        }
        assertEquals(46 * VOCABS.size(), cases().count());
    }
}
