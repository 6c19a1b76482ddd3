package jllm.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jllm.format.gguf.GGUFFile;
import jllm.format.gguf.GGUFWriter;

/**
 * {@link BpeTrainer}: merges derived by hand on tiny corpora; the same merges as the slow reference trainer
 * ({@link ReferenceBpe}) on a synthetic corpus; the trained vocabulary, written to GGUF and read back, round-trips
 * held-out text (CJK, emoji, scripts never seen) and encodes exactly as greedy-by-rank merging does; results depend
 * only on the word counts. All comparisons are exact.
 */
class BpeTrainerTest {
    static final List<String> EOT = List.of("<|endoftext|>");

    @TempDir Path tmp;

    static BpeTrainer.Result train(String pre, int vocab, long minFrequency, List<String> specials, String... docs) {
        BpeTrainer t = new BpeTrainer(new BpeTrainer.Config(vocab, minFrequency, specials, pre, false));
        for (String d : docs) t.add(d);
        return t.train();
    }

    @Test
    void mergesOfTheWikipediaExampleByHand() {
        // one word "aaabdaaabac"; pairs: aa 4, ab 2, bd da ba ac 1
        //  1. (a,a) -> aa (256):  aa a b d aa a b a c       pairs (aa,a) 2, (a,b) 2: tie, smaller left id 97 wins
        //  2. (a,b) -> ab (257):  aa ab d aa ab a c         (aa,ab) 2
        //  3. (aa,ab) -> aaab (258): aaab d aaab a c        all pairs 1: smallest left id is a (97)
        //  4. (a,c) -> ac (259):  aaab d aaab ac            then d (100) < aaab (258)
        //  5. (d,aaab) -> daaab (260), 6. (aaab,daaab) -> aaabdaaab (261), 7. (aaabdaaab,ac) -> the word (262)
        BpeTrainer.Result r = train("gpt2", 300, 1, EOT, "aaabdaaabac");
        assertThat(r.merges()).containsExactly("a a", "a b", "aa ab", "a c", "d aaab", "aaab daaab", "aaabdaaab ac");
        assertThat(Arrays.copyOfRange(r.tokens(), 256, r.tokens().length))
                .containsExactly("aa", "ab", "aaab", "ac", "daaab", "aaabdaaab", "aaabdaaabac", "<|endoftext|>");
        assertThat(r.vocabSize()).isEqualTo(264); // no pair left: fewer than the 300 asked for
        assertThat(r.bos()).isEqualTo(263);
        assertThat(r.eos()).isEqualTo(263);
        assertThat(r.types()[263]).isEqualTo(TokenType.CONTROL);
        assertThat(r.types()[262]).isEqualTo(TokenType.NORMAL);
        char[] byteChars = ReferenceBpe.byteChars();
        for (int b = 0; b < 256; b++) assertThat(r.tokens()[b]).isEqualTo(String.valueOf(byteChars[b])); // id b is byte b
        VocabTokenizer tok = r.tokenizer();
        assertThat(tok.encode("aaabdaaabac", false, false)).containsExactly(262);
        assertThat(tok.encode("aaab", false, false)).containsExactly(258);
        assertThat(tok.encode("dac", false, false)).containsExactly('d', 259);
    }

    @Test
    void spacesInTheByteAlphabetAndMinimumFrequencyByHand() {
        // GPT-2 words: "ab" x1, " ab" x2, " b" x1; in the byte alphabet the space is Ġ (U+0120)
        //  pairs (a,b) 3, (Ġ,a) 2, (Ġ,b) 1 -> 1. "a b";  then (Ġ,ab) 2, (Ġ,b) 1 -> 2. "Ġ ab";  then (Ġ,b) 1 < 2: stop
        BpeTrainer.Result r = train("gpt2", 1000, 2, EOT, "ab ab ab b");
        assertThat(r.merges()).containsExactly("a b", "\u0120 ab");
        assertThat(r.tokens()[256]).isEqualTo("ab");
        assertThat(r.tokens()[257]).isEqualTo("\u0120ab");
        assertThat(r.tokens()[' ']).isEqualTo("\u0120");
        assertThat(r.vocabSize()).isEqualTo(259);
        // " b" has no merge: the space byte (id 32) and 'b'
        assertThat(r.tokenizer().encode("ab ab b", false, false)).containsExactly(256, 257, ' ', 'b');
    }

