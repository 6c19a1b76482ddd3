package jllm.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import jllm.format.gguf.GGUFArray;
import jllm.format.gguf.GGUFFile;
import jllm.format.gguf.GGUFFormatException;
import jllm.format.gguf.GGUFValue;
import jllm.format.gguf.GGUFValueType;

/**
 * Builds tokenizers from the {@code tokenizer.ggml.*} metadata of GGUF files (spec: ggml docs/gguf.md, "Tokenizer"),
 * with llama.cpp's rules (src/llama-vocab.cpp {@code llama_vocab::impl::load}, b4747) for defaults, BOS/EOS and the
 * end-of-generation set. Every key is validated; a bad value is a {@link GGUFFormatException} naming the key.
 * Unlike llama.cpp, which warns and falls back to a default, a special-token id outside the vocabulary is an error.
 */
public final class Tokenizers {
    private static final String P = "tokenizer.ggml.";

    private Tokenizers() {}

    /** The tokenizer of an opened GGUF file. */
    public static VocabTokenizer fromGGUF(GGUFFile file) {
        return fromMetadata(file.path().getFileName().toString(), file.metadata());
    }

    /** The tokenizer described by GGUF metadata; {@code source} names the file in error messages. */
    public static VocabTokenizer fromMetadata(String source, Map<String, GGUFValue> metadata) {
        return new Builder(source, metadata).build();
    }

    /**
     * A byte-level BPE tokenizer from OpenAI's GPT-2 files: {@code encoder.json} (token text to id) and
     * {@code vocab.bpe} (merges, one "left right" pair a line after a "#version" line). {@code <|endoftext|>} is a
     * control token and BOS/EOS; the pre-tokenizer is GPT-2's; no BOS is added.
     */
    public static VocabTokenizer fromGpt2Files(Path encoderJson, Path vocabBpe) throws IOException {
        JsonNode encoder = new ObjectMapper().readTree(encoderJson.toFile());
        if (encoder == null || !encoder.isObject()) throw new IOException(encoderJson + ": not a JSON object");
        String[] texts = new String[encoder.size()];
        for (Map.Entry<String, JsonNode> e : encoder.properties()) {
            JsonNode v = e.getValue();
            if (!v.canConvertToInt() || v.asInt() < 0 || v.asInt() >= texts.length || texts[v.asInt()] != null) {
                throw new IOException(encoderJson + ": token '" + e.getKey() + "' has id " + v
                        + "; ids must be 0.." + (texts.length - 1) + ", each once");
            }
            texts[v.asInt()] = e.getKey();
        }
        List<String> merges = new ArrayList<>();
        for (String line : Files.readAllLines(vocabBpe, StandardCharsets.UTF_8)) {
            if (line.startsWith("#version") || line.isBlank()) continue;
            merges.add(line);
        }
        int[] types = new int[texts.length];
        Arrays.fill(types, TokenType.NORMAL.code());
        Map<String, GGUFValue> md = new LinkedHashMap<>();
        md.put(P + "model", GGUFValue.ofString("gpt2"));
        md.put(P + "pre", GGUFValue.ofString("gpt-2"));
        md.put(P + "tokens", GGUFValue.ofArray(new GGUFArray(GGUFValueType.STRING, texts)));
        md.put(P + "merges", GGUFValue.ofArray(new GGUFArray(GGUFValueType.STRING, merges.toArray(new String[0]))));
        for (int id = 0; id < texts.length; id++) {
            if (texts[id].equals("<|endoftext|>")) {
                types[id] = TokenType.CONTROL.code();
                md.put(P + "bos_token_id", GGUFValue.ofUInt32(id));
                md.put(P + "eos_token_id", GGUFValue.ofUInt32(id));
            }
        }
        md.put(P + "token_type", GGUFValue.ofArray(new GGUFArray(GGUFValueType.INT32, types)));
        return fromMetadata(encoderJson.getFileName().toString(), md);
    }

