package jllm.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits text into the words that byte-level BPE merges inside, with the regex list that llama.cpp
 * (src/llama-vocab.cpp, {@code llm_tokenizer_bpe}) chooses by the GGUF key {@code tokenizer.ggml.pre}, and with the
 * semantics of its {@code unicode_regex_split} (src/unicode.cpp):
 * <ul>
 *   <li>The regexes apply one after another; each splits every piece the previous ones made, and the text
 *       between two matches is kept as a piece of its own (nothing is ever dropped).</li>
 *   <li>The GPT-2 regex and the Llama-3 regex (also in its {@code (?i:...)}-free spelling) are hand-written
 *       scanners in llama.cpp, whose edge cases differ slightly from a regex engine; they are re-implemented
 *       here as scanners with the same rules ({@link #gpt2}, {@link #llama3}).</li>
 *   <li>Any other regex that uses {@code \p{N} \p{L} \p{P} \p{S} \p{M}} runs on a "collapsed" copy of the text in
 *       which each code point at or above U+0080 becomes one stand-in character for its class (0xD1 number,
 *       0xD2 letter, 0xD3 punctuation, 0xD4 mark, 0xD5 symbol, 0xD0 other, 0x0B white space), and each class
 *       {@code \p{X}} becomes {@code [<stand-in><the ASCII members of X>]}. Regexes without classes run on the code
 *       points themselves, with non-ASCII white space replaced by 0x0B (so that {@code \s} matches it).</li>
 * </ul>
 * Java's regex engine matches like ECMAScript's here (leftmost alternative first, the same look-ahead), except
 * that {@code $} may also match before a final line terminator; it is translated to {@code \z}.
 */
final class PreTokenizer {
    /** GPT-2's pattern, exactly as llama.cpp spells it (the string selects the hand-written scanner). */
    static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
    /** Llama 3's pattern, in llama.cpp's spelling without the case-insensitive group. */
    static final String LLAMA3 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
            + "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** Llama 3's pattern as its tokenizer.json writes it; llama.cpp maps it to the same scanner. */
    static final String LLAMA3_ORIGINAL = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final String QWEN2 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
            + "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private static final int OUT = -1; // "no code point here" (outside the piece being scanned)

    private final String name;
    private final List<Rule> rules;

    PreTokenizer(String name, List<String> regexes) {
        this.name = name;
        List<Rule> r = new ArrayList<>();
        for (String regex : regexes) r.add(rule(regex));
        this.rules = List.copyOf(r);
    }

    String name() { return name; }

    /** Splits {@code cps}; returns the pieces' lengths in code points, in order (they sum to cps.length). */
    int[] split(int[] cps) {
        Text text = new Text(cps);
        IntList offsets = new IntList(1);
        if (cps.length > 0) offsets.add(cps.length);
        for (Rule rule : rules) offsets = rule.apply(text, offsets);
        return offsets.toArray();
    }

    // ---- the rules ----

    private interface Rule {
        IntList apply(Text text, IntList offsets);
    }

    private static Rule rule(String regex) {
        if (regex.equals(GPT2)) return PreTokenizer::gpt2;
        if (regex.equals(LLAMA3) || regex.equals(LLAMA3_ORIGINAL)) return PreTokenizer::llama3;
        return new RegexRule(regex);
    }

    /** A view of one piece [start, end) of the code points: outside it there is nothing (flags 0). */
    private static final class Piece {
        final int[] cps;
        final int start, end;
        int prevEnd;
        final IntList out;

        Piece(int[] cps, int start, int end, IntList out) {
            this.cps = cps;
            this.start = start;
            this.end = end;
            this.prevEnd = start;
            this.out = out;
        }

        int cp(int pos) { return pos >= start && pos < end ? cps[pos] : OUT; }
        int flags(int pos) { return pos >= start && pos < end ? CodepointFlags.of(cps[pos]) : 0; }

        /** Ends the current word at {@code end}; returns its length. */
        int emit(int until) {
            int len = until - prevEnd;
            if (len > 0) out.add(len);
            prevEnd = until;
            return len;
        }
    }

    /** llama.cpp's scanner for GPT2 above; {@code \s+} (not in the pattern) takes white space nothing else takes. */
    static IntList gpt2(Text text, IntList offsets) {
        IntList out = new IntList(offsets.size() * 4);
        int start = 0;
        for (int o = 0; o < offsets.size(); o++) {
            Piece p = new Piece(text.cps, start, start + offsets.get(o), out);
            start += offsets.get(o);
            for (int pos = p.start; pos < p.end; ) {
                int cp = p.cp(pos);
                int flags = p.flags(pos);
                // 's|'t|'re|'ve|'m|'ll|'d
                if (cp == '\'' && pos + 1 < p.end) {
                    int next = p.cp(pos + 1);
                    if (next == 's' || next == 't' || next == 'm' || next == 'd') {
                        pos += p.emit(pos + 2);
                        continue;
                    }
                    if (pos + 2 < p.end) {
                        int next2 = p.cp(pos + 2);
                        if ((next == 'r' && next2 == 'e') || (next == 'v' && next2 == 'e') || (next == 'l' && next2 == 'l')) {
                            pos += p.emit(pos + 3);
                            continue;
                        }
                    }
                }
                int flags2 = cp == ' ' ? p.flags(pos + 1) : flags;
                if (CodepointFlags.isLetter(flags2)) { // ' ?\p{L}+'
                    if (cp == ' ') pos++;
                    while (CodepointFlags.isLetter(flags2)) flags2 = p.flags(++pos);
                    p.emit(pos);
                    continue;
                }
                if (CodepointFlags.isNumber(flags2)) { // ' ?\p{N}+'
                    if (cp == ' ') pos++;
                    while (CodepointFlags.isNumber(flags2)) flags2 = p.flags(++pos);
                    p.emit(pos);
                    continue;
                }
                if (isOther(flags2)) { // ' ?[^\s\p{L}\p{N}]+'
                    if (cp == ' ') pos++;
                    while (isOther(flags2)) flags2 = p.flags(++pos);
                    p.emit(pos);
                    continue;
                }
                int spaces = 0;
                while (CodepointFlags.isSpace(p.flags(pos + spaces))) spaces++;
                if (spaces > 1 && p.cp(pos + spaces) != OUT) { // '\s+(?!\S)': leave the last space to the next word
                    pos += spaces - 1;
                    p.emit(pos);
                    continue;
                }
                if (spaces > 0) { // '\s+'
                    pos += spaces;
                    p.emit(pos);
                    continue;
                }
                p.emit(++pos); // no match: a piece of one code point
            }
        }
        return out;
    }

    /** Neither white space, letter nor number, and inside the piece. */
    private static boolean isOther(int flags) {
        return flags != 0 && (flags & (CodepointFlags.WHITESPACE | CodepointFlags.LETTER | CodepointFlags.NUMBER)) == 0;
    }

    /** llama.cpp's scanner for LLAMA3 above. */
    static IntList llama3(Text text, IntList offsets) {
        IntList out = new IntList(offsets.size() * 4);
        int start = 0;
        for (int o = 0; o < offsets.size(); o++) {
            Piece p = new Piece(text.cps, start, start + offsets.get(o), out);
            start += offsets.get(o);
            for (int pos = p.start; pos < p.end; ) {
                int cp = p.cp(pos);
                int flags = p.flags(pos);
                // (?i:'s|'t|'re|'ve|'m|'ll|'d)
                if (cp == '\'' && pos + 1 < p.end) {
                    int next = CodepointFlags.toLower(p.cp(pos + 1));
                    if (next == 's' || next == 't' || next == 'm' || next == 'd') {
                        pos += p.emit(pos + 2);
                        continue;
                    }
                    if (pos + 2 < p.end) {
                        int next2 = CodepointFlags.toLower(p.cp(pos + 2));
                        if ((next == 'r' && next2 == 'e') || (next == 'v' && next2 == 'e') || (next == 'l' && next2 == 'l')) {
                            pos += p.emit(pos + 3);
                            continue;
                        }
                    }
                }
                // [^\r\n\p{L}\p{N}]?\p{L}+
                if (!(cp == '\r' || cp == '\n' || CodepointFlags.isNumber(flags))) {
                    if (CodepointFlags.isLetter(flags) || CodepointFlags.isLetter(p.flags(pos + 1))) {
                        pos++;
                        while (CodepointFlags.isLetter(p.flags(pos))) pos++;
                        p.emit(pos);
                        continue;
                    }
                }
                // \p{N}{1,3}
                if (CodepointFlags.isNumber(flags)) {
                    int first = pos;
                    while (CodepointFlags.isNumber(p.flags(pos))) {
                        if (++pos - first >= 3) {
                            p.emit(pos);
                            first = pos;
                        }
                    }
                    p.emit(pos);
                    continue;
                }
                // ' ?[^\s\p{L}\p{N}]+[\r\n]*' (the test of the first code point is on flags, as in llama.cpp)
                int flags2 = cp == ' ' ? p.flags(pos + 1) : flags;
                if ((flags2 & (CodepointFlags.WHITESPACE | CodepointFlags.LETTER | CodepointFlags.NUMBER)) == 0 && flags != 0) {
                    if (cp == ' ') pos++;
                    while (isOther(flags2)) flags2 = p.flags(++pos);
                    int cp2 = p.cp(pos);
                    while (cp2 == '\r' || cp2 == '\n') cp2 = p.cp(++pos);
                    p.emit(pos);
                    continue;
                }
                int spaces = 0;
                int lastLineEnd = 0;
                while (CodepointFlags.isSpace(p.flags(pos + spaces))) {
                    int cp2 = p.cp(pos + spaces);
                    if (cp2 == '\r' || cp2 == '\n') lastLineEnd = pos + spaces + 1;
                    spaces++;
                }
                if (lastLineEnd > 0) { // \s*[\r\n]+
                    pos = lastLineEnd;
                    p.emit(pos);
                    continue;
                }
                if (spaces > 1 && p.cp(pos + spaces) != OUT) { // \s+(?!\S)
                    pos += spaces - 1;
                    p.emit(pos);
                    continue;
                }
                if (spaces > 0) { // \s+
                    pos += spaces;
                    p.emit(pos);
                    continue;
                }
                p.emit(++pos);
            }
        }
        return out;
    }

    /** Any other regex, run by java.util.regex on the collapsed text or on the code points. */
    private static final class RegexRule implements Rule {
        private final Pattern pattern;
        private final boolean collapsed;

        RegexRule(String regex) {
            this.collapsed = usesClasses(regex);
            if (collapsed) {
                for (int i = 0; i < regex.length(); i++) {
                    if (regex.charAt(i) >= 0x80) {
                        throw new IllegalArgumentException("regex mixes Unicode classes and non-ASCII characters: " + regex);
                    }
                }
            }
            this.pattern = Pattern.compile(translate(regex, collapsed));
        }

        @Override
        public IntList apply(Text text, IntList offsets) {
            IntList out = new IntList(offsets.size() * 4);
            String s = collapsed ? text.collapsed() : text.wide();
            Matcher m = pattern.matcher(s);
            int start = 0; // in code points
            for (int o = 0; o < offsets.size(); o++) {
                int len = offsets.get(o);
                int from = collapsed ? start : text.charIndex(start);
                int to = collapsed ? start + len : text.charIndex(start + len);
                m.region(from, to);
                int last = from;
                while (m.find()) {
                    if (m.start() > last) out.add(length(text, last, m.start()));
                    if (m.end() > m.start()) out.add(length(text, m.start(), m.end()));
                    last = m.end();
                }
                if (last < to) out.add(length(text, last, to));
                start += len;
            }
            return out;
        }

        private int length(Text text, int fromChar, int toChar) {
            return collapsed ? toChar - fromChar : text.cpIndex(toChar) - text.cpIndex(fromChar);
        }
    }

    private static final String[] CLASSES = {"\\p{N}", "\\p{L}", "\\p{P}", "\\p{M}", "\\p{S}"};

    static boolean usesClasses(String regex) {
        for (String c : CLASSES) if (regex.contains(c)) return true;
        return false;
    }

    /**
     * The Java pattern for a llama.cpp regex: on the collapsed text each {@code \p{X}} becomes its stand-in plus
     * the ASCII members of X (bracketed unless already inside a class); {@code $} outside a class becomes
     * {@code \z}.
     */
    static String translate(String regex, boolean collapsed) {
        StringBuilder sb = new StringBuilder(regex.length() * 2);
        boolean inside = false;
        for (int i = 0; i < regex.length(); i++) {
            char c = regex.charAt(i);
            if (c == '[') { // escaped brackets never get here: escape pairs are copied whole below
                inside = true;
                sb.append(c);
                continue;
            }
            if (c == ']' && inside) {
                inside = false;
                sb.append(c);
                continue;
            }
            if (c == '\\' && i + 1 < regex.length()) {
                if (collapsed && regex.startsWith("\\p{", i) && i + 4 < regex.length() && regex.charAt(i + 4) == '}') {
                    String members = classMembers(regex.charAt(i + 3));
                    if (members != null) {
                        sb.append(inside ? "" : "[").append(members).append(inside ? "" : "]");
                        i += 4;
                        continue;
                    }
                }
                sb.append(c).append(regex.charAt(++i)); // keep an escape pair together
                continue;
            }
            if (c == '$' && !inside) {
                sb.append("\\z");
                continue;
            }
            sb.append(c);
        }
        return sb.toString();
    }

    /** Stand-in character and ASCII members of a class on the collapsed text (llama.cpp's k_ucat_map). */
    private static String classMembers(char cls) {
        return switch (cls) {
            case 'N' -> "\u00D10-9";
            case 'L' -> "\u00D2A-Za-z";
            case 'P' -> "\u00D3!-#%-*,-/:-;?-@\\[-\\]_\\{\\}";
            case 'M' -> "\u00D4";
            case 'S' -> "\u00D5\\$\\+<->\\^`\\|";
            default -> null;
        };
    }

    /** The text being split: its code points and, built when first needed, the two strings regexes run on. */
    static final class Text {
        final int[] cps;
        private String collapsed;
        private String wide;
        private int[] charOfCp; // char index of each code point in wide, plus the end
        private int[] cpOfChar; // code point index of each char in wide, plus the end

        Text(int[] cps) { this.cps = cps; }

        String collapsed() {
            if (collapsed == null) {
                char[] c = new char[cps.length];
                for (int i = 0; i < cps.length; i++) c[i] = collapse(cps[i]);
                collapsed = new String(c);
            }
            return collapsed;
        }

        String wide() {
            if (wide == null) {
                StringBuilder sb = new StringBuilder(cps.length + 16);
                charOfCp = new int[cps.length + 1];
                for (int i = 0; i < cps.length; i++) {
                    charOfCp[i] = sb.length();
                    int cp = cps[i];
                    sb.appendCodePoint(cp > 0x7F && CodepointFlags.isWhitespace(cp) ? 0x0B : cp);
                }
                charOfCp[cps.length] = sb.length();
                cpOfChar = new int[sb.length() + 1];
                for (int i = 0; i < cps.length; i++) {
                    for (int k = charOfCp[i]; k < charOfCp[i + 1]; k++) cpOfChar[k] = i;
                }
                cpOfChar[sb.length()] = cps.length;
                wide = sb.toString();
            }
            return wide;
        }

        int charIndex(int cpIndex) { wide(); return charOfCp[cpIndex]; }
        int cpIndex(int charIndex) { wide(); return cpOfChar[charIndex]; }

        private static char collapse(int cp) {
            if (cp < 0x80) return (char) cp;
            int flags = CodepointFlags.of(cp);
            if ((flags & CodepointFlags.WHITESPACE) != 0) return 0x0B;
            return switch (flags & CodepointFlags.CATEGORIES) {
                case CodepointFlags.NUMBER -> 0xD1;
                case CodepointFlags.LETTER -> 0xD2;
                case CodepointFlags.PUNCTUATION -> 0xD3;
                case CodepointFlags.MARK -> 0xD4;
                case CodepointFlags.SYMBOL -> 0xD5;
                default -> 0xD0;
            };
        }
    }

    @Override
    public String toString() {
        return "PreTokenizer[" + name.toLowerCase(Locale.ROOT) + ", " + rules.size() + " rules]";
    }
}
