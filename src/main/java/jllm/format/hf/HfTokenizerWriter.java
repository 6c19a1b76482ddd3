package jllm.format.hf;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import jllm.format.gguf.GGUFArray;
import jllm.format.gguf.GGUFValue;
import jllm.format.gguf.GGUFValueType;
import jllm.tokenizer.TokenType;

/**
 * GGUF tokenizer metadata ({@code tokenizer.ggml.*}) to Hugging Face's tokenizer.json and tokenizer_config.json:
 * the inverse of {@link HfTokenizer#metadata}, for saving a model that came from a GGUF file as a Hugging Face
 * folder. Byte-level BPE vocabularies ({@code gpt2} with pre-tokenizer gpt-2, llama-bpe / llama3, smaug-bpe,
 * qwen2) become a BPE model with a ByteLevel pre-tokenizer (after a Split for the latter three); SentencePiece
 * vocabularies ({@code llama}) become a BPE model with byte fallback whose merges are made from the scores as
 * transformers' {@code SentencePieceExtractor} makes them: every split of a normal piece into two pieces of the
 * vocabulary, ordered by the piece's score (best first), then by the two halves' ids. Control, unknown and
 * user-defined tokens become added tokens (special unless user-defined).
 */
public final class HfTokenizerWriter {
    private HfTokenizerWriter() {}

    private static final String P = "tokenizer.ggml.";

