package jllm.format.hf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import jllm.format.gguf.GGUFFile;
import jllm.tokenizer.TokenType;
import jllm.tokenizer.Tokenizers;
import jllm.tokenizer.VocabTokenizer;
import jllm.testing.TestData;

/**
 * Hugging Face tokenizer files against golden encodings: GPT-2's tokenizer.json and its slow vocab.json/merges.txt
 * against OpenAI's expected encodings (gpt2_expected_encodings.json) and llama.cpp's GPT-2 test file; Llama 3
 * (byte-level, ignore_merges, merges as arrays) and Llama 2 (SentencePiece BPE with byte fallback, both the
 * normalizer and the Metaspace spelling) tokenizer.json files written here from llama.cpp's vocab-only GGUF files
 * in the layout transformers writes, against llama.cpp's expected ids for them. Every case must match exactly.
 */
class HfTokenizerTest {
    @TempDir Path tmp;
    static final ObjectMapper M = new ObjectMapper();
    static final String SEPARATOR = "\n__ggml_vocab_test__\n";

    /** A text and its expected ids; {@code parseSpecial}: special tokens in the text are parsed (tiktoken's allowed_special="all"). */
    record Case(String text, int[] ids, boolean parseSpecial) {}

    static List<Case> gpt2Expected() throws IOException {
        JsonNode root = M.readTree(TestData.file("tokenizer/gpt2-bpe/gpt2_expected_encodings.json").toFile());
        List<Case> out = new ArrayList<>();
        for (JsonNode c : root.get("cases")) {
            int[] ids = new int[c.get("ids").size()];
            for (int i = 0; i < ids.length; i++) ids[i] = c.get("ids").get(i).intValue();
            out.add(new Case(c.get("text").textValue(), ids, c.path("src").asText().contains("allowed_special=all")));
        }
        return out;
    }

