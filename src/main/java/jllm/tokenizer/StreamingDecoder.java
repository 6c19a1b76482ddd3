package jllm.tokenizer;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Decodes a stream of token ids into text, token by token, holding back the bytes of a UTF-8 sequence that the
 * tokens so far have only begun (an emoji split over several byte tokens, say), so that what it returns is always
 * whole characters. Bytes that can never form a character (UTF-8, RFC 3629) come out as U+FFFD right away.
 * Not thread-safe; one per stream.
 */
public final class StreamingDecoder {
    private final Tokenizer tokenizer;
    private byte[] pending = new byte[8];
    private int n;

    StreamingDecoder(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** Adds token {@code id}; returns the text it completes (possibly empty, never a broken sequence). */
    public String push(int id) {
        byte[] piece = tokenizer.decodeBytes(id);
        if (n + piece.length > pending.length) pending = Arrays.copyOf(pending, Math.max(2 * pending.length, n + piece.length));
        System.arraycopy(piece, 0, pending, n, piece.length);
        n += piece.length;
        int complete = completePrefix(pending, n);
        String text = decode(pending, complete);
        System.arraycopy(pending, complete, pending, 0, n - complete);
        n -= complete;
        return text;
    }

    /** Bytes held back, waiting for the rest of a UTF-8 sequence (0..3). */
    public int pendingBytes() { return n; }

    /** Ends the stream: returns the held-back bytes as U+FFFD (empty if none) and resets. */
    public String flush() {
        String text = decode(pending, n);
        n = 0;
        return text;
    }

    /**
     * The length of the longest prefix of b[0, n) that does not end inside an unfinished but still valid UTF-8
     * sequence.
     */
    static int completePrefix(byte[] b, int n) {
        // find the start of the last sequence: at most 3 continuation bytes back
        int i = n - 1;
        while (i >= 0 && i > n - 4 && (b[i] & 0xC0) == 0x80) i--;
        if (i < 0) return n;
        int lead = b[i] & 0xFF;
        int need = lead >= 0xF0 && lead <= 0xF4 ? 4 : lead >= 0xE0 && lead <= 0xEF ? 3 : lead >= 0xC2 && lead <= 0xDF ? 2 : 1;
        int have = n - i;
        if (need == 1 || have >= need) return n;
        // an unfinished sequence: hold it back only if its second byte is in range for that lead (else it is
        // already malformed and will never become a character)
        if (have >= 2) {
            int second = b[i + 1] & 0xFF;
            int lo = lead == 0xE0 ? 0xA0 : lead == 0xF0 ? 0x90 : 0x80;
            int hi = lead == 0xED ? 0x9F : lead == 0xF4 ? 0x8F : 0xBF;
            if (second < lo || second > hi) return n;
        }
        return i;
    }

    static String decode(byte[] b, int n) {
        if (n == 0) return "";
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPLACE)
                .onUnmappableCharacter(CodingErrorAction.REPLACE);
        try {
            CharBuffer cb = d.decode(ByteBuffer.wrap(b, 0, n));
            return cb.toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new AssertionError("a replacing decoder does not throw", e);
        }
    }
}
