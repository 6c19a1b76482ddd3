package jllm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

import jllm.format.gguf.GGUFArray;
import jllm.format.gguf.GGUFFormatException;
import jllm.format.gguf.GGUFValue;
import jllm.format.gguf.GGUFValueType;

/**
 * Small hand-made vocabularies whose encodings follow by hand from the algorithms' definitions (stated next to
 * each expectation), the metadata rules (defaults, overrides, end-of-generation set), and validation: every bad key
 * is an exception naming it.
 */
class TokenizersTest {
    static final String P = "tokenizer.ggml.";

    static Map<String, GGUFValue> md(String model, String[] tokens) {
        Map<String, GGUFValue> md = new LinkedHashMap<>();
        md.put(P + "model", GGUFValue.ofString(model));
        md.put(P + "tokens", GGUFValue.ofArray(new GGUFArray(GGUFValueType.STRING, tokens)));
        return md;
    }

    static GGUFValue ints(int... v) { return GGUFValue.ofArray(new GGUFArray(GGUFValueType.INT32, v)); }
    static GGUFValue floats(float... v) { return GGUFValue.ofArray(new GGUFArray(GGUFValueType.FLOAT32, v)); }
    static GGUFValue strings(String... v) { return GGUFValue.ofArray(new GGUFArray(GGUFValueType.STRING, v)); }

    // ---- SentencePiece ----

    static final String[] SPM_TOKENS = {"<unk>", "<s>", "</s>", "▁", "a", "b", "ab", "▁a", "<0x63>", "aa", "<|im_end|>"};

    static Map<String, GGUFValue> spm() {
        Map<String, GGUFValue> md = md("llama", SPM_TOKENS);
        md.put(P + "scores", floats(0, 0, 0, -1f, -2f, -2f, -0.5f, -0.1f, 0, -1f, 0));
        md.put(P + "token_type", ints(2, 3, 3, 1, 1, 1, 1, 1, 6, 1, 1));
        return md;
    }

    @Test
    void sentencePieceMergesHighestScoreFirst() {
        VocabTokenizer t = Tokenizers.fromMetadata("spm", spm());
        // "ab" -> "▁ab": pairs "▁a" (-0.1) and "ab" (-0.5); "▁a" merges first, then "▁ab" is no token: [▁a, b]
        assertArrayEquals(new int[] {7, 5}, t.encode("ab", false, false));
        // BOS by default for llama vocabularies (id 1), no EOS
        assertArrayEquals(new int[] {1, 7, 5}, t.encode("ab", true, false));
        // "c" is no token: its byte 0x63 falls back to <0x63>; "d" has no byte token: <unk>
        assertArrayEquals(new int[] {3, 8}, t.encode("c", false, false));
        assertArrayEquals(new int[] {3, 0}, t.encode("d", false, false));
        // "ab c" -> ▁ a b ▁ c -> [▁a, b, ▁, <0x63>]; decoding drops the prefix space again
        assertArrayEquals(new int[] {7, 5, 3, 8}, t.encode("ab c", false, false));
        assertEquals("ab c", t.decode(new int[] {7, 5, 3, 8}));
    }

    @Test
    void sentencePieceTiesGoLeftmost() {
        Map<String, GGUFValue> md = spm();
        md.put(P + "add_space_prefix", GGUFValue.ofBool(false));
        VocabTokenizer t = Tokenizers.fromMetadata("spm", md);
        // "aaa": pairs (0,1) and (1,2) are both "aa" (-1); the left one merges: [aa, a]
        assertArrayEquals(new int[] {9, 4}, t.encode("aaa", false, false));
        assertEquals("aaa", t.decode(new int[] {9, 4}));
    }

    @Test
    void endOfGenerationTokensFoundByText() {
        VocabTokenizer t = Tokenizers.fromMetadata("spm", spm());
        int imEnd = 10;
        assertEquals(TokenType.CONTROL, t.tokenType(imEnd)); // was NORMAL; llama.cpp re-types it
        assertTrue(t.isEog(imEnd));
        assertTrue(t.isEog(2)); // EOS
        assertFalse(t.isEog(1));
        assertFalse(t.isEog(-1));
        assertFalse(t.isEog(1000));
        assertEquals(imEnd, t.specialTokens().eot());
        // a control token: parsed only when asked
        assertArrayEquals(new int[] {7, imEnd}, t.encode("a<|im_end|>", false, true));
        assertEquals(0, t.decodeBytes(imEnd).length);
    }

    // ---- WordPiece ----

    @Test
    void wordPieceLongestMatchFirst() {
        Map<String, GGUFValue> md = md("bert", new String[] {"[UNK]", "[CLS]", "[SEP]", "▁un", "aff", "able", "▁unaff", "▁!", "▁hello"});
        md.put(P + "unknown_token_id", GGUFValue.ofUInt32(0));
        md.put(P + "bos_token_id", GGUFValue.ofUInt32(1));
        md.put(P + "seperator_token_id", GGUFValue.ofUInt32(2));
        VocabTokenizer t = Tokenizers.fromMetadata("wpm", md);
        // words: unaffable ! hello xyz (lower-cased, "!" alone); "▁unaffable" = ▁unaff + able (longest first);
        // "▁xyz" has no piece: [UNK]; [CLS] ... [SEP] when special tokens are added
        assertArrayEquals(new int[] {1, 6, 5, 7, 8, 0, 2}, t.encode("Unaffable! HELLO xyz", true, false));
        assertEquals(java.util.List.of("unaffable", "!", "hello", "e", "中", "文"),
                WordPieceEncoder.words("UnAffable!\tHello\u0000 É中文"));
    }

