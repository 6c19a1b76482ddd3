package jllm.tokenizer;

/**
 * Text to token ids and back. Implementations follow llama.cpp (src/llama-vocab.cpp, b4747) so that a GGUF model
 * sees exactly the ids llama.cpp would give it; build one with {@link Tokenizers#fromGGUF}.
 *
 * <p>Token ids are {@code 0 <= id < vocabSize()}; methods taking an id throw {@link IllegalArgumentException}
 * naming it when it is out of range. Instances are immutable and thread-safe; {@link StreamingDecoder}s are not.
 */
public interface Tokenizer {

    /**
     * Encodes {@code text}.
     *
     * @param addBos       add the special tokens the vocabulary asks for (llama.cpp's {@code add_special}): BOS when
     *                     {@code tokenizer.ggml.add_bos_token} (default per model type) is true, EOS when
     *                     {@code tokenizer.ggml.add_eos_token} is true; for WordPiece, [CLS] ... [SEP]
     * @param parseSpecial cut control tokens such as {@code <|eot_id|>} out of the text; user-defined tokens are cut
     *                     out either way, as llama.cpp does
     */
    int[] encode(String text, boolean addBos, boolean parseSpecial);

    /**
     * The bytes token {@code id} stands for in decoded text: a normal token's text (with "▁" as space for
     * SentencePiece and WordPiece, through GPT-2's byte alphabet for byte-level BPE), a byte token's byte, a
     * user-defined token's text, and nothing for control and unknown tokens (llama.cpp's
     * {@code token_to_piece(special = false)}). A piece may be part of a UTF-8 sequence.
     */
    byte[] decodeBytes(int id);

    /**
     * Decodes ids to text: the UTF-8 decoding (malformed bytes become U+FFFD) of the {@link #decodeBytes} pieces
     * concatenated, less one leading space of the first piece when the vocabulary adds a space prefix
     * (SentencePiece), so that {@code decode(encode(s, false, false)).equals(s)} for lossless vocabularies.
     * (llama.cpp's extra "clean spaces" rule for BPE, which drops the space in " ," and " 's", is not applied.)
     */
    String decode(int[] ids);

    /** A decoder that turns ids into text one at a time and never emits a broken UTF-8 sequence. */
    default StreamingDecoder newStreamingDecoder() {
        return new StreamingDecoder(this);
    }

    /** The beginning-of-sequence token, or -1 if the vocabulary has none. */
    int bos();

    /** The end-of-sequence token, or -1 if the vocabulary has none. */
    int eos();

    /**
     * Whether generation stops at {@code id}: EOS, EOT, EOM and every token whose text is one of {@code <|eot_id|>},
     * {@code <|im_end|>}, {@code <|end|>}, {@code <end_of_turn>}, {@code <|endoftext|>}, {@code <|eom_id|>},
     * {@code <EOT>}, and the fill-in-the-middle pad/repo/file-separator tokens (llama.cpp's end-of-generation set).
     * False for ids out of range.
     */
    boolean isEog(int id);

    int vocabSize();

    /** The token's text as the vocabulary stores it (e.g. "▁Hello", "ĠHello", "<0x0A>", "<|eot_id|>"). */
    String tokenText(int id);

    TokenType tokenType(int id);

    /** The id of the token whose text is exactly {@code text}, or -1. */
    int tokenId(String text);
}
