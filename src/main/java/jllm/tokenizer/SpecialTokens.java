package jllm.tokenizer;

/**
 * The special token ids and BOS/EOS rules of a vocabulary, from the GGUF keys {@code tokenizer.ggml.*_token_id},
 * {@code add_bos_token}, {@code add_eos_token} and {@code add_space_prefix}, with llama.cpp's defaults per model
 * type. An absent token is -1.
 *
 * @param eog            the end-of-generation set (see {@link Tokenizer#isEog}), ascending
 * @param addSpacePrefix SentencePiece prefixes a space to text at the start and after a special token
 */
public record SpecialTokens(int bos, int eos, int eot, int eom, int unk, int sep, int pad, int mask, int[] eog,
                            boolean addBos, boolean addEos, boolean addSpacePrefix) {
    public SpecialTokens {
        eog = eog.clone();
    }

    @Override
    public int[] eog() { return eog.clone(); }
}