    @Test
    void vocabularySizeStopsTheMerges() {
        String text = SyntheticText.training(1, 20_000);
        BpeTrainer.Result r = train("llama-bpe", 300, 2, List.of("<s>", "</s>"), text);
        assertThat(r.vocabSize()).isEqualTo(300);
        assertThat(r.tokens()[298]).isEqualTo("<s>");
        assertThat(r.tokens()[299]).isEqualTo("</s>");
        assertThat(r.bos()).isEqualTo(298);
        assertThat(r.eos()).isEqualTo(299);
    }

    @Test
    void sameMergesAsTheSlowReferenceTrainer() {
        String[] docs = {SyntheticText.training(7, 15_000), SyntheticText.training(8, 5_000)};
        for (String pre : List.of("gpt-2", "llama-bpe", "qwen2")) {
            BpeTrainer.Result fast = train(pre, 700, 2, EOT, docs);
            ReferenceBpe.Trained slow = ReferenceBpe.train(List.of(docs), pre, EOT, 699, 2);
            assertThat(fast.merges()).as(pre).containsExactlyElementsOf(slow.merges());
            assertThat(Arrays.copyOf(fast.tokens(), fast.vocabSize() - 1)).as(pre).containsExactlyElementsOf(slow.tokens());
        }
    }

    @Test
    void runsOfOneCharacterMergeLeftToRightAsInTheReference() {
        // runs of '=' of many lengths: (=,=) merges left to right, "=====" is "====" + "=", ...
        StringBuilder sb = new StringBuilder();
        Random r = new Random(3);
        for (int i = 0; i < 400; i++) sb.append("=".repeat(1 + r.nextInt(9))).append('\n');
        BpeTrainer.Result fast = train("gpt2", 280, 1, EOT, sb.toString());
        ReferenceBpe.Trained slow = ReferenceBpe.train(List.of(sb.toString()), "gpt-2", EOT, 279, 1);
        assertThat(fast.merges()).containsExactlyElementsOf(slow.merges());
        assertThat(fast.merges()).startsWith("= =", "== ==");
        assertThat(new java.util.HashSet<>(Arrays.asList(fast.tokens()))).hasSize(fast.vocabSize());
        VocabTokenizer tok = fast.tokenizer();
        assertThat(tok.decode(tok.encode(sb.toString(), false, false))).isEqualTo(sb.toString());
    }

    @Test
    void specialTokensInTheTextAreNeverMergedInto() {
        BpeTrainer.Result r = train("gpt2", 400, 1, EOT, "one<|endoftext|>two<|endoftext|>three<|endoftext|>");
        for (String m : r.merges()) assertThat(m).doesNotContain("<|").doesNotContain("|>").doesNotContain("endof");
        // several specials, one a prefix of another (the longer wins where both match), cut as the reference cuts
        List<String> specials = List.of("<s>", "<s>!", "</s>", "<|endoftext|>");
        StringBuilder sb = new StringBuilder();
        Random rnd = new Random(4);
        for (int i = 0; i < 150; i++) {
            sb.append(SyntheticText.training(i, 60)).append(specials.get(rnd.nextInt(specials.size())));
            if (rnd.nextBoolean()) sb.append("!!");
        }
        BpeTrainer.Result fast = train("llama-bpe", 400, 1, specials, sb.toString());
        ReferenceBpe.Trained slow = ReferenceBpe.train(List.of(sb.toString()), "llama-bpe", specials, 400 - specials.size(), 1);
        assertThat(fast.merges()).containsExactlyElementsOf(slow.merges());
        assertThat(fast.bos()).isEqualTo(396);
        assertThat(fast.eos()).isEqualTo(398);
    }

