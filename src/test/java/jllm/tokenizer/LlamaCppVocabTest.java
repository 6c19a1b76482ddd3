package jllm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import jllm.format.gguf.GGUFFile;

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

    /**
     * A GGUF file jllm did not write (../shared/testdata/gguf/tiny-random-llama-gguf, Llama 2's vocabulary in a model
     * file): its tokenizer gives llama.cpp's ids (llama-tokenize b4747 on this file; BOS added by default), and the
     * same ids as the llama-spm vocabulary on all of that vocabulary's texts.
     */
    @Test
    void modelFileFromAnotherTool() throws Exception {
        VocabTokenizer t;
        Path file = GoldenCases.testdata("gguf/tiny-random-llama-gguf").resolve("llama-2-tiny-random.gguf");
        try (GGUFFile f = GGUFFile.open(file)) {
            t = Tokenizers.fromGGUF(f);
        }
        assertArrayEquals(new int[] {1, 15043, 3186, 29991, 29871, 243, 162, 157, 131, 7189, 29876, 30085, 29883, 9289, 29948},
                t.encode("Hello world! 🚀 Ünïcödé", true, false));
        VocabTokenizer spm = GoldenCases.vocab("llama-spm");
        for (String text : GoldenCases.splitInputs(GoldenCases.read(GoldenCases.vocabDir().resolve("ggml-vocab-llama-spm.gguf.inp")))) {
            assertArrayEquals(spm.encode(text, false, false), t.encode(text, false, false), text);
        }
        assertEquals(1, t.bos());
        assertEquals(2, t.eos());
        assertTrue(t.isEog(2));
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
