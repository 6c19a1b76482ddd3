package jllm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * {@link CodepointFlags} against llama.cpp's own tables for all 1,114,112 code points (golden/llamacpp-unicode.txt,
 * recorded by reference/tokenizer/unicode_harness.cpp from llama.cpp b4747). Exact wherever llama.cpp's table knows
 * the code point; the JDK's Unicode is newer, so code points that llama.cpp lists as unassigned may differ (5,185 of
 * them: scripts and symbols added in Unicode 16), and nowhere else.
 */
class CodepointFlagsTest {
    static final int N = Character.MAX_CODE_POINT + 1;

    @Test
    void sameTablesAsLlamaCppWhereItsUnicodeKnowsTheCodePoint() {
        int[] flags = new int[N];
        int[] nfd = new int[N];
        int[] lower = new int[N];
        for (int cp = 0; cp < N; cp++) nfd[cp] = lower[cp] = cp;
        List<int[]> starts = new ArrayList<>();
        for (String line : GoldenCases.resource("llamacpp-unicode.txt").lines().toList()) {
            String[] f = line.split(" ");
            switch (f[0]) {
                case "F" -> starts.add(new int[] {Integer.parseInt(f[1], 16), Integer.parseInt(f[2], 16)});
                case "N" -> {
                    for (int cp = Integer.parseInt(f[1], 16); cp <= Integer.parseInt(f[2], 16); cp++) nfd[cp] = Integer.parseInt(f[3], 16);
                }
                case "L" -> lower[Integer.parseInt(f[1], 16)] = Integer.parseInt(f[2], 16);
                default -> throw new IllegalStateException(line);
            }
        }
        for (int i = 0; i < starts.size(); i++) {
            int end = i + 1 < starts.size() ? starts.get(i + 1)[0] : N;
            for (int cp = starts.get(i)[0]; cp < end; cp++) flags[cp] = starts.get(i)[1];
        }
        Map<String, Integer> differences = new HashMap<>();
        for (int cp = 0; cp < N; cp++) {
            boolean unknownToLlamaCpp = flags[cp] == CodepointFlags.UNDEFINED;
            check(differences, "flags", cp, flags[cp], CodepointFlags.of(cp) & 0x1FF, unknownToLlamaCpp);
            check(differences, "nfd", cp, nfd[cp], CodepointFlags.nfdFirst(cp), unknownToLlamaCpp);
            check(differences, "lower", cp, lower[cp], CodepointFlags.toLower(cp), unknownToLlamaCpp);
        }
        // check() failed on any difference at a code point llama.cpp's (older) Unicode has assigned; these are the rest
        System.out.println("code points unassigned in llama.cpp's tables that the JDK assigns: " + differences);
    }

    private static void check(Map<String, Integer> differences, String what, int cp, int llama, int java, boolean unknown) {
        if (llama == java) return;
        assertTrue(unknown, () -> String.format("%s of U+%04X: llama.cpp %X, jllm %X", what, cp, llama, java));
        differences.merge(what, 1, Integer::sum);
    }

    @Test
    void whiteSpaceIsTheUnicodeProperty() {
        for (int cp : new int[] {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000}) {
            assertTrue(CodepointFlags.isWhitespace(cp), Integer.toHexString(cp));
        }
        for (int cp : new int[] {0x1C, 0x1F, 0x200B, 0x180E, 0xFEFF, 'a'}) {
            assertEquals(false, CodepointFlags.isWhitespace(cp), Integer.toHexString(cp));
        }
    }
}
