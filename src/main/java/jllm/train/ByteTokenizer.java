package jllm.train;

import java.util.LinkedHashMap;
import java.util.Map;

import jllm.format.gguf.GGUFArray;
import jllm.format.gguf.GGUFValue;
import jllm.format.gguf.GGUFValueType;

/**
 * GGUF metadata of the simplest byte-level BPE vocabulary, for models pretrained without a tokenizer of their own:
 * the 256 byte tokens written in GPT-2's byte alphabet ({@code bytes_to_unicode}: the printable bytes '!'..'~',
 * '¡'..'¬', '®'..'ÿ' stand for themselves, the other 68 take the code points 256, 257, ... in byte order) and the
 * control token {@code <|endoftext|>} (id 256, BOS and EOS), with no merges, so every text is its UTF-8 bytes.
 * llama.cpp and jllm read it as an ordinary {@code gpt2} vocabulary.
 */
public final class ByteTokenizer {
    private ByteTokenizer() {}

    public static final int VOCAB = 257;

    public static Map<String, GGUFValue> metadata() {
        String[] tokens = new String[VOCAB];
        int[] types = new int[VOCAB];
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            tokens[b] = String.valueOf(printable ? (char) b : (char) (256 + extra++));
            types[b] = 1; // normal
        }
        tokens[256] = "<|endoftext|>";
        types[256] = 3; // control
        Map<String, GGUFValue> md = new LinkedHashMap<>();
        md.put("tokenizer.ggml.model", GGUFValue.ofString("gpt2"));
        md.put("tokenizer.ggml.pre", GGUFValue.ofString("gpt-2"));
        md.put("tokenizer.ggml.tokens", GGUFValue.ofArray(new GGUFArray(GGUFValueType.STRING, tokens)));
        md.put("tokenizer.ggml.token_type", GGUFValue.ofArray(new GGUFArray(GGUFValueType.INT32, types)));
        md.put("tokenizer.ggml.merges", GGUFValue.ofArray(new GGUFArray(GGUFValueType.STRING, new String[0])));
        md.put("tokenizer.ggml.bos_token_id", GGUFValue.ofUInt32(256));
        md.put("tokenizer.ggml.eos_token_id", GGUFValue.ofUInt32(256));
        return md;
    }
}
