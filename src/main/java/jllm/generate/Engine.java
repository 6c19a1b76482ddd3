package jllm.generate;

import java.io.IOException;
import java.nio.file.Path;

import jllm.format.gguf.GGUFFile;
import jllm.format.gguf.GGUFLlamaMapping;
import jllm.model.Linear;
import jllm.model.LlamaModel;
import jllm.tokenizer.Tokenizer;
import jllm.tokenizer.Tokenizers;

/**
 * A model file opened for inference: the memory-mapped GGUF, its tokenizer, the model and a worker pool.
 * Close it to unmap the file and stop the workers.
 */
public final class Engine implements AutoCloseable {
    private final GGUFFile file;
    private final LlamaModel model;
    private final Tokenizer tokenizer;
    private final Linear linear;

    private Engine(GGUFFile file, LlamaModel model, Tokenizer tokenizer, Linear linear) {
        this.file = file;
        this.model = model;
        this.tokenizer = tokenizer;
        this.linear = linear;
    }

    /** Opens a GGUF model; {@code threads} <= 0 means all available processors. */
    public static Engine open(Path path, int threads) throws IOException {
        GGUFFile f = GGUFFile.open(path);
        Linear linear = null;
        try {
            GGUFLlamaMapping.Loaded loaded = GGUFLlamaMapping.load(f);
            Tokenizer tok = Tokenizers.fromGGUF(f);
            if (tok.vocabSize() > loaded.config().vocab()) {
                throw new IllegalArgumentException(path.getFileName() + ": tokenizer has " + tok.vocabSize()
                        + " tokens but the model's embedding has only " + loaded.config().vocab() + " rows");
            }
            linear = new Linear(threads <= 0 ? Runtime.getRuntime().availableProcessors() : threads);
            return new Engine(f, new LlamaModel(loaded.config(), loaded.weights(), linear), tok, linear);
        } catch (RuntimeException e) {
            if (linear != null) linear.close();
            f.close();
            throw e;
        }
    }

    public GGUFFile file() { return file; }
    public LlamaModel model() { return model; }
    public Tokenizer tokenizer() { return tokenizer; }

    /** Context length to use: the requested one, else the model's trained context capped at {@code cap}. */
    public int contextSize(int requested, int cap) {
        int trained = model.config().contextLength();
        int n = requested > 0 ? requested : Math.min(trained, cap);
        if (n <= 0) throw new IllegalArgumentException("context size must be positive, got " + n);
        return n;
    }

    public Session newSession(int nCtx, int batch) {
        return new Session(model, tokenizer, nCtx, batch);
    }

    /** The chat template: the file's {@code tokenizer.chat_template}, else a built-in chosen from the vocabulary. */
    public ChatTemplate chatTemplate(String override) {
        String bos = tokenizer.bos() >= 0 ? tokenizer.tokenText(tokenizer.bos()) : "";
        String eos = tokenizer.eos() >= 0 ? tokenizer.tokenText(tokenizer.eos()) : "";
        if (override != null) {
            String src = ChatTemplate.BUILTIN.get(override);
            if (src == null) throw new IllegalArgumentException("unknown chat template '" + override + "' (built-in: " + ChatTemplate.BUILTIN.keySet() + ")");
            return new ChatTemplate(src, bos, eos);
        }
        return ChatTemplate.forModel(file.getString("tokenizer.chat_template", null), bos, eos, t -> tokenizer.tokenId(t) >= 0);
    }

    @Override
    public void close() {
        linear.close();
        file.close();
    }
}