    @Test
    void trainedVocabularyReadBackFromGgufRoundTripsHeldOutText() throws Exception {
        String train = SyntheticText.training(11, 60_000);
        for (String pre : List.of("gpt2", "llama-bpe", "qwen2")) {
            BpeTrainer.Result r = train(pre, 1200, 2, EOT, train);
            Path file = tmp.resolve(pre + ".gguf");
            new GGUFWriter().putAll(r.metadata()).write(file);
            VocabTokenizer tok;
            try (GGUFFile f = GGUFFile.open(file)) {
                tok = Tokenizers.fromGGUF(f);
            }
            assertThat(tok.vocabSize()).isEqualTo(1200);
            assertThat(tok.preTokenizer()).isEqualTo(BpePreset.forName(r.pre()).type());
            for (long seed = 100; seed < 105; seed++) {
                String text = SyntheticText.heldOut(seed);
                int[] ids = tok.encode(text, false, false);
                assertThat(tok.decode(ids)).as(pre).isEqualTo(text);
                assertThat(ids.length).as(pre + ": merges compress the text").isLessThan(text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length / 2);
            }
            // the Han lines of the verse are learned as multi-character tokens
            int[] verse = tok.encode("床前明月光", false, false);
            assertThat(verse.length).as(pre).isLessThan(15);
            assertThat(tok.encode("x", true, true)[0]).as("add_bos_token false").isEqualTo('x');
            assertThat(tok.encode("<|endoftext|>", false, true)).containsExactly(1199);
            assertThat(tok.isEog(1199)).isTrue();
        }
    }

    @Test
    void encodingEqualsGreedyMergingByRank() {
        String train = SyntheticText.training(21, 50_000);
        for (String pre : List.of("gpt-2", "llama-bpe", "qwen2")) {
            BpeTrainer.Result r = train(pre, 1000, 2, EOT, train);
            VocabTokenizer tok = r.tokenizer();
            boolean ignoreMerges = BpePreset.forName(pre).ignoreMerges();
            for (long seed = 200; seed < 204; seed++) {
                String text = SyntheticText.heldOut(seed);
                List<Integer> expected = ReferenceBpe.encode(text, pre, r.tokens(), r.merges(), ignoreMerges);
                assertThat(tok.encode(text, false, false)).as(pre).containsExactly(expected.stream().mapToInt(Integer::intValue).toArray());
            }
        }
    }

    @Test
    void resultDependsOnlyOnTheWordCounts() {
        List<String> docs = new ArrayList<>();
        for (int i = 0; i < 20; i++) docs.add(SyntheticText.training(300 + i, 3000));
        BpeTrainer.Result a = train("llama-bpe", 700, 2, EOT, docs.toArray(new String[0]));
        Collections.shuffle(docs, new Random(5));
        BpeTrainer.Result b = train("llama-bpe", 700, 2, EOT, docs.toArray(new String[0]));
        assertThat(b.merges()).containsExactly(a.merges());
        assertThat(b.metadata()).isEqualTo(a.metadata());
    }

    @Test
    void badConfigurationsNameTheValue() {
        assertThatThrownBy(() -> new BpeTrainer.Config(200, 2, EOT, "gpt2", false)).hasMessageContaining("200");
        assertThatThrownBy(() -> new BpeTrainer.Config(1000, 0, EOT, "gpt2", false)).hasMessageContaining("0");
        assertThatThrownBy(() -> new BpeTrainer.Config(1000, 2, List.of(), "gpt2", false)).hasMessageContaining("special");
        assertThatThrownBy(() -> new BpeTrainer.Config(1000, 2, List.of("a"), "gpt2", false)).hasMessageContaining("'a'");
        assertThatThrownBy(() -> new BpeTrainer.Config(1000, 2, List.of("<s>", "<s>"), "gpt2", false)).hasMessageContaining("<s>");
        assertThatThrownBy(() -> new BpeTrainer.Config(1000, 2, EOT, "bloom", false)).hasMessageContaining("bloom");
    }

    @Test
    void metadataFileIsReadableAsGguf() throws Exception {
        BpeTrainer.Result r = train("gpt2", 300, 1, EOT, "hello world, hello tokens");
        Path file = tmp.resolve("v.gguf");
        new GGUFWriter().putAll(r.metadata()).write(file);
        try (GGUFFile f = GGUFFile.open(file)) {
            assertThat(f.tensors()).isEmpty();
            assertThat(f.getString("tokenizer.ggml.model", null)).isEqualTo("gpt2");
            assertThat(f.getString("tokenizer.ggml.pre", null)).isEqualTo("gpt-2");
            assertThat(f.getStringArray("tokenizer.ggml.merges")).containsExactly(r.merges());
        }
        assertThat(Files.size(file)).isPositive();
    }
}
