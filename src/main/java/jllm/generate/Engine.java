package jllm.generate;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;

import jllm.format.gguf.GGUFFile;
import jllm.format.gguf.GGUFLlamaMapping;
import jllm.format.hf.HfFolder;
import jllm.format.hf.HfGpt2Mapping;
import jllm.format.hf.HfLlamaMapping;
import jllm.format.hf.LoraAdapter;
import jllm.format.hf.PeftAdapter;
import jllm.format.hf.PeftLoraMapping;
import jllm.model.LoRA;
import jllm.model.ModelConfig;
import jllm.model.Linear;
import jllm.model.LlamaModel;
import jllm.tokenizer.Tokenizer;
import jllm.tokenizer.Tokenizers;

/**
 * A model opened for inference: the memory-mapped weights, the tokenizer, the model and a worker pool. A model is
 * a GGUF file, a folder holding {@code model.gguf} (what {@code jllm train} writes), or a Hugging Face folder
 * (config.json, model.safetensors or a sharded index, tokenizer.json) of a {@code llama} or {@code gpt2} model.
 * A LoRA adapter (a PEFT adapter folder) may be attached: the model then runs it unmerged, W x + (alpha/r) B A x on
 * every adapted projection. Close it to unmap the files and stop the workers.
 */
public final class Engine implements AutoCloseable {
    private final AutoCloseable files;     // the mapped GGUF file or HF folder
    private final String chatTemplate;     // the model's own Jinja chat template, or null
    private final LlamaModel model;
    private final Tokenizer tokenizer;
    private final Linear linear;

    private Engine(AutoCloseable files, String chatTemplate, LlamaModel model, Tokenizer tokenizer, Linear linear) {
        this.files = files;
        this.chatTemplate = chatTemplate;
        this.model = model;
        this.tokenizer = tokenizer;
        this.linear = linear;
    }

    /** Opens a model (GGUF file, folder with model.gguf, or HF folder); {@code threads} <= 0 means all processors. */
    public static Engine open(Path path, int threads) throws IOException {
        return open(path, threads, null);
    }

    /**
     * Opens a model with a LoRA adapter applied unmerged.
     *
     * @param lora a PEFT adapter folder (adapter_config.json + adapter_model.safetensors), or null for none
     */
    public static Engine open(Path path, int threads, Path lora) throws IOException {
        return open(path, threads, lora, Repacking.enabledByDefault());
    }

    /**
     * Opens a model, choosing whether Q4_K matrices are repacked for the decoding kernels ({@link Repacking}; commands
     * that write the weights back pass false).
     */
    public static Engine open(Path path, int threads, Path lora, boolean repack) throws IOException {
        LoraAdapter adapter = null;
        if (lora != null) {
            if (!PeftAdapter.isAdapterFolder(lora)) {
                throw new IllegalArgumentException("--lora " + lora + " is not a PEFT adapter folder (" + PeftAdapter.CONFIG + " + " + PeftAdapter.WEIGHTS + ")");
            }
            adapter = PeftAdapter.read(lora);
        }
        if (Files.isDirectory(path)) {
            if (HfFolder.isHfFolder(path)) return openHf(path, threads, adapter, repack);
            Path gguf = path.resolve("model.gguf");
            if (Files.isRegularFile(gguf)) return openGguf(gguf, threads, adapter, repack);
            throw new IllegalArgumentException(path + " is neither a Hugging Face model folder (config.json + "
                    + "model.safetensors) nor a jllm model folder (model.gguf)");
        }
        return openGguf(path, threads, adapter, repack);
    }

    private static Engine openGguf(Path path, int threads, LoraAdapter adapter, boolean repack) throws IOException {
        GGUFFile f = GGUFFile.open(path);
        try {
            GGUFLlamaMapping.Loaded loaded = GGUFLlamaMapping.load(f);
            return build(f, f.getString("tokenizer.chat_template", null), loaded.config(), loaded.weights(),
                    Tokenizers.fromGGUF(f), threads, path, adapter, repack);
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    private static Engine openHf(Path dir, int threads, LoraAdapter adapter, boolean repack) throws IOException {
        HfFolder hf = HfFolder.open(dir);
        try {
            if (!hf.hasTokenizer()) throw new IllegalArgumentException(dir + " has no tokenizer.json (or vocab.json + merges.txt)");
            String type = hf.modelType();
            ModelConfig config;
            jllm.model.LlamaWeights weights;
            switch (type) {
                case "llama" -> {
                    HfLlamaMapping.Loaded l = hf.llama();
                    config = l.config().model();
                    weights = l.weights();
                }
                case "gpt2" -> {
                    HfGpt2Mapping.Loaded g = hf.gpt2();
                    config = g.config();
                    weights = g.weights();
                }
                default -> throw new IllegalArgumentException(dir + ": model_type '" + type + "' is not supported (llama, gpt2)");
            }
            String template = hf.tokenizerFiles().tokenizerConfig() != null && hf.tokenizerFiles().tokenizerConfig().hasNonNull("chat_template")
                    && hf.tokenizerFiles().tokenizerConfig().get("chat_template").isTextual()
                    ? hf.tokenizerFiles().tokenizerConfig().get("chat_template").asText() : null;
            return build(hf, template, config, weights, hf.tokenizer(), threads, dir, adapter, repack);
        } catch (RuntimeException | IOException e) {
            hf.close();
            throw e;
        }
    }

    private static Engine build(AutoCloseable files, String template, ModelConfig config, jllm.model.LlamaWeights weights,
                                Tokenizer tok, int threads, Path path, LoraAdapter adapter, boolean repack) {
        if (tok.vocabSize() > config.vocab()) {
            throw new IllegalArgumentException(path.getFileName() + ": tokenizer has " + tok.vocabSize()
                    + " tokens but the model's embedding has only " + config.vocab() + " rows");
        }
        LoRA lora = adapter == null ? null : PeftLoraMapping.toModel(adapter, config, false);
        Linear linear = new Linear(threads <= 0 ? Runtime.getRuntime().availableProcessors() : threads);
        Arena repacked = Arena.ofShared();   // the repacked matrices, freed with the engine
        try {
            if (repack) weights = Repacking.apply(weights, linear, repacked, Repacking.headroom(config));
            AutoCloseable both = () -> {
                repacked.close();
                files.close();
            };
            return new Engine(both, template, new LlamaModel(config, weights, linear, lora), tok, linear);
        } catch (RuntimeException e) {
            linear.close();
            repacked.close();
            throw e;
        }
    }
    /** The context the commands use when none is asked for and the model's trained one is longer. */
    public static final int DEFAULT_CONTEXT_CAP = 4096;

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
        return ChatTemplate.forModel(chatTemplate, bos, eos, t -> tokenizer.tokenId(t) >= 0);
    }

    @Override
    public void close() {
        linear.close();
        try {
            files.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing " + files + ": " + e.getMessage(), e);
        }
    }
}
