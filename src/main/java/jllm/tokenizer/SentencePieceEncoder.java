package jllm.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.PriorityQueue;

/**
 * SentencePiece's BPE encoding as llama.cpp runs it for {@code tokenizer.ggml.model = llama} (its
 * {@code llm_tokenizer_spm}; Kudo and Richardson 2018, "SentencePiece"): spaces become U+2581 ("▁"), the text
 * starts as one symbol per code point, and the adjacent pair whose concatenation is the vocabulary token of
 * highest score merges first (ties: leftmost), until no adjacent pair forms a token. A final symbol is emitted as its
 * token; a code point that is no token falls back to its UTF-8 bytes as the tokens {@code <0xXX>}.
 */
final class SentencePieceEncoder {
    static final char SPACE = '\u2581';

    private final Vocabulary vocab;
    private final int[] byteTokens = new int[256]; // -1 where the vocabulary has no token for a byte
    private final int unk;

    SentencePieceEncoder(Vocabulary vocab, int unk) {
        this.vocab = vocab;
        this.unk = unk;
        for (int b = 0; b < 256; b++) {
            int id = vocab.id(String.format("<0x%02X>", b));
            // llama.cpp falls back to the byte itself as a one-char token (only ASCII can be one)
            if (id < 0 && b < 0x80) id = vocab.id(String.valueOf((char) b));
            byteTokens[b] = id;
        }
    }

    /** Merge candidate: symbols left and right (adjacent), the score of their concatenation, its length. */
    private record Bigram(int left, int right, float score, int size) {}

    /** Encodes {@code text} (raw; spaces not yet escaped), with a leading space when {@code spacePrefix}. */
    void encode(String text, boolean spacePrefix, IntList out) {
        String s = ((spacePrefix ? " " : "") + text).replace(' ', SPACE);
        int n = s.codePointCount(0, s.length());
        if (n == 0) return;
        int[] start = new int[n], len = new int[n], prev = new int[n], next = new int[n];
        for (int i = 0, c = 0; i < n; i++) {
            int cp = s.codePointAt(c);
            start[i] = c;
            len[i] = Character.charCount(cp);
            c += len[i];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>(Math.max(1, n),
                (a, b) -> a.score != b.score ? Float.compare(b.score, a.score) : Integer.compare(a.left, b.left));
        for (int i = 1; i < n; i++) addBigram(s, start, len, i - 1, i, queue);
        while (!queue.isEmpty()) {
            Bigram bg = queue.poll();
            // stale: one side was merged away, or the left side grew since the pair was queued
            if (len[bg.left] == 0 || len[bg.right] == 0 || len[bg.left] + len[bg.right] != bg.size) continue;
            len[bg.left] += len[bg.right];
            len[bg.right] = 0;
            next[bg.left] = next[bg.right];
            if (next[bg.right] >= 0) prev[next[bg.right]] = bg.left;
            addBigram(s, start, len, prev[bg.left], bg.left, queue);
            addBigram(s, start, len, bg.left, next[bg.left], queue);
        }
        for (int i = 0; i != -1; i = next[i]) {
            String piece = s.substring(start[i], start[i] + len[i]);
            int id = vocab.id(piece);
            if (id >= 0) {
                out.add(id);
                continue;
            }
            for (byte b : piece.getBytes(StandardCharsets.UTF_8)) {
                int bt = byteTokens[b & 0xFF];
                if (bt >= 0) {
                    out.add(bt);
                } else if (unk >= 0) {
                    out.add(unk); // llama.cpp would fail here; SentencePiece without byte fallback emits <unk>
                } else {
                    throw new IllegalStateException("the vocabulary has neither a token for byte 0x"
                            + Integer.toHexString(b & 0xFF) + " nor an unknown token");
                }
            }
        }
    }

    private void addBigram(String s, int[] start, int[] len, int left, int right, PriorityQueue<Bigram> queue) {
        if (left < 0 || right < 0) return;
        int size = len[left] + len[right];
        int id = vocab.id(s.substring(start[left], start[left] + size));
        if (id < 0) return;
        queue.add(new Bigram(left, right, vocab.score(id), size));
    }
}