    /** tokenizer.json for GGUF tokenizer metadata. */
    public static ObjectNode tokenizerJson(Map<String, GGUFValue> md) {
        String kind = string(md, P + "model", null);
        if (kind == null) throw new IllegalArgumentException("no " + P + "model in the metadata");
        String[] tokens = (String[]) array(md, P + "tokens", GGUFValueType.STRING);
        int[] types = ints(md, P + "token_type", tokens.length);
        ObjectNode tj = Json.MAPPER.createObjectNode();
        tj.put("version", "1.0");
        tj.putNull("truncation");
        tj.putNull("padding");
        ArrayNode added = tj.putArray("added_tokens");
        for (int id = 0; id < tokens.length; id++) {
            TokenType t = TokenType.fromCode(types[id]);
            if (t == TokenType.CONTROL || t == TokenType.UNKNOWN || t == TokenType.USER_DEFINED) {
                added.addObject().put("id", id).put("content", tokens[id]).put("single_word", false).put("lstrip", false)
                        .put("rstrip", false).put("normalized", t == TokenType.USER_DEFINED).put("special", t != TokenType.USER_DEFINED);
            }
        }
        // llama.cpp's defaults when the keys are absent: a SentencePiece vocabulary adds BOS 1 and has EOS 2
        boolean spm = kind.equals("llama");
        boolean addBos = bool(md, P + "add_bos_token", spm), addEos = bool(md, P + "add_eos_token", false);
        int bos = id(md, P + "bos_token_id", spm ? 1 : -1, tokens.length), eos = id(md, P + "eos_token_id", spm ? 2 : -1, tokens.length);
        ObjectNode model;
        switch (kind) {
            case "gpt2" -> {
                String pre = string(md, P + "pre", "default");
                String regex;
                boolean ignoreMerges = false;
                switch (pre) {
                    case "gpt-2" -> regex = null;
                    case "llama-bpe", "llama3", "llama-v3" -> { regex = HfTokenizer.LLAMA3_REGEX; ignoreMerges = true; }
                    case "smaug-bpe", "dbrx" -> regex = HfTokenizer.LLAMA3_REGEX;
                    case "qwen2" -> regex = HfTokenizer.QWEN2_REGEX;
                    default -> throw new IllegalArgumentException(P + "pre '" + pre + "' has no tokenizer.json spelling jllm writes (gpt-2, llama-bpe, smaug-bpe, qwen2)");
                }
                tj.putNull("normalizer");
                if (regex == null) {
                    byteLevel(tj.putObject("pre_tokenizer"), true);
                } else {
                    ObjectNode seq = tj.putObject("pre_tokenizer").put("type", "Sequence");
                    ArrayNode steps = seq.putArray("pretokenizers");
                    ObjectNode split = steps.addObject().put("type", "Split");
                    split.putObject("pattern").put("Regex", regex);
                    split.put("behavior", "Isolated").put("invert", false);
                    byteLevel(steps.addObject(), false);
                }
                if (addBos || addEos) tj.set("post_processor", template(tokens, addBos ? bos : -1, addEos ? eos : -1));
                else byteLevel(tj.putObject("post_processor"), true).put("trim_offsets", false);
                byteLevel(tj.putObject("decoder"), true);
                model = bpe(tj, null, false, ignoreMerges);
                fillVocab(model, tokens, types);
                ArrayNode merges = model.putArray("merges");
                for (String m : (String[]) array(md, P + "merges", GGUFValueType.STRING)) merges.add(m);
            }
            case "llama" -> {
                boolean prefix = bool(md, P + "add_space_prefix", true);
                ObjectNode norm = tj.putObject("normalizer").put("type", "Sequence");
                ArrayNode steps = norm.putArray("normalizers");
                if (prefix) steps.addObject().put("type", "Prepend").put("prepend", HfTokenizer.SPACE);
                ObjectNode rep = steps.addObject().put("type", "Replace");
                rep.putObject("pattern").put("String", " ");
                rep.put("content", HfTokenizer.SPACE);
                tj.putNull("pre_tokenizer");
                if (addBos || addEos) tj.set("post_processor", template(tokens, addBos ? bos : -1, addEos ? eos : -1));
                else tj.putNull("post_processor");
                ObjectNode dec = tj.putObject("decoder").put("type", "Sequence");
                ArrayNode ds = dec.putArray("decoders");
                ObjectNode r = ds.addObject().put("type", "Replace");
                r.putObject("pattern").put("String", HfTokenizer.SPACE);
                r.put("content", " ");
                ds.addObject().put("type", "ByteFallback");
                ds.addObject().put("type", "Fuse");
                if (prefix) ds.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);
                int unk = id(md, P + "unknown_token_id", TokenType.fromCode(types[0]) == TokenType.UNKNOWN ? 0 : -1, tokens.length);
                model = bpe(tj, unk >= 0 ? tokens[unk] : null, true, false);
                fillVocab(model, tokens, types);
                float[] scores = md.containsKey(P + "scores") ? (float[]) array(md, P + "scores", GGUFValueType.FLOAT32) : new float[tokens.length];
                ArrayNode merges = model.putArray("merges");
                for (String m : spmMerges(tokens, scores, types)) merges.add(m);
            }
            default -> throw new IllegalArgumentException(P + "model '" + kind + "' has no tokenizer.json form jllm writes (gpt2, llama)");
        }
        return tj;
    }

    /** tokenizer_config.json naming BOS/EOS and whether they are added, with transformers' fast-tokenizer class. */
    public static ObjectNode tokenizerConfig(Map<String, GGUFValue> md) {
        String[] tokens = (String[]) array(md, P + "tokens", GGUFValueType.STRING);
        ObjectNode c = Json.MAPPER.createObjectNode();
        boolean spm = "llama".equals(string(md, P + "model", null));
        c.put("add_bos_token", bool(md, P + "add_bos_token", spm));
        c.put("add_eos_token", bool(md, P + "add_eos_token", false));
        int bos = id(md, P + "bos_token_id", spm ? 1 : -1, tokens.length), eos = id(md, P + "eos_token_id", spm ? 2 : -1, tokens.length);
        int pad = id(md, P + "padding_token_id", -1, tokens.length);
        if (bos >= 0 && bos < tokens.length) c.put("bos_token", tokens[bos]);
        if (eos >= 0 && eos < tokens.length) c.put("eos_token", tokens[eos]);
        if (pad >= 0 && pad < tokens.length) c.put("pad_token", tokens[pad]);
        c.put("clean_up_tokenization_spaces", false);
        c.put("tokenizer_class", "PreTrainedTokenizerFast");
        return c;
    }

    /** SentencePieceExtractor's merges: (left, right) for every split of a normal piece, by piece score, then ids. */
    static List<String> spmMerges(String[] tokens, float[] scores, int[] types) {
        Map<String, Integer> ids = new HashMap<>(tokens.length * 2);
        for (int i = 0; i < tokens.length; i++) ids.put(tokens[i], i);
        record Merge(String line, float score, int left, int right) {}
        List<Merge> merges = new ArrayList<>();
        for (int id = 0; id < tokens.length; id++) {
            if (TokenType.fromCode(types[id]) != TokenType.NORMAL) continue;
            String p = tokens[id];
            for (int k = p.isEmpty() ? 1 : p.offsetByCodePoints(0, 1); k < p.length(); k = p.offsetByCodePoints(k, 1)) {
                Integer l = ids.get(p.substring(0, k)), r = ids.get(p.substring(k));
                if (l != null && r != null) merges.add(new Merge(p.substring(0, k) + " " + p.substring(k), scores[id], l, r));
            }
        }
        merges.sort(Comparator.comparingDouble((Merge m) -> -m.score()).thenComparingInt(Merge::left).thenComparingInt(Merge::right));
        List<String> out = new ArrayList<>(merges.size());
        for (Merge m : merges) out.add(m.line());
        return out;
    }

    private static ObjectNode bpe(ObjectNode tj, String unk, boolean byteFallback, boolean ignoreMerges) {
        ObjectNode m = tj.putObject("model");
        m.put("type", "BPE").putNull("dropout");
        m.put("unk_token", unk);
        m.putNull("continuing_subword_prefix");
        m.putNull("end_of_word_suffix");
        m.put("fuse_unk", byteFallback).put("byte_fallback", byteFallback).put("ignore_merges", ignoreMerges);
        return m;
    }

    private static void fillVocab(ObjectNode model, String[] tokens, int[] types) {
        ObjectNode v = model.putObject("vocab");
        for (int id = 0; id < tokens.length; id++) {
            TokenType t = TokenType.fromCode(types[id]);
            if (t == TokenType.UNUSED) continue; // llama.cpp's [PAD<id>] fillers
            v.put(tokens[id], id);
        }
    }

    private static ObjectNode byteLevel(ObjectNode o, boolean useRegex) {
        return o.put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", useRegex);
    }

    private static ObjectNode template(String[] tokens, int bos, int eos) {
        ObjectNode pp = Json.MAPPER.createObjectNode().put("type", "TemplateProcessing");
        ArrayNode single = pp.putArray("single");
        ArrayNode pair = pp.putArray("pair");
        ObjectNode special = pp.putObject("special_tokens");
        for (ArrayNode seq : new ArrayNode[] {single, pair}) {
            if (bos >= 0) seq.addObject().putObject("SpecialToken").put("id", tokens[bos]).put("type_id", 0);
            seq.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
            if (seq == pair) {
                if (bos >= 0) seq.addObject().putObject("SpecialToken").put("id", tokens[bos]).put("type_id", 1);
                seq.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
            }
            if (eos >= 0) seq.addObject().putObject("SpecialToken").put("id", tokens[eos]).put("type_id", seq == pair ? 1 : 0);
        }
        for (int id : new int[] {bos, eos}) {
            if (id < 0) continue;
            ObjectNode s = special.putObject(tokens[id]).put("id", tokens[id]);
            s.putArray("ids").add(id);
            s.putArray("tokens").add(tokens[id]);
        }
        return pp;
    }

    private static String string(Map<String, GGUFValue> md, String key, String dflt) {
        GGUFValue v = md.get(key);
        if (v == null) return dflt;
        if (v.type() != GGUFValueType.STRING) throw new IllegalArgumentException(key + " has type " + v.type() + ", expected STRING");
        return (String) v.value();
    }

    private static boolean bool(Map<String, GGUFValue> md, String key, boolean dflt) {
        GGUFValue v = md.get(key);
        if (v == null) return dflt;
        if (v.type() != GGUFValueType.BOOL) throw new IllegalArgumentException(key + " has type " + v.type() + ", expected BOOL");
        return (Boolean) v.value();
    }

    /** A token id key, or {@code dflt} when absent; an id outside the vocabulary is an error. */
    private static int id(Map<String, GGUFValue> md, String key, int dflt, int n) {
        GGUFValue v = md.get(key);
        if (v == null) return dflt < n ? dflt : -1;
        long id = v.asLong();
        if (id < 0 || id >= n) throw new IllegalArgumentException(key + " = " + id + " is not a token id (the vocabulary has " + n + " tokens)");
        return (int) id;
    }

    private static Object array(Map<String, GGUFValue> md, String key, GGUFValueType element) {
        GGUFValue v = md.get(key);
        if (v == null || v.type() != GGUFValueType.ARRAY || ((GGUFArray) v.value()).elementType() != element) {
            throw new IllegalArgumentException(key + " is missing or not an array of " + element);
        }
        return ((GGUFArray) v.value()).values();
    }

    private static int[] ints(Map<String, GGUFValue> md, String key, int n) {
        GGUFValue v = md.get(key);
        int[] out = new int[n];
        if (v == null) {
            java.util.Arrays.fill(out, TokenType.NORMAL.code());
            return out;
        }
        GGUFArray a = (GGUFArray) v.value();
        if (a.elementType() != GGUFValueType.INT32 && a.elementType() != GGUFValueType.UINT32) {
            throw new IllegalArgumentException(key + " is an array of " + a.elementType() + ", expected INT32");
        }
        int[] t = (int[]) a.values();
        if (t.length != n) throw new IllegalArgumentException(key + " has " + t.length + " entries for " + n + " tokens");
        return t.clone();
    }
}
