package jllm.format.hf;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

import jllm.format.gguf.GGUFArray;
import jllm.format.gguf.GGUFValue;
import jllm.format.gguf.GGUFValueType;
import jllm.tokenizer.TokenType;
import jllm.tokenizer.Tokenizers;
import jllm.tokenizer.VocabTokenizer;

/**
 * Hugging Face tokenizer files to a jllm tokenizer. The files are translated into the {@code tokenizer.ggml.*}
 * metadata of a GGUF file, as llama.cpp's convert_hf_to_gguf.py does, and the tokenizer is built from that by
 * {@link Tokenizers#fromMetadata}, so the algorithms are jllm.tokenizer's (llama.cpp's) and the same metadata
 * serves a GGUF export. Spec: the tokenizer.json schema of huggingface/tokenizers (model, added_tokens,
 * normalizer, pre_tokenizer, post_processor) and transformers' tokenizer_config.json.
 *
 * <p>Two kinds of {@code model.type = "BPE"} are read:
 * <ul>
 *   <li>byte-level BPE (GPT-2, Llama 3): {@code byte_fallback} false, a {@code ByteLevel} pre-tokenizer, alone
 *       (GPT-2's regex) or after a {@code Split} whose regex must be one llama.cpp implements: GPT-2's, Llama 3's
 *       or Qwen2's. {@code ignore_merges} selects llama.cpp's preset with the same setting. GGUF model "gpt2".</li>
 *   <li>SentencePiece BPE (Llama 2, TinyLlama, Mistral): {@code byte_fallback} true, spaces as "▁" by a
 *       {@code Prepend}/{@code Replace} normalizer or a {@code Metaspace} pre-tokenizer. SentencePiece merges the
 *       adjacent pair whose result has the best score; tokenizer.json has merge ranks instead, written by
 *       transformers' converter in the order of the pieces' scores, so a token's score here is minus the rank of
 *       the first merge that makes it (tokens no merge makes score below all of them). GGUF model "llama".</li>
 * </ul>
 * Merges may be "left right" strings or ["left", "right"] arrays. Added tokens keep their ids: special ones are
 * CONTROL tokens, others USER_DEFINED; ids missing from both vocab and added tokens become UNUSED
 * {@code [PAD<id>]} tokens, as in llama.cpp's converter. BOS/EOS come from the post-processor's template
 * (BOS added when the template starts with a special token, EOS when one ends it) and from tokenizer_config.json's
 * {@code bos_token}, {@code eos_token}, {@code add_bos_token}, {@code add_eos_token}, which win.
 */
public final class HfTokenizer {
    private HfTokenizer() {}

    private static final String P = "tokenizer.ggml.";

    /** The GPT-2 regex of tokenizers' ByteLevel pre-tokenizer (use_regex = true). */
    static final String GPT2_REGEX = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
    /** Llama 3's Split regex as its tokenizer.json spells it. */
    static final String LLAMA3_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** Qwen2's Split regex as its tokenizer.json spells it (digits one at a time). */
    static final String QWEN2_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    static final String SPACE = "\u2581";
    private static final Pattern BYTE_TOKEN = Pattern.compile("<0x[0-9A-Fa-f]{2}>");

    /**
     * The tokenizer of a Hugging Face folder: tokenizer.json, or else the slow GPT-2 files vocab.json and
     * merges.txt; tokenizer_config.json beside them is read when present.
     */
    public static VocabTokenizer load(Path dir) throws IOException {
        Path cfgPath = dir.resolve("tokenizer_config.json");
        HfJson cfg = Files.isRegularFile(cfgPath) ? HfJson.read(cfgPath) : null;
        Path tj = dir.resolve("tokenizer.json");
        if (Files.isRegularFile(tj)) return Tokenizers.fromMetadata(tj.getFileName().toString(), metadata(HfJson.read(tj), cfg));
        Path vocab = dir.resolve("vocab.json"), merges = dir.resolve("merges.txt");
        if (Files.isRegularFile(vocab) && Files.isRegularFile(merges)) {
            return Tokenizers.fromMetadata("vocab.json", metadataFromVocabAndMerges(HfJson.read(vocab), mergesTxt(merges), cfg));
        }
        throw new HfFormatException(dir.getFileName() + ": no tokenizer.json, and no vocab.json with merges.txt");
    }

