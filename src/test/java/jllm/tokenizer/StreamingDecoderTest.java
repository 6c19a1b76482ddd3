package jllm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * Streaming decoding never emits part of a UTF-8 sequence: checked on emoji and CJK that the vocabularies split
 * into byte tokens, and on every shared text for every lossless vocabulary (the streamed pieces concatenate to the
 * text, and none contains U+FFFD).
 */
class StreamingDecoderTest {

    @Test
    void emojiSplitIntoByteTokensComesOutWhole() {
        VocabTokenizer spm = GoldenCases.vocab("llama-spm");
        int[] ids = spm.encode("🚀", false, false); // "▁" then four byte-fallback tokens <0xF0><0x9F><0x9A><0x80>
        assertEquals(List.of("▁", "<0xF0>", "<0x9F>", "<0x9A>", "<0x80>"),
                java.util.Arrays.stream(ids).mapToObj(spm::tokenText).toList());
        StreamingDecoder d = spm.newStreamingDecoder();
        assertEquals(" ", d.push(ids[0]));
        assertEquals("", d.push(ids[1]));
        assertEquals(1, d.pendingBytes());
        assertEquals("", d.push(ids[2]));
        assertEquals("", d.push(ids[3]));
        assertEquals(3, d.pendingBytes());
        assertEquals("🚀", d.push(ids[4]));
        assertEquals(0, d.pendingBytes());
        assertEquals("", d.flush());
    }

    @Test
    void byteLevelTokensThatCutACharacter() {
        VocabTokenizer gpt2 = GoldenCases.vocab("gpt-2");
        // gpt-3-encoder's expected ids: " 👋" and " 🌍" are each split inside the 4-byte sequence
        int[] ids = {31373, 50169, 233, 995, 12520, 234, 235};
        assertEquals("hello 👋 world 🌍", gpt2.decode(ids));
        StreamingDecoder d = gpt2.newStreamingDecoder();
        List<String> out = new ArrayList<>();
        for (int id : ids) out.add(d.push(id));
        assertEquals(List.of("hello", " ", "👋", " world", " ", "", "🌍"), out);
    }

    @Test
    void cjkAcrossTokens() {
        VocabTokenizer spm = GoldenCases.vocab("llama-spm");
        String text = "我想在apple工作1314151天～ 𠮷野家 饕餮";
        int[] ids = spm.encode(text, false, false);
        StreamingDecoder d = spm.newStreamingDecoder();
        StringBuilder sb = new StringBuilder();
        boolean sawPending = false;
        for (int id : ids) {
            String s = d.push(id);
            assertFalse(s.contains("\uFFFD"), s);
            sawPending |= d.pendingBytes() > 0;
            sb.append(s);
        }
        sb.append(d.flush());
        assertEquals(" " + text, sb.toString());
        assertEquals(true, sawPending, "some CJK character of this text (𠮷, outside the vocabulary) is split over byte tokens");
    }

    @Test
    void everySharedTextStreamsWithoutBrokenCharacters() {
        List<String> texts = GoldenCases.splitInputs(GoldenCases.read(GoldenCases.vocabDir().resolve("ggml-vocab-llama-spm.gguf.inp")));
        texts.addAll(GoldenCases.splitInputs(GoldenCases.resource("extra.inp")));
        for (String v : RoundTripTest.LOSSLESS) {
            VocabTokenizer tok = GoldenCases.vocab(v);
            for (String text : texts) {
                int[] ids = tok.encode(text, false, false);
                StreamingDecoder d = tok.newStreamingDecoder();
                StringBuilder sb = new StringBuilder();
                for (int id : ids) {
                    String s = d.push(id);
                    assertFalse(s.contains("\uFFFD"), v + ": broken character streaming '" + text + "'");
                    sb.append(s);
                }
                assertEquals(0, d.pendingBytes(), v + " '" + text + "'");
                String expected = tok.specialTokens().addSpacePrefix() && !text.isEmpty() ? " " + text : text;
                assertEquals(expected, sb.toString(), v);
            }
        }
    }

    @Test
    void malformedBytesComeOutAsReplacementAtOnce() {
        VocabTokenizer spm = GoldenCases.vocab("llama-spm");
        StreamingDecoder d = spm.newStreamingDecoder();
        assertEquals("\uFFFD", d.push(spm.tokenId("<0x80>"))); // a continuation byte with no lead
        assertEquals("", d.push(spm.tokenId("<0xE4>")));       // a lead byte of a 3-byte sequence: wait
        assertEquals("\uFFFDA", d.push(spm.tokenId("<0x41>"))); // 'A' cannot continue it: both come out
        assertEquals("", d.push(spm.tokenId("<0xF0>")));
        assertEquals("\uFFFD", d.flush());                     // the stream ends inside a sequence
        assertEquals(0, d.pendingBytes());
    }

    @Test
    void completePrefixFollowsUtf8() {
        byte[] euro = "€".getBytes(StandardCharsets.UTF_8); // E2 82 AC
        assertEquals(0, StreamingDecoder.completePrefix(euro, 1));
        assertEquals(0, StreamingDecoder.completePrefix(euro, 2));
        assertEquals(3, StreamingDecoder.completePrefix(euro, 3));
        byte[] overlong = {(byte) 0xE0, (byte) 0x80}; // E0 needs A0..BF next: never a character
        assertEquals(2, StreamingDecoder.completePrefix(overlong, 2));
        byte[] surrogate = {(byte) 0xED, (byte) 0xA0}; // ED A0 would be a surrogate
        assertEquals(2, StreamingDecoder.completePrefix(surrogate, 2));
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes("a😀".getBytes(StandardCharsets.UTF_8));
        byte[] x = b.toByteArray();
        assertEquals(1, StreamingDecoder.completePrefix(x, 4));
        assertEquals(5, StreamingDecoder.completePrefix(x, 5));
    }
}
