package jllm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * decode(encode(x)) == x exactly for the lossless vocabularies (SentencePiece with byte fallback, byte-level BPE),
 * on every shared and extra text, with and without BOS; WordPiece (lossy: it lower-cases and drops accents) is
 * checked against its piece definition instead.
 */
class RoundTripTest {
    static final List<String> LOSSLESS = List.of("llama-spm", "phi-3", "gpt-2", "deepseek-llm", "llama-bpe");

    record Text(String vocab, int index, String text) {
        @Override
        public String toString() {
            return new GoldenCases.Case(vocab, index, text, new int[0]).toString();
        }
    }

    static Stream<Text> texts() {
        List<String> texts = new ArrayList<>(GoldenCases.splitInputs(
                GoldenCases.read(GoldenCases.vocabDir().resolve("ggml-vocab-llama-spm.gguf.inp"))));
        texts.addAll(GoldenCases.splitInputs(GoldenCases.resource("extra.inp")));
        List<Text> all = new ArrayList<>();
        for (String v : LOSSLESS) for (int i = 0; i < texts.size(); i++) all.add(new Text(v, i, texts.get(i)));
        return all.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("texts")
    void decodeInvertsEncode(Text t) {
        VocabTokenizer tok = GoldenCases.vocab(t.vocab());
        assertEquals(t.text(), tok.decode(tok.encode(t.text(), false, false)));
        // with BOS (a control token: it decodes to nothing, and the space prefix is still removed once)
        int[] withBos = tok.encode(t.text(), true, false);
        // (llama.cpp's detokenize strips the prefix space only from the first piece, here BOS's empty one)
        boolean keepsPrefix = tok.specialTokens().addBos() && tok.specialTokens().addSpacePrefix() && !t.text().isEmpty();
        String expected = keepsPrefix ? " " + t.text() : t.text();
        assertEquals(expected, tok.decode(withBos));
    }

    @Test
    void wordPieceDecodesItsPieces() {
        VocabTokenizer bert = GoldenCases.vocab("bert-bge");
        int[] ids = bert.encode("Héllo, WORLD!", false, false);
        // words "hello" "," "world" "!" -> "▁hello" "▁," "▁world" "▁!" (each a token of this vocabulary)
        assertEquals(List.of("▁hello", "▁,", "▁world", "▁!"),
                java.util.Arrays.stream(ids).mapToObj(bert::tokenText).toList());
        assertEquals(" hello , world !", bert.decode(ids));
    }
}
