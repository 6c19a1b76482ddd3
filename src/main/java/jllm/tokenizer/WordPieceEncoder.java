package jllm.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * WordPiece (Wu et al. 2016; BERT, Devlin et al. 2019) as llama.cpp runs it for {@code tokenizer.ggml.model = bert}
 * (its {@code llm_tokenizer_wpm}). llama.cpp's BERT vocabularies mark a word's first piece with a leading "▁"
 * instead of marking continuations with "##".
 * <ol>
 *   <li>Pre-processing: each code point is replaced by the first code point of its canonical decomposition (which
 *       drops accents: "é" becomes "e") and lower-cased; white space separates words; U+0000, U+FFFD and control
 *       characters vanish; punctuation, ASCII symbols and CJK ideographs are words of their own.</li>
 *   <li>Each word, prefixed with "▁", is cut greedily into the longest vocabulary tokens from the left; a word with
 *       an uncuttable rest becomes the unknown token.</li>
 * </ol>
 */
final class WordPieceEncoder {
    private final Vocabulary vocab;
    private final int unk;

    WordPieceEncoder(Vocabulary vocab, int unk) {
        this.vocab = vocab;
        this.unk = unk;
    }

    void encode(String text, IntList out) {
        int maxLen = vocab.maxTokenChars();
        for (String word : words(text)) {
            String w = SentencePieceEncoder.SPACE + word;
            int n = w.length();
            int before = out.size();
            IntList pieces = new IntList(8);
            boolean ok = true;
            for (int i = 0; i < n && ok; ) {
                ok = false;
                for (int j = Math.min(n, i + maxLen); j > i; j--) {
                    int id = vocab.id(w.substring(i, j));
                    if (id >= 0) {
                        pieces.add(id);
                        i = j;
                        ok = true;
                        break;
                    }
                }
            }
            if (ok) {
                for (int k = 0; k < pieces.size(); k++) out.add(pieces.get(k));
            }
            if (out.size() == before) {
                if (unk < 0) throw new IllegalStateException("word '" + word + "' has no tokens and the vocabulary no unknown token");
                out.add(unk);
            }
        }
    }

    /** The pre-processing step: normalized, lower-cased words. */
    static List<String> words(String text) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        for (int i = 0; i < text.length(); ) {
            int raw = text.codePointAt(i);
            i += Character.charCount(raw);
            int cp = CodepointFlags.nfdFirst(raw);
            int flags = CodepointFlags.of(cp);
            if ((flags & CodepointFlags.WHITESPACE) != 0) {
                flush(word, words);
                continue;
            }
            if (cp == 0 || cp == 0xFFFD || (flags & CodepointFlags.CONTROL) != 0) continue;
            int lower = CodepointFlags.toLower(cp);
            if ((flags & CodepointFlags.PUNCTUATION) != 0 || (cp < 0x7F && (flags & CodepointFlags.SYMBOL) != 0)
                    || isChineseChar(cp)) {
                flush(word, words);
                words.add(Character.toString(lower));
            } else {
                word.appendCodePoint(lower);
            }
        }
        flush(word, words);
        return words;
    }

    private static void flush(StringBuilder word, List<String> words) {
        if (!word.isEmpty()) {
            words.add(word.toString());
            word.setLength(0);
        }
    }

    /** The CJK blocks BERT's BasicTokenizer isolates (llama.cpp's list, with Hugging Face's 0x2B920 bound). */
    static boolean isChineseChar(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF)
                || (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF)
                || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }
}
