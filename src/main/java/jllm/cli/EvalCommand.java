package jllm.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import jllm.generate.EmbeddedModel;
import jllm.generate.Engine;
import jllm.tokenizer.Tokenizer;
import jllm.train.Dataset;
import jllm.train.Evaluation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code jllm eval -m MODEL --data FILE [--batch B --seq T] [--json]}: the model's mean token cross-entropy (nats)
 * and perplexity on a data file in any of the trainer's formats ({@link Dataset}: plain text, JSONL text,
 * prompt/completion scored on the completion, pre-tokenized input_ids), in windows of T tokens ({@link Evaluation}).
 * Text is encoded as the trainer encodes it: BOS when the vocabulary asks for it, control-token texts not parsed
 * (llama.cpp's perplexity tool does the same).
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Mean cross-entropy (nats per token) and perplexity of a model on a data file.")
public final class EvalCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, paramLabel = "MODEL",
            description = "GGUF model file, or a folder holding model.gguf (jllm train --out). Default: the embedded model.")
    Path model;

    @Option(names = "--data", required = true, paramLabel = "FILE",
            description = "Plain text, or JSONL with \"text\", \"prompt\"/\"completion\" (loss on the completion) or \"input_ids\".")
    Path data;

    @Option(names = "--batch", defaultValue = "1", paramLabel = "B", description = "Windows per forward pass (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--seq", defaultValue = "0", paramLabel = "T",
            description = "Tokens per window (default: the model's context length, at most 512).")
    int seq;

    @Option(names = "--lora", paramLabel = "DIR", description = "Apply a LoRA adapter (a PEFT adapter folder) without merging it; 'default' is the embedded model's adapter.")
    Path lora;

    @Option(names = "--json", description = "Print {\"loss\": ..., \"perplexity\": ..., \"tokens\": ...}.")
    boolean json;

    @Option(names = {"-t", "--threads"}, defaultValue = "0", description = "Worker threads (default: all cores).")
    int threads;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Path path = model != null ? model : EmbeddedModel.model().orElseThrow(() -> new IllegalArgumentException(
                "no -m given and this build has no embedded default model"));
        if (Files.isDirectory(path) && Files.isRegularFile(path.resolve("model.gguf"))) path = path.resolve("model.gguf");
        if (!Files.isRegularFile(path)) throw new IllegalArgumentException("model file not found: " + path);
        if (batch <= 0) throw new IllegalArgumentException("--batch must be positive, got " + batch);
        if (seq < 0) throw new IllegalArgumentException("--seq must be positive, got " + seq);
        if (lora != null && lora.toString().equals("default") && !Files.exists(lora)) {
            lora = EmbeddedModel.adapter().orElseThrow(() -> new IllegalArgumentException(
                    "--lora default: this build has no embedded adapter"));
        }
        long t0 = System.nanoTime();
        try (Engine engine = Engine.open(path, threads, lora)) {
            int T = seq > 0 ? seq : Math.min(engine.model().config().contextLength(), 512);
            Tokenizer tok = engine.tokenizer();
            int vocab = engine.model().config().vocab();
            Dataset d = Dataset.read(data, new Dataset.Encoder() {
                @Override
                public int[] encode(String text, boolean addBos) { return tok.encode(text, addBos, false); }

                @Override
                public int eos() { return tok.eos(); }

                @Override
                public int vocabSize() { return vocab; }
            }, T);
            Progress p = Progress.start("evaluating " + d.size() + " windows");
            Evaluation.Result r;
            try {
                r = Evaluation.run(engine.model(), d, batch);
            } finally {
                p.done(System.nanoTime() - t0);
            }
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                ObjectMapper m = new ObjectMapper();
                ObjectNode o = m.createObjectNode().put("loss", r.loss()).put("perplexity", r.perplexity()).put("tokens", r.tokens());
                out.println(m.writeValueAsString(o));
            } else {
                out.printf(Locale.ROOT, "loss %.6f nats/token, perplexity %.4f, over %,d tokens in %,d windows of up to %d%n",
                        r.loss(), r.perplexity(), r.tokens(), r.rows(), T);
            }
            out.flush();
            PrintWriter err = spec.commandLine().getErr();
            err.printf(Locale.ROOT, "jllm: evaluated %s on %s in %.2f s%s%n", path.getFileName(), data.getFileName(),
                    (System.nanoTime() - t0) / 1e9, d.truncated() > 0 ? " (" + d.truncated() + " prompt/completion rows cut to " + (T + 1) + " tokens)" : "");
            err.flush();
        }
        return 0;
    }
}
