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
 * The pre-tokenizer's pieces alone, against llama.cpp's unicode_regex_split with the regex list of each
 * tokenizer.ggml.pre (recorded by reference/tokenizer/split_harness.cpp; exact piece lengths in code points). BPE
 * merging can hide a wrong split, so the splits are checked on their own.
 */
class PreTokenizerSplitTest {

    record Split(String pre, String file, int index, String text, int[] lengths) {
        @Override
        public String toString() {
            return new GoldenCases.Case(pre + file, index, text, lengths).toString();
        }
    }

    static Stream<Split> splits() {
        List<Split> all = new ArrayList<>();
        List<String> shared = GoldenCases.splitInputs(GoldenCases.read(GoldenCases.vocabDir().resolve("ggml-vocab-gpt-2.gguf.inp")));
        List<String> extra = GoldenCases.splitInputs(GoldenCases.resource("extra.inp"));
        for (String pre : RecordedGoldenTest.PRES) {
            for (String suffix : new String[] {"", ".extra"}) {
                List<String> texts = suffix.isEmpty() ? shared : extra;
                List<String> lines = GoldenCases.resource("splits/" + pre + suffix + ".splits").lines().toList();
                assertEquals(texts.size(), lines.size(), pre + suffix);
                for (int i = 0; i < texts.size(); i++) {
                    all.add(new Split(pre, suffix, i, texts.get(i), GoldenCases.parseIds(lines.get(i))));
                }
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("splits")
    void splitsLikeLlamaCpp(Split s) {
        int[] got = BpePreset.forName(s.pre()).preTokenizer().split(s.text().codePoints().toArray());
        assertArrayEquals(s.lengths(), got, () -> s + ": expected " + Arrays.toString(s.lengths()) + " got " + Arrays.toString(got));
    }

    @Test
    void regexTranslationForTheCollapsedText() {
        // \p{N} outside a class gets brackets; inside, only its members; escapes stay paired; $ becomes \z
        assertEquals("[\u00D10-9]+", PreTokenizer.translate("\\p{N}+", true));
        assertEquals("[^\\s\u00D2A-Za-z\u00D10-9]", PreTokenizer.translate("[^\\s\\p{L}\\p{N}]", true));
        assertEquals("\\s+\\z", PreTokenizer.translate("\\s+$", false));
        assertEquals("[\\$]\\[x", PreTokenizer.translate("[\\$]\\[x", false));
    }
}
