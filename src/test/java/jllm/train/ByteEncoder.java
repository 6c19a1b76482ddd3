package jllm.train;

import java.nio.charset.StandardCharsets;

/** A test tokenizer: one token per UTF-8 byte (ids 0..255), BOS = 256 when asked for, EOS = 257; vocabulary 258. */
final class ByteEncoder implements Dataset.Encoder {
    static final int BOS = 256, EOS = 257;

    @Override
    public int[] encode(String text, boolean addBos) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        int off = addBos ? 1 : 0;
        int[] ids = new int[b.length + off];
        if (addBos) ids[0] = BOS;
        for (int i = 0; i < b.length; i++) ids[off + i] = b[i] & 0xFF;
        return ids;
    }

    @Override
    public int eos() { return EOS; }

    @Override
    public int vocabSize() { return 258; }
}