    /** The lines of a merges.txt after its "#version" header. */
    public static List<String> mergesTxt(Path merges) throws IOException {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(merges, StandardCharsets.UTF_8)) {
            if (line.startsWith("#version") || line.isEmpty()) continue;
            out.add(line);
        }
        return out;
    }

    /** GGUF tokenizer metadata for a tokenizer.json (and optional tokenizer_config.json). */
    public static Map<String, GGUFValue> metadata(HfJson tokenizerJson, HfJson tokenizerConfig) {
        HfJson model = tokenizerJson.object("model");
        String type = model.getString("type", "");
        if (!type.equals("BPE")) throw tokenizerJson.error("model.type '" + type + "' is not supported (jllm reads BPE tokenizers)");
        for (String k : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
            if (!model.getString(k, "").isEmpty()) throw tokenizerJson.error("model." + k + " '" + model.getString(k) + "' is not supported");
        }
        if (model.has("dropout") && model.getDouble("dropout") != 0) throw tokenizerJson.error("model.dropout " + model.getDouble("dropout") + " is not supported");
        boolean spm = model.getBool("byte_fallback", false);

        Vocab v = vocab(tokenizerJson, model);
        List<String> merges = merges(tokenizerJson, model.get("merges"));
        Map<String, GGUFValue> md = new LinkedHashMap<>();
        Specials sp = specials(tokenizerJson, v);
        if (spm) {
            md.put(P + "model", GGUFValue.ofString("llama"));
            md.put(P + "add_space_prefix", GGUFValue.ofBool(spaceToMetaspace(tokenizerJson)));
            String unk = model.getString("unk_token", null);
            if (unk != null) {
                int id = v.id(unk, tokenizerJson, "model.unk_token");
                v.types[id] = TokenType.UNKNOWN;
                md.put(P + "unknown_token_id", GGUFValue.ofUInt32(id));
            }
            for (int id = 0; id < v.texts.length; id++) {
                if (v.types[id] == TokenType.NORMAL && BYTE_TOKEN.matcher(v.texts[id]).matches()) v.types[id] = TokenType.BYTE;
            }
            md.put(P + "scores", GGUFValue.ofArray(new GGUFArray(GGUFValueType.FLOAT32, scores(v, merges))));
        } else {
            md.put(P + "model", GGUFValue.ofString("gpt2"));
            md.put(P + "pre", GGUFValue.ofString(byteLevelPreset(tokenizerJson, model.getBool("ignore_merges", false))));
            if (tokenizerJson.has("normalizer")) throw tokenizerJson.error("a normalizer with a byte-level BPE model is not supported: " + abbreviate(tokenizerJson.get("normalizer")));
        }
        md.put(P + "tokens", GGUFValue.ofArray(new GGUFArray(GGUFValueType.STRING, v.texts)));
        int[] codes = new int[v.types.length];
        for (int i = 0; i < codes.length; i++) codes[i] = v.types[i].code();
        md.put(P + "token_type", GGUFValue.ofArray(new GGUFArray(GGUFValueType.INT32, codes)));
        md.put(P + "merges", GGUFValue.ofArray(new GGUFArray(GGUFValueType.STRING, merges.toArray(new String[0]))));
        putSpecials(md, sp, tokenizerConfig, v, spm);
        return md;
    }

    /**
     * GGUF tokenizer metadata for GPT-2's slow-tokenizer files: vocab.json (text to id), merges.txt lines, and
     * tokenizer_config.json's {@code added_tokens_decoder} for special tokens. Byte-level BPE with GPT-2's regex.
     */
    public static Map<String, GGUFValue> metadataFromVocabAndMerges(HfJson vocabJson, List<String> mergeLines, HfJson tokenizerConfig) {
        Vocab v = vocabOf(vocabJson, vocabJson.node());
        if (tokenizerConfig != null && tokenizerConfig.has("added_tokens_decoder")) {
            HfJson added = tokenizerConfig.object("added_tokens_decoder");
            for (Iterator<Map.Entry<String, JsonNode>> it = added.node().fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                int id;
                try {
                    id = Integer.parseInt(e.getKey());
                } catch (NumberFormatException ex) {
                    throw tokenizerConfig.error("added_tokens_decoder key '" + e.getKey() + "' is not a token id");
                }
                HfJson t = added.object(e.getKey());
                v.add(id, t.getString("content"), t.getBool("special", false), tokenizerConfig);
            }
        }
        v.fillHoles();
        Map<String, GGUFValue> md = new LinkedHashMap<>();
        md.put(P + "model", GGUFValue.ofString("gpt2"));
        md.put(P + "pre", GGUFValue.ofString("gpt-2"));
        md.put(P + "tokens", GGUFValue.ofArray(new GGUFArray(GGUFValueType.STRING, v.texts)));
        int[] codes = new int[v.types.length];
        for (int i = 0; i < codes.length; i++) codes[i] = v.types[i].code();
        md.put(P + "token_type", GGUFValue.ofArray(new GGUFArray(GGUFValueType.INT32, codes)));
        for (int i = 0; i < mergeLines.size(); i++) checkMerge(vocabJson, "merges.txt line " + (i + 2), mergeLines.get(i));
        md.put(P + "merges", GGUFValue.ofArray(new GGUFArray(GGUFValueType.STRING, mergeLines.toArray(new String[0]))));
        putSpecials(md, new Specials(-1, -1, null, null), tokenizerConfig, v, false);
        return md;
    }

    // ---- vocabulary ----

    /** Token texts and types by id, filled from model.vocab and added_tokens. */
    private static final class Vocab {
        String[] texts;
        TokenType[] types;
        final Map<String, Integer> ids = new HashMap<>();

        Vocab(int n) {
            texts = new String[n];
            types = new TokenType[n];
        }

        void grow(int n) {
            if (n <= texts.length) return;
            texts = java.util.Arrays.copyOf(texts, n);
            types = java.util.Arrays.copyOf(types, n);
        }

        void add(int id, String text, boolean special, HfJson src) {
            if (id < 0 || id > texts.length + 1_000_000) throw src.error("added token '" + text + "' has id " + id + ", far outside the vocabulary");
            if (id >= texts.length) grow(Math.max(id + 1, texts.length));
            if (texts[id] != null && !texts[id].equals(text)) {
                throw src.error("added token '" + text + "' has id " + id + ", which the vocabulary gives to '" + texts[id] + "'");
            }
            texts[id] = text;
            types[id] = special ? TokenType.CONTROL : TokenType.USER_DEFINED;
            ids.put(text, id);
        }

        void fillHoles() {
            for (int i = 0; i < texts.length; i++) {
                if (texts[i] == null) {
                    texts[i] = "[PAD" + i + "]";
                    types[i] = TokenType.UNUSED;
                }
            }
        }

        int id(String text, HfJson src, String field) {
            Integer id = ids.get(text);
            if (id == null) throw src.error(field + " '" + text + "' is not a token of the vocabulary");
            return id;
        }
    }

    private static Vocab vocab(HfJson tj, HfJson model) {
        JsonNode vocab = model.get("vocab");
        if (vocab == null || !vocab.isObject()) throw tj.error("model.vocab is missing or not an object");
        Vocab v = vocabOf(tj, vocab);
        JsonNode added = tj.get("added_tokens");
        if (added != null && !added.isNull()) {
            if (!added.isArray()) throw tj.error("added_tokens is not an array");
            for (int i = 0; i < added.size(); i++) {
                if (!added.get(i).isObject()) throw tj.error("added_tokens[" + i + "] is not an object");
                HfJson a = HfJson.of(tj.fileName(), (com.fasterxml.jackson.databind.node.ObjectNode) added.get(i));
                v.add(a.getInt("id"), a.getString("content"), a.getBool("special", false), tj);
            }
        }
        v.fillHoles();
        return v;
    }

    private static Vocab vocabOf(HfJson src, JsonNode vocab) {
        int max = -1;
        for (JsonNode id : vocab) {
            if (!id.isIntegralNumber() || !id.canConvertToInt() || id.intValue() < 0) {
                throw src.error("vocabulary id " + abbreviate(id) + " is not a non-negative integer");
            }
            max = Math.max(max, id.intValue());
        }
        if (max >= vocab.size() * 2L + 1_000_000) {
            throw src.error("vocabulary id " + max + " is far beyond the " + vocab.size() + " tokens listed");
        }
        Vocab v = new Vocab(max + 1);
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int id = e.getValue().intValue();
            if (v.texts[id] != null) throw src.error("tokens '" + v.texts[id] + "' and '" + e.getKey() + "' share id " + id);
            v.texts[id] = e.getKey();
            v.types[id] = TokenType.NORMAL;
            v.ids.put(e.getKey(), id);
        }
        return v;
    }

    private static List<String> merges(HfJson tj, JsonNode merges) {
        if (merges == null || !merges.isArray()) throw tj.error("model.merges is missing or not an array");
        List<String> out = new ArrayList<>(merges.size());
        for (int i = 0; i < merges.size(); i++) {
            JsonNode m = merges.get(i);
            String line;
            if (m.isTextual()) {
                line = m.textValue();
            } else if (m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()) {
                if (m.get(0).textValue().contains(" ") || m.get(1).textValue().contains(" ")) {
                    throw tj.error("model.merges[" + i + "] " + m + " has a space inside a token, which GGUF's \"left right\" form cannot hold");
                }
                line = m.get(0).textValue() + " " + m.get(1).textValue();
            } else {
                throw tj.error("model.merges[" + i + "] = " + abbreviate(m) + " is neither \"left right\" nor [\"left\", \"right\"]");
            }
            checkMerge(tj, "model.merges[" + i + "]", line);
            out.add(line);
        }
        return out;
    }

    private static void checkMerge(HfJson src, String where, String line) {
        int space = line.indexOf(' ', 1);
        if (space < 0 || space == line.length() - 1) throw src.error(where + " = '" + line + "' is not 'left right'");
    }

    /** SentencePiece scores from merge ranks: -(rank of the first merge making the token); other tokens lower. */
    private static float[] scores(Vocab v, List<String> merges) {
        float[] s = new float[v.texts.length];
        java.util.Arrays.fill(s, Float.NaN);
        for (int r = 0; r < merges.size(); r++) {
            String m = merges.get(r);
            int space = m.indexOf(' ', 1);
            Integer id = v.ids.get(m.substring(0, space) + m.substring(space + 1));
            if (id != null && Float.isNaN(s[id])) s[id] = -r;
        }
        for (int i = 0; i < s.length; i++) if (Float.isNaN(s[i])) s[i] = -merges.size() - 1 - i;
        return s;
    }

    // ---- pre-tokenizer and normalizer ----

    /** llama.cpp's pre-tokenizer name for a byte-level BPE tokenizer.json. */
    private static String byteLevelPreset(HfJson tj, boolean ignoreMerges) {
        JsonNode pre = tj.get("pre_tokenizer");
        if (pre == null || pre.isNull()) throw tj.error("a byte-level BPE model needs a ByteLevel pre_tokenizer; there is none");
        String regex;
        String t = pre.path("type").asText();
        if (t.equals("ByteLevel")) {
            checkByteLevel(tj, pre, true);
            regex = GPT2_REGEX;
        } else if (t.equals("Sequence") && pre.path("pretokenizers").size() == 2
                && pre.path("pretokenizers").get(0).path("type").asText().equals("Split")
                && pre.path("pretokenizers").get(1).path("type").asText().equals("ByteLevel")) {
            JsonNode split = pre.path("pretokenizers").get(0);
            checkByteLevel(tj, pre.path("pretokenizers").get(1), false);
            if (!split.path("pattern").path("Regex").isTextual() || !split.path("behavior").asText().equals("Isolated")
                    || split.path("invert").asBoolean(false)) {
                throw tj.error("pre_tokenizer Split " + abbreviate(split) + " is not supported (a Regex pattern, behavior Isolated, not inverted)");
            }
            regex = split.path("pattern").path("Regex").textValue();
        } else {
            throw tj.error("pre_tokenizer " + abbreviate(pre) + " is not supported (ByteLevel, or Sequence of Split and ByteLevel)");
        }
        if (regex.equals(GPT2_REGEX) && !ignoreMerges) return "gpt-2";
        if (regex.equals(LLAMA3_REGEX)) return ignoreMerges ? "llama-bpe" : "smaug-bpe";
        if (regex.equals(QWEN2_REGEX) && !ignoreMerges) return "qwen2";
        throw tj.error("pre_tokenizer regex " + regex + (ignoreMerges ? " with ignore_merges" : "")
                + " is not one jllm implements (GPT-2's, Llama 3's, Qwen2's)");
    }

    private static void checkByteLevel(HfJson tj, JsonNode bl, boolean useRegexExpected) {
        if (bl.path("add_prefix_space").asBoolean(false)) throw tj.error("pre_tokenizer ByteLevel add_prefix_space = true is not supported");
        if (bl.path("use_regex").asBoolean(true) != useRegexExpected) {
            throw tj.error("pre_tokenizer ByteLevel use_regex = " + !useRegexExpected + " is not supported here");
        }
    }

    /** Whether a SentencePiece tokenizer.json prefixes the text with "▁" (llama.cpp's add_space_prefix). */
    private static boolean spaceToMetaspace(HfJson tj) {
        JsonNode norm = tj.get("normalizer"), pre = tj.get("pre_tokenizer");
        List<JsonNode> steps = new ArrayList<>();
        if (norm != null && !norm.isNull()) {
            if (norm.path("type").asText().equals("Sequence")) norm.path("normalizers").forEach(steps::add);
            else steps.add(norm);
        }
        boolean prepend = false, replace = false;
        for (JsonNode s : steps) {
            switch (s.path("type").asText()) {
                case "Prepend" -> {
                    if (!s.path("prepend").asText().equals(SPACE)) throw tj.error("normalizer Prepend " + abbreviate(s) + " is not supported (\"▁\" only)");
                    prepend = true;
                }
                case "Replace" -> {
                    if (!s.path("pattern").path("String").asText().equals(" ") || !s.path("content").asText().equals(SPACE)) {
                        throw tj.error("normalizer Replace " + abbreviate(s) + " is not supported (\" \" to \"▁\" only)");
                    }
                    replace = true;
                }
                default -> throw tj.error("normalizer " + abbreviate(s) + " is not supported with a SentencePiece model");
            }
        }
        if (pre != null && !pre.isNull()) {
            if (!pre.path("type").asText().equals("Metaspace") || !pre.path("replacement").asText(SPACE).equals(SPACE)) {
                throw tj.error("pre_tokenizer " + abbreviate(pre) + " is not supported with a SentencePiece model (Metaspace with \"▁\")");
            }
            String scheme = pre.path("prepend_scheme").asText(pre.path("add_prefix_space").asBoolean(true) ? "always" : "never");
            return !scheme.equals("never");
        }
        if (!replace) throw tj.error("a SentencePiece model needs a Replace(\" \", \"▁\") normalizer or a Metaspace pre_tokenizer");
        return prepend;
    }

    // ---- special tokens ----

    /** BOS/EOS from the post-processor template: ids of the special tokens before and after $A, or -1. */
    private record Specials(int templateBos, int templateEos, Boolean addBos, Boolean addEos) {}

    private static Specials specials(HfJson tj, Vocab v) {
        JsonNode pp = tj.get("post_processor");
        JsonNode template = null;
        if (pp != null && pp.path("type").asText().equals("TemplateProcessing")) template = pp;
        else if (pp != null && pp.path("type").asText().equals("Sequence")) {
            for (JsonNode p : pp.path("processors")) if (p.path("type").asText().equals("TemplateProcessing")) template = p;
        }
        if (template == null) return new Specials(-1, -1, null, null);
        JsonNode single = template.path("single");
        if (!single.isArray() || single.isEmpty()) throw tj.error("post_processor TemplateProcessing has no 'single' template");
        int bos = -1, eos = -1;
        if (single.get(0).has("SpecialToken")) bos = specialId(tj, v, template, single.get(0));
        if (single.size() > 1 && single.get(single.size() - 1).has("SpecialToken")) eos = specialId(tj, v, template, single.get(single.size() - 1));
        return new Specials(bos, eos, bos >= 0, eos >= 0);
    }

    private static int specialId(HfJson tj, Vocab v, JsonNode template, JsonNode item) {
        String name = item.path("SpecialToken").path("id").asText();
        JsonNode ids = template.path("special_tokens").path(name).path("ids");
        if (ids.isArray() && ids.size() == 1 && ids.get(0).canConvertToInt()) {
            int id = ids.get(0).intValue();
            if (id < 0 || id >= v.texts.length) throw tj.error("post_processor special token '" + name + "' has id " + id + ", outside the vocabulary");
            return id;
        }
        return v.id(name, tj, "post_processor special token");
    }

    private static void putSpecials(Map<String, GGUFValue> md, Specials sp, HfJson cfg, Vocab v, boolean spm) {
        int bos = sp.templateBos(), eos = sp.templateEos(), pad = -1;
        Boolean addBos = sp.addBos(), addEos = sp.addEos();
        if (cfg != null) {
            int b = tokenFromConfig(cfg, "bos_token", v), e = tokenFromConfig(cfg, "eos_token", v);
            pad = tokenFromConfig(cfg, "pad_token", v);
            if (b >= 0) bos = b;
            if (e >= 0) eos = e;
            if (cfg.has("add_bos_token")) addBos = cfg.getBool("add_bos_token");
            if (cfg.has("add_eos_token")) addEos = cfg.getBool("add_eos_token");
        }
        if (!spm) { // GPT-2's convention when nothing names them
            Integer eot = v.ids.get("<|endoftext|>");
            if (bos < 0 && eot != null) bos = eot;
            if (eos < 0 && eot != null) eos = eot;
        }
        if (bos >= 0) md.put(P + "bos_token_id", GGUFValue.ofUInt32(bos));
        if (eos >= 0) md.put(P + "eos_token_id", GGUFValue.ofUInt32(eos));
        if (pad >= 0) md.put(P + "padding_token_id", GGUFValue.ofUInt32(pad));
        md.put(P + "add_bos_token", GGUFValue.ofBool(addBos != null && addBos));
        md.put(P + "add_eos_token", GGUFValue.ofBool(addEos != null && addEos));
    }

    /** A token named in tokenizer_config.json (a string or an AddedToken object with "content"), or -1. */
    private static int tokenFromConfig(HfJson cfg, String key, Vocab v) {
        JsonNode n = cfg.get(key);
        if (n == null || n.isNull()) return -1;
        String text = n.isTextual() ? n.textValue() : n.path("content").isTextual() ? n.path("content").textValue() : null;
        if (text == null) throw cfg.error("'" + key + "' is " + abbreviate(n) + ", expected a token text");
        return v.id(text, cfg, "'" + key + "'");
    }

    private static String abbreviate(JsonNode n) {
        String s = n.toString();
        return s.length() > 120 ? s.substring(0, 120) + "..." : s;
    }
}
