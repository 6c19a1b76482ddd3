package jllm.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.PriorityQueue;

/**
 * Byte-level BPE (Sennrich et al. 2016; GPT-2, Radford et al. 2019) as llama.cpp runs it for
 * {@code tokenizer.ggml.model = gpt2} (its {@code llm_tokenizer_bpe}): the pre-tokenizer cuts the text into words;
 * each word's UTF-8 bytes are written in GPT-2's byte alphabet ({@link ByteLevel}); the word starts as one symbol per
 * character, and the adjacent pair of lowest merge rank (its line in {@code tokenizer.ggml.merges}; ties: leftmost)
 * merges first, until no adjacent pair has a rank. Each final symbol is emitted as its token.
 */
final class BytePairEncoder {
    private final Vocabulary vocab;
    private final StringIntMap ranks; // "left right" -> merge rank
    private final PreTokenizer preTokenizer;
    private final boolean ignoreMerges;

    BytePairEncoder(Vocabulary vocab, StringIntMap ranks, PreTokenizer preTokenizer, boolean ignoreMerges) {
        this.vocab = vocab;
        this.ranks = ranks;
        this.preTokenizer = preTokenizer;
        this.ignoreMerges = ignoreMerges;
    }

    /** The key of a merge in the rank map (llama.cpp asserts that BPE symbols never contain a space). */
    static String key(String left, String right) {
        return left + ' ' + right;
    }

    PreTokenizer preTokenizer() { return preTokenizer; }

    void encode(String text, IntList out) {
        int[] cps = text.codePoints().toArray();
        int pos = 0;
        for (int len : preTokenizer.split(cps)) {
            encodeWord(ByteLevel.encode(cps, pos, pos + len), out);
            pos += len;
        }
    }

    /** Merge candidate: adjacent symbols left and right, their concatenated text and its rank. */
    private record Bigram(int left, int right, String text, int rank) {}

    private void encodeWord(String word, IntList out) {
        if (word.isEmpty()) return;
        if (ignoreMerges) {
            int id = vocab.id(word);
            if (id >= 0) {
                out.add(id);
                return;
            }
        }
        int n = word.length(); // byte-alphabet characters are all in the BMP: one char per symbol
        int[] start = new int[n], len = new int[n], prev = new int[n], next = new int[n];
        for (int i = 0; i < n; i++) {
            start[i] = i;
            len[i] = 1;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>(Math.max(1, n),
                (a, b) -> a.rank != b.rank ? Integer.compare(a.rank, b.rank) : Integer.compare(a.left, b.left));
        for (int i = 1; i < n; i++) addBigram(word, start, len, i - 1, i, queue);
        while (!queue.isEmpty()) {
            Bigram bg = queue.poll();
            if (len[bg.left] == 0 || len[bg.right] == 0) continue;
            // stale if either side changed since the pair was queued
            if (len[bg.left] + len[bg.right] != bg.text.length()
                    || !word.regionMatches(start[bg.left], bg.text, 0, bg.text.length())
                    || start[bg.right] != start[bg.left] + len[bg.left]) {
                continue;
            }
            len[bg.left] += len[bg.right];
            len[bg.right] = 0;
            next[bg.left] = next[bg.right];
            if (next[bg.right] >= 0) prev[next[bg.right]] = bg.left;
            addBigram(word, start, len, prev[bg.left], bg.left, queue);
            addBigram(word, start, len, bg.left, next[bg.left], queue);
        }
        for (int i = 0; i != -1; i = next[i]) {
            String piece = word.substring(start[i], start[i] + len[i]);
            int id = vocab.id(piece);
            if (id >= 0) {
                out.add(id);
                continue;
            }
            // not a token (a merge whose result the vocabulary lacks): llama.cpp emits the tokens of those of the
            // piece's UTF-8 bytes that are one-character tokens, and drops the others
            for (byte b : piece.getBytes(StandardCharsets.UTF_8)) {
                if (b >= 0) {
                    int bt = vocab.id(String.valueOf((char) b));
                    if (bt >= 0) out.add(bt);
                }
            }
        }
    }

    private void addBigram(String word, int[] start, int[] len, int left, int right, PriorityQueue<Bigram> queue) {
        if (left < 0 || right < 0) return;
        String l = word.substring(start[left], start[left] + len[left]);
        String r = word.substring(start[right], start[right] + len[right]);
        int rank = ranks.get(key(l, r));
        if (rank < 0) return;
        queue.add(new Bigram(left, right, l + r, rank));
    }
}
