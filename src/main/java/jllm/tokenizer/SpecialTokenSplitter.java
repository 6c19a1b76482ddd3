package jllm.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.List;

/**
 * Cuts special tokens out of raw text before the tokenizer proper runs (llama.cpp's
 * {@code tokenizer_st_partition}). The candidates are the CONTROL, USER_DEFINED and UNKNOWN tokens, longest text
 * first (ties by id). Each candidate in turn splits every remaining text fragment at each of its occurrences,
 * left to right. Without {@code parseSpecial} only USER_DEFINED tokens are cut out (as Hugging Face tokenizers
 * do with added tokens). A token marked lstrip (rstrip) also eats the ASCII white space to its left (right).
 */
final class SpecialTokenSplitter {
    /** A piece of the input: raw text [start, end), or the special token {@code token} (then start == end). */
    record Fragment(int start, int end, int token) {
        boolean isText() { return token < 0; }
    }

    private final Vocabulary vocab;
    private final int[] candidates; // longest text first
    private final boolean[] lstrip;
    private final boolean[] rstrip;

    SpecialTokenSplitter(Vocabulary vocab, boolean[] lstrip, boolean[] rstrip) {
        this.vocab = vocab;
        this.lstrip = lstrip;
        this.rstrip = rstrip;
        Integer[] c = new Integer[0];
        List<Integer> ids = new ArrayList<>();
        for (int id = 0; id < vocab.size(); id++) if (vocab.type(id).isSpecial()) ids.add(id);
        c = ids.toArray(c);
        Arrays.sort(c, Comparator.comparingInt((Integer id) -> -vocab.text(id).length()).thenComparingInt(id -> id));
        this.candidates = new int[c.length];
        for (int i = 0; i < c.length; i++) candidates[i] = c[i];
    }

    List<Fragment> split(String text, boolean parseSpecial) {
        List<Fragment> fragments = new ArrayList<>();
        if (text.isEmpty()) return fragments;
        fragments.add(new Fragment(0, text.length(), -1));
        BitSet present = new BitSet(128); // the chars of the text: a cheap test that skips most candidates
        for (int i = 0; i < text.length(); i++) present.set(text.charAt(i));
        for (int id : candidates) {
            TokenType type = vocab.type(id);
            if (!parseSpecial && type != TokenType.USER_DEFINED) continue;
            String special = vocab.text(id);
            if (!present.get(special.charAt(0))) continue;
            List<Fragment> next = null;
            for (int f = 0; f < fragments.size(); f++) {
                Fragment frag = fragments.get(f);
                int at = frag.isText() ? text.indexOf(special, frag.start(), frag.end()) : -1;
                if (at < 0 || at + special.length() > frag.end()) {
                    if (next != null) next.add(frag);
                    continue;
                }
                if (next == null) next = new ArrayList<>(fragments.subList(0, f));
                int pos = frag.start();
                while (at >= 0 && at + special.length() <= frag.end()) {
                    int leftEnd = at;
                    if (lstrip[id]) while (leftEnd > pos && isSpace(text.charAt(leftEnd - 1))) leftEnd--;
                    if (leftEnd > pos) next.add(new Fragment(pos, leftEnd, -1));
                    next.add(new Fragment(at, at, id));
                    pos = at + special.length();
                    if (rstrip[id]) while (pos < frag.end() && isSpace(text.charAt(pos))) pos++;
                    at = text.indexOf(special, pos, frag.end());
                }
                if (pos < frag.end()) next.add(new Fragment(pos, frag.end(), -1));
            }
            if (next != null) fragments = next;
        }
        return fragments;
    }

    /** C's isspace in the "C" locale, which llama.cpp uses for lstrip/rstrip. */
    private static boolean isSpace(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }
}
