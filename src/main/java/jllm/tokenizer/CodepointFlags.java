package jllm.tokenizer;

import java.text.Normalizer;

/**
 * The per-code-point classes that llama.cpp's tokenizers test (its {@code unicode_cpt_flags}): one Unicode general
 * category group per code point, plus a white-space bit. The groups are those of the regex classes
 * {@code \p{N} \p{L} \p{P} \p{S} \p{M} \p{Z} \p{C}}; unassigned code points are {@link #UNDEFINED}.
 *
 * <p>Categories come from the JDK's Unicode tables ({@link Character#getType(int)}); llama.cpp generates its table
 * from UnicodeData.txt the same way (scripts/gen-unicode-data.py), so the two agree wherever the Unicode versions
 * agree. White space is the Unicode {@code White_Space} property (PropList.txt), which is not what
 * {@link Character#isWhitespace} tests: it includes U+0085, U+00A0, U+2007, U+202F and excludes U+001C..U+001F.
 *
 * <p>Also here: the simple lower-case mapping and the first code point of the canonical decomposition (NFD),
 * which llama.cpp's WordPiece pre-processing uses.
 */
final class CodepointFlags {
    static final int UNDEFINED = 0x0001;
    static final int NUMBER = 0x0002;      // \p{N}
    static final int LETTER = 0x0004;      // \p{L}
    static final int SEPARATOR = 0x0008;   // \p{Z}
    static final int MARK = 0x0010;        // \p{M}
    static final int PUNCTUATION = 0x0020; // \p{P}
    static final int SYMBOL = 0x0040;      // \p{S}
    static final int CONTROL = 0x0080;     // \p{C}
    static final int CATEGORIES = 0x00FF;
    static final int WHITESPACE = 0x0100;  // \s (Unicode White_Space)

    /** Flags of the Basic Multilingual Plane, precomputed; other planes are computed on demand. */
    private static final short[] BMP = new short[0x10000];

    static {
        for (int cp = 0; cp < BMP.length; cp++) BMP[cp] = (short) compute(cp);
    }

    private CodepointFlags() {}

    /** The flags of {@code cp}; 0 for a value that is not a code point. */
    static int of(int cp) {
        if (cp >= 0 && cp < BMP.length) return BMP[cp] & 0xFFFF;
        if (cp < 0 || cp > Character.MAX_CODE_POINT) return 0;
        return compute(cp);
    }

    static boolean isWhitespace(int cp) {
        return switch (cp) {
            case 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000 -> true;
            default -> cp >= 0x2000 && cp <= 0x200A;
        };
    }

    private static int compute(int cp) {
        int category = switch (Character.getType(cp)) {
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> NUMBER;
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER -> LETTER;
            case Character.SPACE_SEPARATOR, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> SEPARATOR;
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK -> MARK;
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                 Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION,
                 Character.OTHER_PUNCTUATION -> PUNCTUATION;
            case Character.MATH_SYMBOL, Character.CURRENCY_SYMBOL, Character.MODIFIER_SYMBOL,
                 Character.OTHER_SYMBOL -> SYMBOL;
            case Character.CONTROL, Character.FORMAT, Character.PRIVATE_USE, Character.SURROGATE -> CONTROL;
            default -> UNDEFINED;
        };
        return category | (isWhitespace(cp) ? WHITESPACE : 0);
    }

    static boolean isLetter(int flags) { return (flags & LETTER) != 0; }
    static boolean isNumber(int flags) { return (flags & NUMBER) != 0; }
    static boolean isSpace(int flags) { return (flags & WHITESPACE) != 0; }

    /** The simple (one-to-one) lower-case mapping of UnicodeData.txt. */
    static int toLower(int cp) {
        return Character.toLowerCase(cp);
    }

    /** The first code point of {@code cp}'s canonical decomposition (llama.cpp keeps only that one). */
    static int nfdFirst(int cp) {
        if (cp < 0xC0) return cp; // nothing below U+00C0 decomposes
        String s = Character.toString(cp);
        String d = Normalizer.normalize(s, Normalizer.Form.NFD);
        return d.codePointAt(0);
    }
}
