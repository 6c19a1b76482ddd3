package jllm.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import jllm.format.gguf.GGUFFile;
import jllm.format.gguf.GGUFLlamaMapping;
import jllm.format.gguf.GGUFValue;
import jllm.model.ModelConfig;
import jllm.tokenizer.Tokenizer;
import jllm.tokenizer.Tokenizers;
import jllm.train.ByteTokenizer;
import jllm.train.Checkpoint;
import jllm.train.DataLoader;
import jllm.train.Dataset;
import jllm.train.LrSchedule;
import jllm.train.Parameters;
import jllm.train.Presets;
import jllm.train.TrainConfig;
import jllm.train.Trainer;
import jllm.train.TrainingRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code jllm train}: pretraining from a preset shape or full fine-tuning of a model, into a model folder that every
 * command accepts as {@code -m} (DIR/model.gguf, plus the checkpoint, the JSONL log and the loss curve). Parses
 * flags, calls {@link TrainingRun}, prints.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Pretrain (--config PRESET) or fine-tune (-m MODEL) all weights; writes a model folder.")
public final class TrainCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, description = "Model to fine-tune (GGUF file or model folder).")
    Path model;
    @Option(names = "--config", paramLabel = "PRESET", description = "Pretrain a new model of this shape: llama-tiny, llama-15m, gpt2-tiny, gpt2-124m.")
    String preset;
    @Option(names = "--positions", description = "With --config: position encoding rope, alibi, learned or sinusoidal (default: the preset's).")
    String positions;
    @Option(names = "--tokenizer", paramLabel = "GGUF", description = "With --config: take the vocabulary from this GGUF file (default: a 257-token byte-level vocabulary).")
    Path tokenizerFile;
    @Option(names = "--data", required = true, description = "Training data: plain text, or JSONL with text, prompt/completion or input_ids.")
    Path data;
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output model folder.")
    Path out;
    @Option(names = "--steps", defaultValue = "100", description = "Optimizer steps (default: ${DEFAULT-VALUE}).")
    int steps;
    @Option(names = "--batch", defaultValue = "4", description = "Sequences per micro-batch (default: ${DEFAULT-VALUE}).")
    int batch;
    @Option(names = "--seq", defaultValue = "64", description = "Tokens per sequence (default: ${DEFAULT-VALUE}).")
    int seq;
    @Option(names = "--accum", defaultValue = "1", description = "Micro-batches per step (gradient accumulation; default: ${DEFAULT-VALUE}).")
    int accum;
    @Option(names = "--optimizer", defaultValue = "adamw", description = "adamw or sgd (default: ${DEFAULT-VALUE}).")
    String optimizer;
    @Option(names = "--lr", defaultValue = "3e-4", description = "Peak learning rate (default: ${DEFAULT-VALUE}).")
    double lr;
    @Option(names = "--min-lr", defaultValue = "0", description = "Learning rate at the end of the cosine (default: ${DEFAULT-VALUE}).")
    double minLr;
    @Option(names = "--schedule", defaultValue = "cosine", description = "cosine or constant, after the warm-up (default: ${DEFAULT-VALUE}).")
    String schedule;
    @Option(names = "--warmup", defaultValue = "0", description = "Linear warm-up steps (default: ${DEFAULT-VALUE}).")
    int warmup;
    @Option(names = "--weight-decay", defaultValue = "0.1", description = "Decoupled weight decay on matrices (default: ${DEFAULT-VALUE}).")
    double weightDecay;
    @Option(names = "--betas", defaultValue = "0.9,0.95", paramLabel = "B1,B2", description = "AdamW betas (default: ${DEFAULT-VALUE}).")
    String betas;
    @Option(names = "--eps", defaultValue = "1e-8", description = "AdamW epsilon (default: ${DEFAULT-VALUE}).")
    double eps;
    @Option(names = "--momentum", defaultValue = "0.9", description = "SGD momentum (default: ${DEFAULT-VALUE}).")
    double momentum;
    @Option(names = "--grad-clip", defaultValue = "1.0", description = "Global gradient norm limit, 0 for none (default: ${DEFAULT-VALUE}).")
    double gradClip;
    @Option(names = "--seed", defaultValue = "42", description = "Seed of the initial weights and the data order (default: ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--no-shuffle", description = "Take the rows in file order (each step: the next --batch rows).")
    boolean noShuffle;
    @Option(names = "--mixed-precision", description = "bf16 weights and matmul operands with fp32 master weights.")
    boolean mixedPrecision;
    @Option(names = "--recompute", description = "Recompute each block's activations in the backward (less memory).")
    boolean recompute;
    @Option(names = "--resume", description = "Continue from the checkpoint in --out (weights, optimizer, step, data position).")
    boolean resume;
    @Option(names = "--save-every", defaultValue = "0", description = "Checkpoint every N steps; 0: only at the end (default: ${DEFAULT-VALUE}).")
    int saveEvery;
    @Option(names = "--log", description = "JSONL log file (default: DIR/train-log.jsonl).")
    Path log;
    @Option(names = {"-t", "--threads"}, defaultValue = "0", description = "Worker threads (default: all cores).")
    int threads;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        if (!resume && (model == null) == (preset == null)) throw new IllegalArgumentException("give either -m MODEL or --config PRESET");
        if (preset == null && (positions != null || tokenizerFile != null)) throw new IllegalArgumentException("--positions and --tokenizer go with --config");
        TrainConfig cfg = trainConfig();
        TrainingRun.Options opts = new TrainingRun.Options(out, log, saveEvery, null, "");

        Parameters params;
        Map<String, GGUFValue> tokMeta;
        Checkpoint.State resumed = null;
        String name;
        if (resume) {
            resumed = TrainingRun.resumeState(opts, mixedPrecision);
            params = resumed.params();
            try (GGUFFile f = GGUFFile.open(opts.checkpoint())) {
                tokMeta = tokenizerMetadata(f.metadata());
                name = f.getString("jllm.train.model_name", "jllm model");
            }
        } else if (model != null) {
            try (GGUFFile f = GGUFFile.open(ModelPaths.resolve(model))) {
                GGUFLlamaMapping.Loaded ld = GGUFLlamaMapping.load(f);
                params = Parameters.copyOf(ld.config(), ld.weights(), mixedPrecision);
                tokMeta = tokenizerMetadata(f.metadata());
                name = f.getString("general.name", "model") + " (fine-tuned by jllm)";
            }
        } else {
            if (tokenizerFile != null) {
                try (GGUFFile f = GGUFFile.open(tokenizerFile)) {
                    tokMeta = tokenizerMetadata(f.metadata());
                }
            } else {
                tokMeta = ByteTokenizer.metadata();
            }
            int vocab = Tokenizers.fromMetadata("tokenizer", tokMeta).vocabSize();
            ModelConfig c = Presets.get(preset, vocab);
            if (positions != null) c = c.withPositions(positionsOf(positions));
            params = Parameters.init(c, seed, mixedPrecision);
            name = "jllm " + preset;
        }
        if (tokMeta.isEmpty()) throw new IllegalArgumentException("the model has no tokenizer metadata; cannot tokenize --data");
        Tokenizer tok = Tokenizers.fromMetadata("tokenizer", tokMeta);
        ModelConfig c = params.config();
        if (tok.vocabSize() > c.vocab()) {
            throw new IllegalArgumentException("tokenizer has " + tok.vocabSize() + " tokens but the model only " + c.vocab());
        }
        Dataset ds = Dataset.read(data, new Dataset.Encoder() {
            public int[] encode(String text, boolean addBos) { return tok.encode(text, addBos, false); }
            public int eos() { return tok.eos(); }
            public int vocabSize() { return c.vocab(); }
        }, seq);
        err.printf(Locale.ROOT, "jllm: %s: %s %d layers, dim %d, %d heads (%d KV), %s/%s/%s; data: %,d rows, %,d tokens (%s)%s%n",
                name, c.architecture(), c.nLayers(), c.dim(), c.nHeads(), c.nKvHeads(), c.norm(), c.mlp(), c.positions(),
                ds.size(), ds.tokens(), ds.format(), ds.truncated() > 0 ? ", " + ds.truncated() + " rows truncated to --seq" : "");
        Trainer.predict(c, cfg); // validates the run's shapes before any work
        TrainProgress progress = new TrainProgress(err);
        TrainingRun.Summary s = TrainingRun.run(params, cfg, new DataLoader(ds, batch, seq, !noShuffle, seed),
                new TrainingRun.Options(out, log, saveEvery, tokMeta, name), resumed, progress::onStep, m -> err.println("jllm: " + m));
        progress.finish();
        err.printf(Locale.ROOT, "jllm: %d steps, last loss %.4f, %.1f s; model folder %s (use -m %s)%n", s.steps(), s.lastLoss(),
                s.nanos() / 1e9, out, out);
        return 0;
    }

    TrainConfig trainConfig() {
        String[] b = betas.split(",");
        if (b.length != 2) throw new IllegalArgumentException("--betas needs two numbers B1,B2, got '" + betas + "'");
        TrainConfig.OptimizerKind kind = switch (optimizer.toLowerCase(Locale.ROOT)) {
            case "adamw" -> TrainConfig.OptimizerKind.ADAMW;
            case "sgd" -> TrainConfig.OptimizerKind.SGD;
            default -> throw new IllegalArgumentException("--optimizer must be adamw or sgd, got '" + optimizer + "'");
        };
        LrSchedule.Kind sk = switch (schedule.toLowerCase(Locale.ROOT)) {
            case "cosine" -> LrSchedule.Kind.COSINE;
            case "constant" -> LrSchedule.Kind.CONSTANT;
            default -> throw new IllegalArgumentException("--schedule must be cosine or constant, got '" + schedule + "'");
        };
        int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        return new TrainConfig(steps, batch, seq, accum, kind, new LrSchedule(sk, lr, warmup, steps, minLr), weightDecay,
                Double.parseDouble(b[0].trim()), Double.parseDouble(b[1].trim()), eps, momentum, gradClip, seed, !noShuffle,
                mixedPrecision, recompute, n);
    }

    static ModelConfig.Positions positionsOf(String s) {
        try {
            return ModelConfig.Positions.valueOf(s.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--positions must be rope, alibi, learned or sinusoidal, got '" + s + "'");
        }
    }

    static Map<String, GGUFValue> tokenizerMetadata(Map<String, GGUFValue> all) {
        Map<String, GGUFValue> m = new LinkedHashMap<>();
        all.forEach((k, v) -> {
            if (k.startsWith("tokenizer.")) m.put(k, v);
        });
        return m;
    }
}