    /** One build: reads and checks the keys in llama.cpp's order. */
    private static final class Builder {
        private final String source;
        private final Map<String, GGUFValue> md;

        Builder(String source, Map<String, GGUFValue> md) {
            this.source = source;
            this.md = md;
        }

        VocabTokenizer build() {
            String modelName = string(P + "model", null);
            if (modelName == null) throw error("missing metadata key '" + P + "model'");
            VocabTokenizer.Model model = switch (modelName) {
                case "llama" -> VocabTokenizer.Model.SPM;
                case "gpt2" -> VocabTokenizer.Model.BPE;
                case "bert" -> VocabTokenizer.Model.WPM;
                default -> throw error("metadata '" + P + "model' = '" + modelName
                        + "' is not supported (jllm reads 'llama', 'gpt2' and 'bert' vocabularies)");
            };
            String pre = string(P + "pre", "");

            String[] texts = stringArray(P + "tokens");
            if (texts == null || texts.length == 0) throw error("missing or empty metadata array '" + P + "tokens'");
            int n = texts.length;
            float[] scores = floatArray(P + "scores", n);
            int[] typeCodes = intArray(P + "token_type", n);
            TokenType[] types = new TokenType[n];
            for (int i = 0; i < n; i++) types[i] = typeCodes == null ? TokenType.NORMAL : TokenType.fromCode(typeCodes[i]);
            Vocabulary vocab = new Vocabulary(texts, scores, types);

            // defaults per model type (llama.cpp), then the pre-tokenizer's, then the keys
            int bos, eos, unk, sep = -1, pad = -1, mask = -1;
            boolean addBos, addEos = false, addSpacePrefix;
            BpePreset preset = null;
            switch (model) {
                case SPM -> { bos = 1; eos = 2; unk = 0; addBos = true; addSpacePrefix = true; }
                case WPM -> { bos = 101; eos = -1; unk = 100; sep = 102; pad = 0; mask = 103; addBos = true; addSpacePrefix = false; }
                default -> {
                    bos = 11; eos = 11; unk = -1; addSpacePrefix = false;
                    preset = BpePreset.forName(pre.isEmpty() ? "default" : pre);
                    if (preset == null) throw error("metadata '" + P + "pre' = '" + pre + "' is not a pre-tokenizer llama.cpp knows");
                    addBos = preset.addBos();
                    if (preset.noBos()) bos = -1;
                }
            }
            bos = bos < n ? bos : -1;
            eos = eos < n ? eos : -1;
            unk = unk < n ? unk : -1;
            sep = sep < n ? sep : -1;
            pad = pad < n ? pad : -1;
            mask = mask < n ? mask : -1;
            addSpacePrefix = bool(P + "add_space_prefix", addSpacePrefix);

            bos = id(P + "bos_token_id", bos, n);
            eos = id(P + "eos_token_id", eos, n);
            int eot = id(P + "eot_token_id", -1, n);
            int eom = id(P + "eom_token_id", -1, n);
            unk = id(P + "unknown_token_id", unk, n);
            sep = id(P + "seperator_token_id", sep, n); // sic: the GGUF key is spelled so
            pad = id(P + "padding_token_id", pad, n);
            mask = id(P + "mask_token_id", mask, n);
            id(P + "cls_token_id", -1, n); // read by nothing here, but checked
            int fimPre = id(P + "prefix_token_id", id(P + "fim_pre_token_id", -1, n), n);
            int fimSuf = id(P + "suffix_token_id", id(P + "fim_suf_token_id", -1, n), n);
            int fimMid = id(P + "middle_token_id", id(P + "fim_mid_token_id", -1, n), n);
            int fimPad = id(P + "fim_pad_token_id", -1, n);
            int fimRep = id(P + "fim_rep_token_id", -1, n);
            int fimSep = id(P + "fim_sep_token_id", -1, n);
            addBos = bool(P + "add_bos_token", addBos);
            addEos = bool(P + "add_eos_token", addEos);

            // llama.cpp finds these tokens by their text when the keys do not name them, and makes them CONTROL
            eot = detect(vocab, eot, "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>",
                    "<\uFF5Cend\u2581of\u2581sentence\uFF5C>");
            eom = detect(vocab, eom, "<|eom_id|>");
            detect(vocab, fimPre, "<|fim_prefix|>", "<fim-prefix>", "<\uFF5Cfim\u2581begin\uFF5C>", "<PRE>");
            detect(vocab, fimSuf, "<|fim_suffix|>", "<fim-suffix>", "<\uFF5Cfim\u2581hole\uFF5C>", "<SUF>");
            detect(vocab, fimMid, "<|fim_middle|>", "<fim-middle>", "<\uFF5Cfim\u2581end\uFF5C>", "<MID>");
            fimPad = detect(vocab, fimPad, "<|fim_pad|>", "<fim-pad>", "<PAD>");
            fimRep = detect(vocab, fimRep, "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>");
            fimSep = detect(vocab, fimSep, "<|file_sep|>");

            TreeSet<Integer> eog = new TreeSet<>();
            for (int id : new int[] {fimPad, fimRep, fimSep}) if (id >= 0) eog.add(id);
            for (String t : new String[] {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                    "<|eom_id|>", "<EOT>"}) {
                int id = vocab.id(t);
                if (id >= 0) {
                    eog.add(id);
                    vocab.retype(id, TokenType.CONTROL);
                }
            }
            for (int id : new int[] {eos, eot, eom}) if (id >= 0) eog.add(id);

            // per-model strip attributes of special tokens, chosen by llama.cpp from the name
            boolean[] lstrip = new boolean[n], rstrip = new boolean[n];
            String name = string("general.name", "").toLowerCase(Locale.ROOT);
            if (pre.contains("jina-v2-de") || pre.contains("jina-v2-es") || pre.contains("jina-v2-code")) {
                int m = vocab.id("<mask>");
                if (m >= 0) lstrip[m] = true;
            } else if (name.contains("phi-3") || name.contains("phi3")) {
                for (int id = 0; id < n; id++) if (vocab.type(id).isSpecial()) rstrip[id] = true;
                int end = vocab.id("</s>");
                if (end >= 0) rstrip[end] = true;
                for (String t : new String[] {"<unk>", "<s>", "<|endoftext|>"}) {
                    int id = vocab.id(t);
                    if (id >= 0) rstrip[id] = false;
                }
            }

            SpecialTokens special = new SpecialTokens(bos, eos, eot, eom, unk, sep, pad, mask,
                    eog.stream().mapToInt(Integer::intValue).toArray(), addBos, addEos, addSpacePrefix);
            SpecialTokenSplitter splitter = new SpecialTokenSplitter(vocab, lstrip, rstrip);
            return switch (model) {
                case SPM -> new VocabTokenizer(model, vocab, special, splitter, new SentencePieceEncoder(vocab, unk), null, null);
                case WPM -> new VocabTokenizer(model, vocab, special, splitter, null, null, new WordPieceEncoder(vocab, unk));
                case BPE -> new VocabTokenizer(model, vocab, special, splitter, null,
                        new BytePairEncoder(vocab, merges(), preset.preTokenizer(), preset.ignoreMerges()), null);
            };
        }

