package jllm.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import jllm.generate.EmbeddedModel;
import jllm.generate.Engine;
import picocli.CommandLine.Option;

/** Model-loading flags shared by the inference commands. */
public final class ModelOptions {
    @Option(names = {"-m", "--model"}, description = "Model: a GGUF file, a jllm model folder, or a Hugging Face folder. Default: the embedded model shipped in the jar.")
    Path model;

    @Option(names = {"-t", "--threads"}, description = "Worker threads (default: all cores).", defaultValue = "0")
    int threads;

    @Option(names = {"-c", "--ctx"}, description = "Context size in tokens (default: the model's, at most 4096).", defaultValue = "0")
    int ctx;

    @Option(names = {"-b", "--batch"}, description = "Prompt tokens per forward batch (default: ${DEFAULT-VALUE}).", defaultValue = "64")
    int batch;

    @Option(names = "--lora", paramLabel = "DIR", description = "Apply a LoRA adapter (a PEFT adapter folder, e.g. from jllm lora train) without merging it; 'default' is the embedded model's adapter.")
    Path lora;

    Engine open() throws IOException {
        if (model == null) {
            model = EmbeddedModel.model().orElseThrow(() -> new IllegalArgumentException(
                    "no -m given and this build has no embedded default model"));
        }
        if (!Files.exists(model)) throw new IllegalArgumentException("model file not found: " + model);
        if (lora != null && lora.toString().equals("default") && !Files.exists(lora)) {
            lora = EmbeddedModel.adapter().orElseThrow(() -> new IllegalArgumentException(
                    "--lora default: this build has no embedded adapter"));
        }
        long t0 = System.nanoTime();
        Progress p = Progress.start("loading " + model.getFileName());
        try {
            return Engine.open(model, threads, lora);
        } finally {
            p.done(System.nanoTime() - t0);
        }
    }
}
