package jllm.tokenizer;

import java.util.Objects;

/**
 * A tokenizer's vocabulary: each token id's text, score and type, and the reverse map from text to id
 * (GGUF keys {@code tokenizer.ggml.tokens}, {@code .scores}, {@code .token_type}). When two ids share a text,
 * the text maps to the later id, as in llama.cpp.
 */
public final class Vocabulary {
    private final String[] texts;
    private final float[] scores;
    private final TokenType[] types;
    private final StringIntMap ids;
    private final int maxTokenChars;

    /** {@code scores} may be null (all 0); {@code types} may be null (all NORMAL). Arrays are copied. */
    public Vocabulary(String[] texts, float[] scores, TokenType[] types) {
        Objects.requireNonNull(texts, "texts");
        if (scores != null && scores.length != texts.length) {
            throw new IllegalArgumentException(scores.length + " scores for " + texts.length + " tokens");
        }
        if (types != null && types.length != texts.length) {
            throw new IllegalArgumentException(types.length + " token types for " + texts.length + " tokens");
        }
        int n = texts.length;
        this.texts = new String[n];
        this.scores = scores == null ? new float[n] : scores.clone();
        this.types = new TokenType[n];
        this.ids = new StringIntMap(n);
        int max = 0;
        for (int i = 0; i < n; i++) {
            // llama.cpp gives an empty token a placeholder text, so that no token matches the empty string
            String t = texts[i] == null || texts[i].isEmpty() ? "[EMPTY_" + i + "]" : texts[i];
            this.texts[i] = t;
            this.types[i] = types == null ? TokenType.NORMAL : Objects.requireNonNull(types[i], "type of token " + i);
            ids.put(t, i);
            max = Math.max(max, t.length());
        }
        this.maxTokenChars = max;
    }

    public int size() { return texts.length; }

    public String text(int id) { return texts[check(id)]; }

    public float score(int id) { return scores[check(id)]; }

    public TokenType type(int id) { return types[check(id)]; }

    /** The id of the token whose text is {@code text}, or -1. */
    public int id(String text) {
        return ids.get(text);
    }

    /** The longest token text, in UTF-16 chars. */
    int maxTokenChars() { return maxTokenChars; }

    /** Re-types a token (llama.cpp forces end-of-generation tokens found by their text to CONTROL). */
    void retype(int id, TokenType type) { types[check(id)] = type; }

    int check(int id) {
        if (id < 0 || id >= texts.length) {
            throw new IllegalArgumentException("token id " + id + " is out of range (vocabulary has " + texts.length + " tokens)");
        }
        return id;
    }
}
