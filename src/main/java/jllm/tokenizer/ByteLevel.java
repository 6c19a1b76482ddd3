package jllm.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * GPT-2's reversible map from bytes to printable characters ({@code bytes_to_unicode} in OpenAI's encoder.py,
 * Radford et al. 2019): the bytes '!'..'~', '¡'..'¬' and '®'..'ÿ' stand for themselves, the other 68 bytes (controls,
 * space, DEL, NBSP, soft hyphen, ...) take the code points 256, 257, ... in byte order. Byte-level BPE vocabularies
 * store their tokens in this alphabet, so that every byte string is a string of "visible" characters.
 */
final class ByteLevel {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[512];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + extra++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevel() {}

    /** The character standing for byte {@code b} (0..255). */
    static char charOf(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    /** The byte a character stands for, or -1 if it stands for none. */
    static int byteOf(int c) {
        return c >= 0 && c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    /** The UTF-8 bytes of code points [from, to) of {@code cps}, written in the byte alphabet. */
    static String encode(int[] cps, int from, int to) {
        StringBuilder utf8 = new StringBuilder((to - from) * 2);
        for (int i = from; i < to; i++) utf8.appendCodePoint(cps[i]);
        byte[] bytes = utf8.toString().getBytes(StandardCharsets.UTF_8);
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) out[i] = charOf(bytes[i]);
        return new String(out);
    }
}
