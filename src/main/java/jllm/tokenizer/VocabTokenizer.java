package jllm.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.BitSet;
import java.util.List;

/**
 * A {@link Tokenizer} over a {@link Vocabulary}: special tokens are cut out first ({@link SpecialTokenSplitter}),
 * each text fragment goes to the model's encoder (SentencePiece, byte-level BPE or WordPiece), and BOS/EOS are
 * added as the vocabulary's metadata says (llama.cpp's {@code llama_vocab::impl::tokenize}).
 */
public final class VocabTokenizer implements Tokenizer {
    /** The three tokenizer algorithms of GGUF files ({@code tokenizer.ggml.model}). */
    public enum Model {
        /** {@code llama}: SentencePiece BPE with scores and byte fallback. */
        SPM,
        /** {@code gpt2}: byte-level BPE with merges and a pre-tokenizer. */
        BPE,
        /** {@code bert}: WordPiece. */
        WPM
    }

    private static final java.util.regex.Pattern BYTE_TOKEN = java.util.regex.Pattern.compile("<0x[0-9A-Fa-f]{2}>");

    private final Model model;
    private final Vocabulary vocab;
    private final SpecialTokens special;
    private final SpecialTokenSplitter splitter;
    private final SentencePieceEncoder spm;
    private final BytePairEncoder bpe;
    private final WordPieceEncoder wpm;
    private final byte[][] pieces; // decodeBytes, per id
    private final BitSet eog;

    VocabTokenizer(Model model, Vocabulary vocab, SpecialTokens special, SpecialTokenSplitter splitter,
                   SentencePieceEncoder spm, BytePairEncoder bpe, WordPieceEncoder wpm) {
        this.model = model;
        this.vocab = vocab;
        this.special = special;
        this.splitter = splitter;
        this.spm = spm;
        this.bpe = bpe;
        this.wpm = wpm;
        this.eog = new BitSet(vocab.size());
        for (int id : special.eog()) eog.set(id);
        this.pieces = new byte[vocab.size()][];
        for (int id = 0; id < vocab.size(); id++) pieces[id] = piece(id);
    }

    public Model model() { return model; }

    public Vocabulary vocabulary() { return vocab; }

    public SpecialTokens specialTokens() { return special; }

    /** The pre-tokenizer type of a byte-level BPE vocabulary (e.g. "llama3", "qwen2"), or null for other models. */
    public String preTokenizer() { return bpe == null ? null : bpe.preTokenizer().name(); }

    @Override
    public int[] encode(String text, boolean addBos, boolean parseSpecial) {
        IntList out = new IntList(text.length() / 3 + 4);
        List<SpecialTokenSplitter.Fragment> fragments = splitter.split(text, parseSpecial);
        boolean addStart = addBos && (model == Model.WPM || special.addBos());
        if (addStart) out.add(require(special.bos(), "BOS"));
        boolean prevSpecial = true; // SentencePiece: a fragment at the start or after a special token gets a space
        for (SpecialTokenSplitter.Fragment f : fragments) {
            if (!f.isText()) {
                out.add(f.token());
                prevSpecial = true;
                continue;
            }
            String piece = text.substring(f.start(), f.end());
            switch (model) {
                case SPM -> spm.encode(piece, special.addSpacePrefix() && prevSpecial, out);
                case BPE -> bpe.encode(piece, out);
                case WPM -> wpm.encode(piece, out);
            }
            prevSpecial = false;
        }
        if (addBos && model == Model.WPM) out.add(require(special.sep(), "SEP"));
        else if (addBos && special.addEos()) out.add(require(special.eos(), "EOS"));
        return out.toArray();
    }

    private static int require(int id, String what) {
        if (id < 0) throw new IllegalStateException("the vocabulary asks for a " + what + " token but has none");
        return id;
    }

    @Override
    public byte[] decodeBytes(int id) {
        return pieces[vocab.check(id)].clone();
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(ids.length * 4);
        for (int i = 0; i < ids.length; i++) {
            byte[] p = pieces[vocab.check(ids[i])];
            int skip = i == 0 && special.addSpacePrefix() && p.length > 0 && p[0] == ' ' ? 1 : 0;
            bytes.write(p, skip, p.length - skip);
        }
        return StreamingDecoder.decode(bytes.toByteArray(), bytes.size());
    }

    /** llama.cpp's {@code token_to_piece(special = false)}. */
    private byte[] piece(int id) {
        String text = vocab.text(id);
        return switch (vocab.type(id)) {
            case USER_DEFINED -> text.getBytes(StandardCharsets.UTF_8);
            case CONTROL, UNKNOWN, UNUSED, UNDEFINED -> new byte[0];
            case NORMAL -> model == Model.BPE
                    ? byteLevelDecode(text)
                    : text.replace(SentencePieceEncoder.SPACE, ' ').getBytes(StandardCharsets.UTF_8);
            case BYTE -> model == Model.SPM && BYTE_TOKEN.matcher(text).matches()
                    ? new byte[] {(byte) Integer.parseInt(text.substring(3, 5), 16)}
                    : new byte[0];
        };
    }

    /** GPT-2 byte alphabet back to bytes; a character outside it is written as llama.cpp does. */
    private static byte[] byteLevelDecode(String text) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(text.length());
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            int b = ByteLevel.byteOf(cp);
            if (b >= 0) {
                out.write(b);
            } else {
                StringBuilder sb = new StringBuilder("[UNK_BYTE_0x");
                for (byte u : Character.toString(cp).getBytes(StandardCharsets.UTF_8)) sb.append(String.format("%02x", u & 0xFF));
                sb.append(text).append(']');
                out.writeBytes(sb.toString().getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toByteArray();
    }

    @Override
    public int bos() { return special.bos(); }

    @Override
    public int eos() { return special.eos(); }

    @Override
    public boolean isEog(int id) { return id >= 0 && id < vocab.size() && eog.get(id); }

    @Override
    public int vocabSize() { return vocab.size(); }

    @Override
    public String tokenText(int id) { return vocab.text(id); }

    @Override
    public TokenType tokenType(int id) { return vocab.type(id); }

    @Override
    public int tokenId(String text) { return vocab.id(text); }

    @Override
    public String toString() {
        return "VocabTokenizer[" + model + (bpe != null ? "/" + bpe.preTokenizer().name() : "") + ", " + vocab.size() + " tokens]";
    }
}
