package jllm.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import jllm.format.gguf.GGUFFile;
import jllm.format.gguf.GGUFValue;
import jllm.format.hf.HfFolder;
import jllm.format.hf.HfLlamaMapping;
import jllm.model.ModelConfig;
import jllm.tokenizer.Tokenizer;
import jllm.tokenizer.Tokenizers;
import jllm.train.ByteTokenizer;
import jllm.train.Checkpoint;
import jllm.train.DataLoader;
import jllm.train.Dataset;
import jllm.train.Parameters;
import jllm.train.Presets;
import jllm.train.TrainConfig;
import jllm.train.Trainer;
import jllm.train.TrainingRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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
    @Option(names = {"-m", "--model"}, description = "Model to fine-tune (GGUF file, model folder, or Hugging Face llama/gpt2 folder).")
    Path model;
    @Option(names = "--config", paramLabel = "PRESET", description = "Pretrain a new model of this shape: llama-tiny, llama-3m, llama-15m, gpt2-tiny, gpt2-124m.")
    String preset;
    @Option(names = "--positions", description = "With --config: position encoding rope, alibi, learned or sinusoidal (default: the preset's).")
    String positions;
    @Option(names = "--tokenizer", paramLabel = "GGUF", description = "With --config: take the vocabulary from this GGUF file (default: a 257-token byte-level vocabulary).")
    Path tokenizerFile;
    @Option(names = "--data", required = true, description = "Training data: plain text, or JSONL with text, prompt/completion or input_ids.")
    Path data;
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output model folder.")
    Path out;
    @Option(names = "--save-hf", description = "Also write the trained model as a Hugging Face folder (config.json, model.safetensors, tokenizer.json) in DIR/hf.")
    boolean saveHf;
    @Mixin TrainingOptions training;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        if (!training.resume && (model == null) == (preset == null)) throw new IllegalArgumentException("give either -m MODEL or --config PRESET");
        if (preset == null && (positions != null || tokenizerFile != null)) throw new IllegalArgumentException("--positions and --tokenizer go with --config");
        TrainConfig cfg = training.trainConfig();
        TrainingRun.Options opts = new TrainingRun.Options(out, training.log, training.saveEvery, null, "");

        Parameters params;
        Map<String, GGUFValue> tokMeta;
        Checkpoint.State resumed = null;
        String name;
        if (training.resume) {
            resumed = TrainingRun.resumeState(opts, training.mixedPrecision);
            params = resumed.params();
            try (GGUFFile f = GGUFFile.open(opts.checkpoint())) {
                tokMeta = tokenizerMetadata(f.metadata());
                name = f.getString("jllm.train.model_name", "jllm model");
            }
        } else if (model != null) {
            TrainableModel m = TrainableModel.load(model, training.mixedPrecision);
            params = m.params();
            tokMeta = m.tokenizerMetadata();
            name = m.name() + " (fine-tuned by jllm)";
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
            params = Parameters.init(c, training.seed, training.mixedPrecision);
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
        }, training.seq);
        err.printf(Locale.ROOT, "jllm: %s: %s %d layers, dim %d, %d heads (%d KV), %s/%s/%s; data: %,d rows, %,d tokens (%s)%s%n",
                name, c.architecture(), c.nLayers(), c.dim(), c.nHeads(), c.nKvHeads(), c.norm(), c.mlp(), c.positions(),
                ds.size(), ds.tokens(), ds.format(), ds.truncated() > 0 ? ", " + ds.truncated() + " rows truncated to --seq" : "");
        Trainer.predict(c, cfg); // validates the run's shapes before any work
        TrainProgress progress = new TrainProgress(err);
        TrainingRun.Summary s = TrainingRun.run(params, cfg, new DataLoader(ds, training.batch, training.seq, !training.noShuffle, training.seed),
                new TrainingRun.Options(out, training.log, training.saveEvery, tokMeta, name), resumed, progress::onStep, m -> err.println("jllm: " + m));
        progress.finish();
        if (saveHf) {
            Path hfDir = out.resolve("hf");
            HfFolder.TokenizerFiles tf = HfFolder.TokenizerFiles.fromGguf(tokMeta);
            if (c.architecture().equals("gpt2")) {
                HfFolder.saveGpt2(hfDir, c, params.masterCopy(), tf);
            } else {
                if (params.ropeFreqs() != null) throw new IllegalArgumentException("--save-hf: this model's rope frequency factors need llama3 rope_scaling parameters, which jllm train does not know; the GGUF model is saved");
                HfFolder.saveLlama(hfDir, new HfLlamaMapping.Config(c, null, null), params.masterCopy(), tf);
            }
            err.println("jllm: Hugging Face folder " + hfDir);
        }
        err.printf(Locale.ROOT, "jllm: %d steps, last loss %.4f, %.1f s; model folder %s (use -m %s)%n", s.steps(), s.lastLoss(),
                s.nanos() / 1e9, out, out);
        return 0;
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
