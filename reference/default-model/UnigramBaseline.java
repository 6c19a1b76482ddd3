import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import jllm.format.gguf.GGUFFile;
import jllm.tokenizer.Tokenizer;
import jllm.tokenizer.Tokenizers;

/**
 * The unigram baseline for the default model's held-out table: the cross-entropy, in nats per token, of held-out text
 * under the training text's token frequencies, p(t) = (count(t) + 1) / (N + V) (add-one smoothing, so unseen tokens
 * get a finite loss). Text is encoded as {@code jllm train} and {@code jllm eval} encode plain text (the whole file,
 * BOS when the vocabulary asks for it), and, as in {@code jllm eval}, every held-out token but the first is scored.
 * A model that has learned anything beyond single-token frequencies must score below this.
 *
 * <p>usage: {@code java -cp target/jllm.jar reference/default-model/UnigramBaseline.java TOKENIZER.gguf TRAIN.txt
 * HELDOUT.txt...}; prints one JSON line per held-out file.
 */
public final class UnigramBaseline {
    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: UnigramBaseline TOKENIZER.gguf TRAIN.txt HELDOUT.txt...");
            System.exit(2);
        }
        Tokenizer tok;
        try (GGUFFile f = GGUFFile.open(Path.of(args[0]))) {
            tok = Tokenizers.fromGGUF(f);
        }
        int[] train = encode(tok, Path.of(args[1]));
        int vocab = 0;
        for (int id : train) vocab = Math.max(vocab, id + 1);
        vocab = Math.max(vocab, tok.vocabSize());
        long[] count = new long[vocab];
        for (int id : train) count[id]++;
        for (int i = 2; i < args.length; i++) {
            int[] held = encode(tok, Path.of(args[i]));
            double sum = 0;
            for (int k = 1; k < held.length; k++) {
                long c = held[k] < vocab ? count[held[k]] : 0;
                sum -= Math.log((c + 1.0) / (train.length + (double) vocab));
            }
            double loss = sum / (held.length - 1);
            System.out.printf(Locale.ROOT, "{\"file\": \"%s\", \"loss\": %.6f, \"perplexity\": %.4f, \"tokens\": %d, \"train_tokens\": %d, \"vocab\": %d}%n",
                    Path.of(args[i]).getFileName(), loss, Math.exp(loss), held.length - 1, train.length, vocab);
        }
    }

    private static int[] encode(Tokenizer tok, Path file) throws java.io.IOException {
        return tok.encode(Files.readString(file, StandardCharsets.UTF_8), true, false);
    }
}
