package jllm.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A plain, slow byte-level BPE written apart from {@link BpeTrainer} and {@link BytePairEncoder}, as the reference
 * they are checked against: GPT-2's byte alphabet computed again here; training recounts every pair of every word at
 * each step and merges the most frequent (ties: smaller left id, then smaller right id) everywhere; encoding
 * applies merges greedily by rank (GPT-2's {@code bpe()}: the adjacent pair of lowest rank, all its occurrences left
 * to right, until no pair has a rank). Only the split into words is shared: jllm's {@link PreTokenizer}, which the
 * golden-file tests of the tokenizer package check against llama.cpp.
 */
final class ReferenceBpe {
    private ReferenceBpe() {}

    /** GPT-2's bytes_to_unicode: printable bytes map to themselves, the others to 256, 257, ... in byte order. */
    static char[] byteChars() {
        char[] map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean keep = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
            map[b] = keep ? (char) b : (char) next++;
        }
        return map;
    }

    static String byteLevel(String s) {
        char[] map = byteChars();
        StringBuilder sb = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) sb.append(map[b & 0xFF]);
        return sb.toString();
    }

    /** The words of text (specials cut out, each span split by the pre-tokenizer), in the byte alphabet. */
    static List<String> words(String text, String pre, List<String> specials) {
        PreTokenizer p = BpePreset.forName(pre).preTokenizer();
        List<String> spans = new ArrayList<>();
        if (specials.isEmpty()) {
            spans.add(text);
        } else {
            List<String> longestFirst = new ArrayList<>(specials);
            longestFirst.sort(Comparator.comparingInt(String::length).reversed());
            StringBuilder alt = new StringBuilder();
            for (String s : longestFirst) alt.append(alt.isEmpty() ? "" : "|").append(Pattern.quote(s));
            Matcher m = Pattern.compile(alt.toString()).matcher(text);
            int last = 0;
            while (m.find()) {
                spans.add(text.substring(last, m.start()));
                last = m.end();
            }
            spans.add(text.substring(last));
        }
        List<String> out = new ArrayList<>();
        for (String span : spans) {
            int[] cps = span.codePoints().toArray();
            int pos = 0;
            for (int len : p.split(cps)) {
                out.add(byteLevel(new String(cps, pos, len)));
                pos += len;
            }
        }
        return out;
    }

    /** Trained merges and token texts (bytes, then merged tokens; no specials). */
    record Trained(List<String> merges, List<String> tokens) {}

    static Trained train(List<String> docs, String pre, List<String> specials, int target, long minFrequency) {
        Map<String, Long> counts = new HashMap<>();
        for (String d : docs) for (String w : words(d, pre, specials)) counts.merge(w, 1L, Long::sum);
        char[] map = byteChars();
        int[] byteOf = new int[512];
        for (int b = 0; b < 256; b++) byteOf[map[b]] = b;
        List<String> tokens = new ArrayList<>();
        Map<String, Integer> ids = new HashMap<>();
        for (int b = 0; b < 256; b++) {
            tokens.add(String.valueOf(map[b]));
            ids.put(tokens.get(b), b);
        }
        List<int[]> words = new ArrayList<>();
        List<Long> wordCounts = new ArrayList<>();
        for (Map.Entry<String, Long> e : counts.entrySet()) {
            int[] s = new int[e.getKey().length()];
            for (int i = 0; i < s.length; i++) s[i] = byteOf[e.getKey().charAt(i)];
            words.add(s);
            wordCounts.add(e.getValue());
        }
        List<String> merges = new ArrayList<>();
        while (tokens.size() < target) {
            Map<Long, Long> pairs = new HashMap<>();
            for (int w = 0; w < words.size(); w++) {
                int[] s = words.get(w);
                for (int i = 0; i + 1 < s.length; i++) pairs.merge(((long) s[i] << 32) | s[i + 1], wordCounts.get(w), Long::sum);
            }
            long bestKey = -1, bestCount = 0;
            for (Map.Entry<Long, Long> e : pairs.entrySet()) {
                long c = e.getValue(), k = e.getKey();
                // (left, right) order is the order of the key, as both ids are non-negative
                if (c > bestCount || (c == bestCount && k < bestKey)) {
                    bestCount = c;
                    bestKey = k;
                }
            }
            if (bestKey < 0 || bestCount < minFrequency) break;
            int l = (int) (bestKey >>> 32), r = (int) bestKey;
            merges.add(tokens.get(l) + " " + tokens.get(r));
            String joined = tokens.get(l) + tokens.get(r);
            Integer id = ids.get(joined);
            if (id == null) {
                id = tokens.size();
                tokens.add(joined);
                ids.put(joined, id);
            }
            for (int w = 0; w < words.size(); w++) words.set(w, mergeAll(words.get(w), l, r, id));
        }
        return new Trained(merges, tokens);
    }

    private static int[] mergeAll(int[] s, int l, int r, int c) {
        int[] t = new int[s.length];
        int m = 0;
        for (int i = 0; i < s.length; ) {
            if (i + 1 < s.length && s[i] == l && s[i + 1] == r) {
                t[m++] = c;
                i += 2;
            } else {
                t[m++] = s[i++];
            }
        }
        return java.util.Arrays.copyOf(t, m);
    }

    /** Encodes text with merges applied greedily by rank; {@code ignoreMerges}: a word that is a token is that token. */
    static List<Integer> encode(String text, String pre, String[] tokens, String[] mergeLines, boolean ignoreMerges) {
        Map<String, Integer> vocab = new HashMap<>();
        for (int i = 0; i < tokens.length; i++) vocab.put(tokens[i], i);
        Map<String, Integer> rank = new HashMap<>();
        for (int i = 0; i < mergeLines.length; i++) rank.putIfAbsent(mergeLines[i], i);
        List<Integer> ids = new ArrayList<>();
        for (String word : words(text, pre, List.of())) {
            if (ignoreMerges && vocab.containsKey(word)) {
                ids.add(vocab.get(word));
                continue;
            }
            List<String> sym = new ArrayList<>();
            for (char ch : word.toCharArray()) sym.add(String.valueOf(ch));
            while (sym.size() > 1) {
                int best = Integer.MAX_VALUE;
                String bl = null, br = null;
                for (int i = 0; i + 1 < sym.size(); i++) {
                    Integer k = rank.get(sym.get(i) + " " + sym.get(i + 1));
                    if (k != null && k < best) {
                        best = k;
                        bl = sym.get(i);
                        br = sym.get(i + 1);
                    }
                }
                if (bl == null) break;
                List<String> next = new ArrayList<>();
                for (int i = 0; i < sym.size(); ) {
                    if (i + 1 < sym.size() && sym.get(i).equals(bl) && sym.get(i + 1).equals(br)) {
                        next.add(bl + br);
                        i += 2;
                    } else {
                        next.add(sym.get(i++));
                    }
                }
                sym = next;
            }
            for (String s : sym) {
                Integer id = vocab.get(s);
                if (id == null) throw new AssertionError("symbol '" + s + "' is not a token");
                ids.add(id);
            }
        }
        return ids;
    }
}