        /** Merge ranks: line i of tokenizer.ggml.merges, "left right", has rank i; a repeated pair keeps its first. */
        private StringIntMap merges() {
            String[] lines = stringArray(P + "merges");
            if (lines == null) throw error("missing metadata key '" + P + "merges' (a gpt2 vocabulary needs its merges)");
            StringIntMap ranks = new StringIntMap(lines.length);
            for (int i = 0; i < lines.length; i++) {
                int space = lines[i].indexOf(' ', 1);
                if (space < 0) throw error("metadata '" + P + "merges'[" + i + "] = '" + lines[i] + "' is not 'left right'");
                // the line is already the key "left right" (BytePairEncoder.key): no copy of 10^5 strings
                ranks.putIfAbsent(lines[i], i);
            }
            return ranks;
        }

        private static int detect(Vocabulary vocab, int current, String... texts) {
            if (current >= 0) return current;
            int found = -1;
            for (String t : texts) {
                int id = vocab.id(t);
                if (id >= 0 && (found < 0 || id < found)) found = id;
            }
            if (found >= 0) vocab.retype(found, TokenType.CONTROL);
            return found;
        }

        private GGUFValue value(String key) { return md.get(key); }

        private String string(String key, String dflt) {
            GGUFValue v = value(key);
            if (v == null) return dflt;
            if (v.type() != GGUFValueType.STRING) throw wrongType(key, v, "STRING");
            return (String) v.value();
        }

