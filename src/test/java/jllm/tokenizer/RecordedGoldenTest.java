package jllm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Golden ids recorded with llama.cpp's llama-tokenize (b4747) by reference/tokenizer/record_goldens.py, exact:
 * <ul>
 *   <li>extra.inp (this project's texts: more scripts, white space, digits, contractions, emoji, code) on each
 *       shared vocabulary, no BOS/EOS, special tokens not parsed;</li>
 *   <li>special.inp with the vocabulary's BOS/EOS rule and special tokens parsed, and again with neither;</li>
 *   <li>the GPT-2 vocabulary re-labelled with each pre-tokenizer name, on the shared gpt-2 texts and on
 *       extra.inp.</li>
 * </ul>
 */
class RecordedGoldenTest {
    static final List<String> PRES = List.of("gpt-2", "default", "llama-bpe", "qwen2", "deepseek-llm", "deepseek-coder",
            "deepseek-v3", "falcon", "starcoder", "mpt", "refact", "smollm", "stablelm2", "dbrx", "bloom", "viking",
            "tekken", "chatglm-bpe", "chameleon");

    /** A case with the tokenizer and flags it runs under. */
    record Run(GoldenCases.Case c, String tokenizer, boolean gpt2Relabelled, boolean special) {
        @Override
        public String toString() {
            return c + (special ? " [BOS/EOS, parse special]" : "");
        }
    }

    static Stream<Run> runs() {
        List<Run> runs = new ArrayList<>();
        String extra = GoldenCases.resource("extra.inp");
        String special = GoldenCases.resource("special.inp");
        for (String v : LlamaCppVocabTest.VOCABS) {
            for (GoldenCases.Case c : GoldenCases.cases(v + ".extra", extra, GoldenCases.resource(v + ".extra.out"))) {
                runs.add(new Run(c, v, false, false));
            }
            for (GoldenCases.Case c : GoldenCases.cases(v + ".special", special, GoldenCases.resource(v + ".special.out"))) {
                runs.add(new Run(c, v, false, true));
            }
            for (GoldenCases.Case c : GoldenCases.cases(v + ".special-raw", special, GoldenCases.resource(v + ".special-raw.out"))) {
                runs.add(new Run(c, v, false, false));
            }
        }
        String gpt2Inp = GoldenCases.read(GoldenCases.vocabDir().resolve("ggml-vocab-gpt-2.gguf.inp"));
        for (String pre : PRES) {
            String name = "gpt-2-as-" + pre;
            for (GoldenCases.Case c : GoldenCases.cases(name, gpt2Inp, GoldenCases.resource(name + ".out"))) {
                runs.add(new Run(c, pre, true, false));
            }
            for (GoldenCases.Case c : GoldenCases.cases(name + ".extra", extra, GoldenCases.resource(name + ".extra.out"))) {
                runs.add(new Run(c, pre, true, false));
            }
        }
        return runs.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("runs")
    void encodesLikeLlamaCpp(Run r) {
        VocabTokenizer t = r.gpt2Relabelled() ? GoldenCases.gpt2As(r.tokenizer()) : GoldenCases.vocab(r.tokenizer());
        int[] got = t.encode(r.c().text(), r.special(), r.special());
        assertArrayEquals(r.c().ids(), got,
                () -> r + ": expected " + Arrays.toString(r.c().ids()) + " got " + Arrays.toString(got));
    }
}