    // ---- byte-level BPE ----

    static Map<String, GGUFValue> bpe() {
        Map<String, GGUFValue> md = md("gpt2", new String[] {"h", "e", "l", "o", "he", "ll", "hell", "hello", "<|endoftext|>"});
        md.put(P + "merges", strings("h e", "l l", "he ll", "hell o"));
        md.put(P + "pre", GGUFValue.ofString("gpt-2"));
        md.put(P + "token_type", ints(1, 1, 1, 1, 1, 1, 1, 1, 3));
        md.put(P + "eos_token_id", GGUFValue.ofUInt32(8));
        md.put(P + "bos_token_id", GGUFValue.ofUInt32(8));
        return md;
    }

    @Test
    void bytePairMergesLowestRankFirst() {
        VocabTokenizer t = Tokenizers.fromMetadata("bpe", bpe());
        // h e l l o -> (h e, rank 0) he l l o -> (l l, 1) he ll o -> (he ll, 2) hell o -> (hell o, 3) hello
        assertArrayEquals(new int[] {7}, t.encode("hello", false, false));
        // l l l: both pairs rank 1, the left merges: [ll, l]
        assertArrayEquals(new int[] {5, 2}, t.encode("lll", false, false));
        // gpt2 vocabularies add no BOS unless the metadata says so
        assertArrayEquals(new int[] {7}, t.encode("hello", true, false));
        Map<String, GGUFValue> md = bpe();
        md.put(P + "add_bos_token", GGUFValue.ofBool(true));
        md.put(P + "add_eos_token", GGUFValue.ofBool(true));
        assertArrayEquals(new int[] {8, 7, 8}, Tokenizers.fromMetadata("bpe", md).encode("hello", true, false));
        assertEquals("hello", t.decode(new int[] {7, 8}));
    }

    // ---- validation ----

    static void assertRejected(Map<String, GGUFValue> md, String... fragments) {
        GGUFFormatException e = assertThrows(GGUFFormatException.class, () -> Tokenizers.fromMetadata("bad.gguf", md));
        assertTrue(e.getMessage().startsWith("bad.gguf: "), e.getMessage());
        for (String f : fragments) assertTrue(e.getMessage().contains(f), e.getMessage());
    }

    @Test
    void badMetadataIsNamed() {
        Map<String, GGUFValue> md = spm();
        md.put(P + "bos_token_id", GGUFValue.ofUInt32(99));
        assertRejected(md, "'tokenizer.ggml.bos_token_id' = 99", "11 tokens");

        md = spm();
        md.put(P + "eos_token_id", GGUFValue.ofInt32(-1));
        assertRejected(md, "'tokenizer.ggml.eos_token_id' = -1");

        md = spm();
        md.put(P + "padding_token_id", GGUFValue.ofString("0"));
        assertRejected(md, "'tokenizer.ggml.padding_token_id' has type STRING");

        md = spm();
        md.put(P + "scores", floats(1, 2, 3));
        assertRejected(md, "'tokenizer.ggml.scores' has 3 entries for 11 tokens");

        md = spm();
        md.put(P + "token_type", ints(1));
        assertRejected(md, "'tokenizer.ggml.token_type' has 1 entries");

        md = spm();
        md.put(P + "model", GGUFValue.ofString("t5"));
        assertRejected(md, "'tokenizer.ggml.model' = 't5'");

        md = spm();
        md.remove(P + "tokens");
        assertRejected(md, "'tokenizer.ggml.tokens'");

        md = spm();
        md.put(P + "add_bos_token", GGUFValue.ofUInt32(1));
        assertRejected(md, "'tokenizer.ggml.add_bos_token' has type UINT32, expected BOOL");

        md = bpe();
        md.put(P + "pre", GGUFValue.ofString("no-such-pre"));
        assertRejected(md, "'tokenizer.ggml.pre' = 'no-such-pre'");

        md = bpe();
        md.remove(P + "merges");
        assertRejected(md, "'tokenizer.ggml.merges'");

        md = bpe();
        md.put(P + "merges", strings("h e", "nospace"));
        assertRejected(md, "'tokenizer.ggml.merges'[1] = 'nospace'");
    }

    @Test
    void badIdsAreNamed() {
        VocabTokenizer t = Tokenizers.fromMetadata("spm", spm());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.decodeBytes(11));
        assertTrue(e.getMessage().contains("token id 11"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {3, -2}));
        assertThrows(IllegalArgumentException.class, () -> t.tokenText(-1));
    }

    @Test
    void everyPresetNameBuilds() {
        for (String pre : new String[] {"default", "llama3", "llama-v3", "llama-bpe", "falcon3", "dbrx", "smaug-bpe",
                "deepseek-llm", "deepseek-v3", "deepseek-coder", "falcon", "mpt", "gpt-2", "phi-2", "jina-es", "jina-de",
                "gigachat", "jina-v1-en", "jina-v2-es", "jina-v2-de", "jina-v2-code", "roberta-bpe", "olmo", "jais",
                "starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", "qwen2",
                "deepseek-r1-qwen", "stablelm2", "megrez", "poro-chat", "bloom", "gpt3-finnish", "chatglm-bpe", "viking",
                "tekken", "chameleon"}) {
            Map<String, GGUFValue> md = bpe();
            md.put(P + "pre", GGUFValue.ofString(pre));
            assertArrayEquals(new int[] {7}, Tokenizers.fromMetadata("bpe", md).encode("hello", false, false), pre);
        }
    }
}