    /** llama.cpp's test format: texts each followed by the separator; one line of ids per text. */
    static List<Case> llamaCpp(String vocab) throws IOException {
        String inp = Files.readString(TestData.file("tokenizer/llamacpp-vocab/ggml-vocab-" + vocab + ".gguf.inp"));
        List<String> lines = Files.readAllLines(TestData.file("tokenizer/llamacpp-vocab/ggml-vocab-" + vocab + ".gguf.out"));
        List<String> texts = new ArrayList<>(Arrays.asList(inp.split(SEPARATOR, -1)));
        if (texts.get(texts.size() - 1).isEmpty()) texts.remove(texts.size() - 1);
        assertThat(lines).hasSameSizeAs(texts);
        List<Case> out = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            String l = lines.get(i).trim();
            out.add(new Case(texts.get(i), l.isEmpty() ? new int[0] : Arrays.stream(l.split("\\s+")).mapToInt(Integer::parseInt).toArray(), false));
        }
        return out;
    }

    static void check(VocabTokenizer t, List<Case> cases) {
        assertThat(cases).isNotEmpty();
        for (Case c : cases) {
            assertThat(t.encode(c.text(), false, c.parseSpecial())).as("'%s'", c.text()).containsExactly(c.ids());
        }
    }

    @Test
    void gpt2TokenizerJson() throws IOException {
        VocabTokenizer t = HfTokenizer.load(TestData.file("hf/hf-fake-gpt2/tokenizer.json").getParent());
        assertThat(t.model()).isEqualTo(VocabTokenizer.Model.BPE);
        assertThat(t.preTokenizer()).isEqualTo("gpt-2");
        assertThat(t.vocabSize()).isEqualTo(50257);
        assertThat(t.bos()).isEqualTo(50256);
        assertThat(t.eos()).isEqualTo(50256);
        assertThat(t.tokenType(50256)).isEqualTo(TokenType.CONTROL);
        check(t, gpt2Expected());
        check(t, llamaCpp("gpt-2"));
        // no BOS for GPT-2 (tokenizer_config has no add_bos_token, the post-processor adds nothing)
        assertThat(t.encode("Hello", true, false)).containsExactly(15496);
        assertThat(t.encode("a<|endoftext|>b", false, true)).containsExactly(64, 50256, 65);
        assertThat(t.decode(t.encode("Hello world, ünïcødé 😀", false, false))).isEqualTo("Hello world, ünïcødé 😀");
    }

    @Test
    void gpt2SlowFilesGiveTheSameTokenizer() throws IOException {
        Path dir = TestData.file("hf/hf-fake-gpt2/vocab.json").getParent();
        VocabTokenizer t = Tokenizers.fromMetadata("vocab.json", HfTokenizer.metadataFromVocabAndMerges(
                HfJson.read(dir.resolve("vocab.json")), HfTokenizer.mergesTxt(dir.resolve("merges.txt")),
                HfJson.read(dir.resolve("tokenizer_config.json"))));
        assertThat(t.vocabSize()).isEqualTo(50257);
        check(t, gpt2Expected());
    }

    /** transformers' test_tokenization_gpt2.py: " lower newer" gives ["Ġlow", "er", "Ġ", "n", "e", "w", "er"] = [14, 15, 10, 9, 3, 2, 15]. */
    @Test
    void tinyGpt2SlowFiles() throws IOException {
        VocabTokenizer t = HfTokenizer.load(TestData.file("hf/hf-tiny-gpt2/vocab.json").getParent());
        assertThat(t.vocabSize()).isEqualTo(21);
        assertThat(t.encode(" lower newer", false, false)).containsExactly(14, 15, 10, 9, 3, 2, 15);
        // without the leading space only "e r" applies to "lower"
        assertThat(t.encode("lower newer", false, false)).containsExactly(0, 1, 2, 15, 10, 9, 3, 2, 15);
        assertThat(t.tokenType(19)).isEqualTo(TokenType.CONTROL); // <unk>, special in added_tokens_decoder
        assertThat(t.bos()).isEqualTo(20);
        assertThat(t.eos()).isEqualTo(20);
        assertThat(t.decode(new int[] {14, 15, 10, 9, 3, 2, 15})).isEqualTo(" lower newer");
    }

    /** Llama 3: tokenizer.json as Meta's (Split with its regex, ByteLevel without regex, ignore_merges, BOS template). */
    @Test
    void llama3TokenizerJson() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("llama3"));
        try (GGUFFile g = GGUFFile.open(TestData.file("tokenizer/llamacpp-vocab/ggml-vocab-llama-bpe.gguf"))) {
            String[] tokens = g.getStringArray("tokenizer.ggml.tokens");
            int[] types = g.getIntArray("tokenizer.ggml.token_type");
            ObjectNode tj = skeleton();
            ObjectNode model = tj.putObject("model");
            model.put("type", "BPE").putNull("dropout");
            model.putNull("unk_token");
            model.put("continuing_subword_prefix", (String) null);
            model.put("fuse_unk", false).put("byte_fallback", false).put("ignore_merges", true);
            ObjectNode vocab = model.putObject("vocab");
            ArrayNode added = tj.putArray("added_tokens");
            for (int id = 0; id < tokens.length; id++) {
                if (types[id] == TokenType.NORMAL.code()) vocab.put(tokens[id], id);
                else added.addObject().put("id", id).put("content", tokens[id]).put("special", true);
            }
            ArrayNode merges = model.putArray("merges");
            for (String m : g.getStringArray("tokenizer.ggml.merges")) { // the newer array form
                int sp = m.indexOf(' ', 1);
                merges.addArray().add(m.substring(0, sp)).add(m.substring(sp + 1));
            }
            ObjectNode pre = tj.putObject("pre_tokenizer").put("type", "Sequence");
            ArrayNode seq = pre.putArray("pretokenizers");
            ObjectNode split = seq.addObject().put("type", "Split");
            split.putObject("pattern").put("Regex", HfTokenizer.LLAMA3_REGEX);
            split.put("behavior", "Isolated").put("invert", false);
            seq.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", false);
            tj.set("post_processor", template("<|begin_of_text|>", 128000, false));
            tj.putObject("decoder").put("type", "ByteLevel");
            M.writeValue(dir.resolve("tokenizer.json").toFile(), tj);
        }
        VocabTokenizer t = HfTokenizer.load(dir);
        assertThat(t.preTokenizer()).isEqualTo("llama3");
        assertThat(t.vocabSize()).isEqualTo(128256);
        check(t, llamaCpp("llama-bpe"));
        assertThat(t.encode("Hello", true, false)).containsExactly(128000, 9906);
        assertThat(t.bos()).isEqualTo(128000);
        // tokenizer_config.json names the EOS (instruct models use <|eot_id|>) and may switch BOS off
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"<|eot_id|>\", \"add_bos_token\": false}");
        VocabTokenizer c = HfTokenizer.load(dir);
        assertThat(c.eos()).isEqualTo(c.tokenId("<|eot_id|>"));
        assertThat(c.encode("Hello", true, false)).containsExactly(9906);
    }

    /** Llama 2 / TinyLlama: SentencePiece BPE with byte fallback, merges made from the scores as transformers does. */
    @Test
    void sentencePieceTokenizerJson() throws IOException {
        ObjectNode tj;
        try (GGUFFile g = GGUFFile.open(TestData.file("tokenizer/llamacpp-vocab/ggml-vocab-llama-spm.gguf"))) {
            tj = spmTokenizerJson(g.getStringArray("tokenizer.ggml.tokens"), g.getFloatArray("tokenizer.ggml.scores"),
                    g.getIntArray("tokenizer.ggml.token_type"));
        }
        Path a = Files.createDirectory(tmp.resolve("normalizer"));
        M.writeValue(a.resolve("tokenizer.json").toFile(), tj);
        VocabTokenizer t = HfTokenizer.load(a);
        assertThat(t.model()).isEqualTo(VocabTokenizer.Model.SPM);
        assertThat(t.tokenType(0)).isEqualTo(TokenType.UNKNOWN);
        assertThat(t.tokenType(1)).isEqualTo(TokenType.CONTROL);
        assertThat(t.tokenType(3)).isEqualTo(TokenType.BYTE);
        check(t, llamaCpp("llama-spm"));
        assertThat(t.encode("Hello world", true, false)).containsExactly(1, 15043, 3186);
        assertThat(t.decode(t.encode("Hello world\n 😀", false, false))).isEqualTo("Hello world\n 😀");

        // the newer spelling: no normalizer, a Metaspace pre-tokenizer that prepends "▁"
        tj.putNull("normalizer");
        tj.putObject("pre_tokenizer").put("type", "Metaspace").put("replacement", "\u2581").put("prepend_scheme", "first").put("split", false);
        Path b = Files.createDirectory(tmp.resolve("metaspace"));
        M.writeValue(b.resolve("tokenizer.json").toFile(), tj);
        check(HfTokenizer.load(b), llamaCpp("llama-spm"));
    }

    /**
     * A SentencePiece-BPE tokenizer.json as transformers' LlamaConverter writes it: the vocab by id, specials as added
     * tokens, and merges from SentencePieceExtractor: every split of a piece into two pieces, ordered by the piece's
     * score (best first), then by the ids of the two halves.
     */
    static ObjectNode spmTokenizerJson(String[] tokens, float[] scores, int[] types) {
        ObjectNode tj = skeleton();
        ObjectNode model = tj.putObject("model");
        model.put("type", "BPE").putNull("dropout");
        model.put("unk_token", "<unk>").putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", true).put("byte_fallback", true);
        ObjectNode vocab = model.putObject("vocab");
        Map<String, Integer> ids = new java.util.HashMap<>();
        ArrayNode added = tj.putArray("added_tokens");
        for (int id = 0; id < tokens.length; id++) {
            vocab.put(tokens[id], id);
            ids.put(tokens[id], id);
            if (types[id] == TokenType.CONTROL.code() || types[id] == TokenType.UNKNOWN.code()) {
                added.addObject().put("id", id).put("content", tokens[id]).put("special", true);
            }
        }
        record Merge(String l, String r, float score, int il, int ir) {}
        List<Merge> merges = new ArrayList<>();
        for (int id = 0; id < tokens.length; id++) {
            if (types[id] != TokenType.NORMAL.code()) continue;
            String p = tokens[id];
            for (int k = p.offsetByCodePoints(0, 1); k < p.length(); k = p.offsetByCodePoints(k, 1)) {
                Integer l = ids.get(p.substring(0, k)), r = ids.get(p.substring(k));
                if (l != null && r != null) merges.add(new Merge(p.substring(0, k), p.substring(k), scores[id], l, r));
            }
        }
        merges.sort(Comparator.comparingDouble((Merge m) -> -m.score()).thenComparingInt(Merge::il).thenComparingInt(Merge::ir));
        ArrayNode ma = model.putArray("merges");
        for (Merge m : merges) ma.add(m.l() + " " + m.r());
        ObjectNode norm = tj.putObject("normalizer").put("type", "Sequence");
        ArrayNode ns = norm.putArray("normalizers");
        ns.addObject().put("type", "Prepend").put("prepend", "\u2581");
        ObjectNode rep = ns.addObject().put("type", "Replace");
        rep.putObject("pattern").put("String", " ");
        rep.put("content", "\u2581");
        tj.putNull("pre_tokenizer");
        tj.set("post_processor", template("<s>", 1, false));
        tj.putObject("decoder").put("type", "Sequence");
        return tj;
    }

    static ObjectNode skeleton() {
        ObjectNode tj = M.createObjectNode();
        tj.put("version", "1.0").putNull("truncation");
        tj.putNull("padding");
        tj.putNull("normalizer");
        return tj;
    }

    static ObjectNode template(String bos, int bosId, boolean withEos) {
        ObjectNode pp = M.createObjectNode().put("type", "TemplateProcessing");
        ArrayNode single = pp.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pp.putArray("pair");
        ObjectNode st = pp.putObject("special_tokens");
        ObjectNode b = st.putObject(bos).put("id", bos);
        b.putArray("ids").add(bosId);
        b.putArray("tokens").add(bos);
        return pp;
    }

    /**
     * GGUF vocabularies written as tokenizer.json + tokenizer_config.json by HfTokenizerWriter and read back by
     * HfTokenizer give llama.cpp's expected ids: the writer is checked against the same goldens as the reader.
     */
    @Test
    void ggufVocabulariesWrittenAsTokenizerJsonRoundTrip() throws IOException {
        for (String vocab : new String[] {"gpt-2", "llama-spm", "llama-bpe"}) {
            Path dir = Files.createDirectory(tmp.resolve("w-" + vocab));
            VocabTokenizer original;
            try (GGUFFile g = GGUFFile.open(TestData.file("tokenizer/llamacpp-vocab/ggml-vocab-" + vocab + ".gguf"))) {
                original = Tokenizers.fromGGUF(g);
                M.writeValue(dir.resolve("tokenizer.json").toFile(), HfTokenizerWriter.tokenizerJson(g.metadata()));
                M.writeValue(dir.resolve("tokenizer_config.json").toFile(), HfTokenizerWriter.tokenizerConfig(g.metadata()));
            }
            VocabTokenizer t = HfTokenizer.load(dir);
            assertThat(t.vocabSize()).as(vocab).isEqualTo(original.vocabSize());
            assertThat(t.bos()).as(vocab).isEqualTo(original.bos());
            assertThat(t.eos()).as(vocab).isEqualTo(original.eos());
            assertThat(t.encode("Hello world", true, false)).as(vocab).containsExactly(original.encode("Hello world", true, false));
            check(t, llamaCpp(vocab));
        }
    }

    @Test
    void refusalsNameTheField() throws IOException {
        String gpt2 = Files.readString(TestData.file("hf/hf-fake-gpt2/tokenizer.json"));
        String[][] cases = {
                {gpt2.replace("\"type\": \"BPE\"", "\"type\": \"Unigram\""), "model.type 'Unigram' is not supported"},
                {gpt2.replace("\"use_regex\": true\n  },\n  \"post_processor\"", "\"use_regex\": false\n  },\n  \"post_processor\""), "use_regex = false is not supported"},
                {gpt2.replace("\"normalizer\": null", "\"normalizer\": {\"type\": \"NFC\"}"), "a normalizer with a byte-level BPE model is not supported"},
                {gpt2.replace("\"Ġ t\",", "\"Ġt\","), "model.merges[0] = 'Ġt' is not 'left right'"},
                {gpt2.replace("\"Ġ t\",", "7,"), "model.merges[0] = 7 is neither"},
                {gpt2.replace("\"!\": 0,", "\"!\": -1,"), "vocabulary id -1 is not a non-negative integer"},
                {gpt2.replace("\"!\": 0,", "\"!\": 1,"), "share id 1"},
                {gpt2.replace("\"id\": 50256,", "\"id\": 50255,"), "has id 50255, which the vocabulary gives to"},
        };
        for (String[] c : cases) {
            assertThat(c[0]).as(c[1]).isNotEqualTo(gpt2);
            Path d = Files.createDirectories(tmp.resolve("bad" + Math.abs(c[1].hashCode())));
            Files.writeString(d.resolve("tokenizer.json"), c[0]);
            assertThatThrownBy(() -> HfTokenizer.load(d)).as(c[1]).isInstanceOf(HfFormatException.class)
                    .hasMessageStartingWith("tokenizer.json: ").hasMessageContaining(c[1]);
        }
        Path d = Files.createDirectories(tmp.resolve("cfg"));
        Files.copy(TestData.file("hf/hf-fake-gpt2/tokenizer.json"), d.resolve("tokenizer.json"));
        Files.writeString(d.resolve("tokenizer_config.json"), "{\"bos_token\": \"<nope>\"}");
        assertThatThrownBy(() -> HfTokenizer.load(d)).isInstanceOf(HfFormatException.class)
                .hasMessage("tokenizer_config.json: 'bos_token' '<nope>' is not a token of the vocabulary");
        assertThatThrownBy(() -> HfTokenizer.load(tmp)).isInstanceOf(HfFormatException.class).hasMessageContaining("no tokenizer.json");
    }
}