        private boolean bool(String key, boolean dflt) {
            GGUFValue v = value(key);
            if (v == null) return dflt;
            if (v.type() != GGUFValueType.BOOL) throw wrongType(key, v, "BOOL");
            return (Boolean) v.value();
        }

        /** A token id key: absent -> dflt; present -> must be a token of the vocabulary. */
        private int id(String key, int dflt, int n) {
            GGUFValue v = value(key);
            if (v == null) return dflt;
            long id;
            try {
                id = v.asLong();
            } catch (IllegalStateException e) {
                throw wrongType(key, v, "an integer");
            }
            if (id < 0 || id >= n) {
                throw error("metadata '" + key + "' = " + id + " is not a token id (the vocabulary has " + n + " tokens)");
            }
            return (int) id;
        }

        private GGUFArray array(String key, GGUFValueType element) {
            GGUFValue v = value(key);
            if (v == null) return null;
            if (v.type() != GGUFValueType.ARRAY) throw wrongType(key, v, "ARRAY");
            GGUFArray a = (GGUFArray) v.value();
            if (element != null && a.elementType() != element) {
                throw error("metadata '" + key + "' is an array of " + a.elementType() + ", expected " + element);
            }
            return a;
        }

        private String[] stringArray(String key) {
            GGUFArray a = array(key, GGUFValueType.STRING);
            return a == null ? null : (String[]) a.values();
        }

        private float[] floatArray(String key, int n) {
            GGUFArray a = array(key, GGUFValueType.FLOAT32);
            if (a == null) return null;
            float[] f = (float[]) a.values();
            if (f.length != n) throw error("metadata '" + key + "' has " + f.length + " entries for " + n + " tokens");
            return f;
        }

        private int[] intArray(String key, int n) {
            GGUFArray a = array(key, null);
            if (a == null) return null;
            int[] r = switch (a.elementType()) {
                case INT32, UINT32 -> (int[]) a.values();
                case INT8, UINT8 -> {
                    byte[] b = (byte[]) a.values();
                    int[] x = new int[b.length];
                    for (int i = 0; i < b.length; i++) x[i] = b[i];
                    yield x;
                }
                case INT16, UINT16 -> {
                    short[] s = (short[]) a.values();
                    int[] x = new int[s.length];
                    for (int i = 0; i < s.length; i++) x[i] = s[i];
                    yield x;
                }
                default -> throw error("metadata '" + key + "' is an array of " + a.elementType() + ", expected integers");
            };
            if (r.length != n) throw error("metadata '" + key + "' has " + r.length + " entries for " + n + " tokens");
            return r;
        }

        private GGUFFormatException wrongType(String key, GGUFValue v, String expected) {
            return error("metadata '" + key + "' has type " + v.type() + ", expected " + expected);
        }

        private GGUFFormatException error(String message) {
            return new GGUFFormatException(source + ": " + message);
        }
    }
}
