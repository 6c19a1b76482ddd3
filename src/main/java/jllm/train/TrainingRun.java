package jllm.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

import jllm.format.gguf.GGUFLlamaMapping;
import jllm.format.gguf.GGUFValue;
import jllm.format.gguf.GGUFWriter;

/**
 * A whole training run into an output folder that every jllm command accepts as a model:
 * <pre>
 *   DIR/model.gguf         the trained model (float32) with the tokenizer's metadata
 *   DIR/train-state.gguf   the checkpoint (weights, optimizer state, step, data position), for --resume
 *   DIR/train-log.jsonl    the JSONL log (unless another file is given)
 *   DIR/loss.png           the loss curve of the whole log
 * </pre>
 * Steps run until the configured count; a checkpoint is written every {@code saveEvery} steps (0: only at the end)
 * and at the end. With {@code resume}, the checkpoint's weights, optimizer state, step and data position are
 * restored, so the run continues exactly as if it had not stopped.
 */
public final class TrainingRun {
    public static final String MODEL = "model.gguf", CHECKPOINT = "train-state.gguf", LOG = "train-log.jsonl", CURVE = "loss.png";

    /** Called after each step (progress display). */
    public interface Listener {
        void onStep(Trainer.StepResult r, TrainConfig cfg, long firstStep);
    }

    /**
     * @param metadata tokenizer and other metadata copied into the model and checkpoint files
     * @param log      the JSONL log file, or null for DIR/train-log.jsonl
     */
    public record Options(Path outDir, Path log, int saveEvery, Map<String, GGUFValue> metadata, String modelName) {
        public Path checkpoint() { return outDir.resolve(CHECKPOINT); }
        public Path logFile() { return log != null ? log : outDir.resolve(LOG); }
    }

    /** The end of a run. */
    public record Summary(long steps, double lastLoss, long nanos, MemoryReport memory) {}

    private TrainingRun() {}

    /** Loads the checkpoint of a previous run in {@code outDir} for {@code --resume}. */
    public static Checkpoint.State resumeState(Options o, boolean mixedPrecision) throws IOException {
        Path ck = o.checkpoint();
        if (!Files.isRegularFile(ck)) throw new IllegalArgumentException("--resume: no checkpoint " + ck);
        return Checkpoint.load(ck, mixedPrecision);
    }

    /**
     * Trains {@code params} (from a model, a preset, or {@code resumed}'s checkpoint) on {@code data}.
     *
     * @param resumed the state to continue from, or null for a new run
     */
    public static Summary run(Parameters params, TrainConfig cfg, Batch.Source data, Options o, Checkpoint.State resumed,
                              Listener listener, java.util.function.Consumer<String> info) throws IOException {
        Files.createDirectories(o.outDir());
        long t0 = System.nanoTime();
        String optName = cfg.optimizer().name().toLowerCase(Locale.ROOT);
        Map<String, GGUFValue> ckMeta = new java.util.LinkedHashMap<>();
        if (o.metadata() != null) ckMeta.putAll(o.metadata());
        ckMeta.put("jllm.train.model_name", GGUFValue.ofString(o.modelName()));
        try (Trainer t = new Trainer(params, cfg)) {
            if (resumed != null) {
                if (!resumed.optimizerName().equals(optName)) {
                    throw new IllegalArgumentException("--resume: the checkpoint was made with " + resumed.optimizerName()
                            + ", not " + optName);
                }
                t.optimizer().restore(resumed.optimizer(), resumed.step());
                data.seek(resumed.dataPosition());
                TrainLog.truncate(o.logFile(), resumed.step());
                info.accept(String.format(Locale.ROOT, "resuming at step %d of %d (data row %d)", resumed.step(), cfg.steps(), resumed.dataPosition()));
            }
            MemoryReport mem = t.memory();
            info.accept(String.format(Locale.ROOT, "%,d parameters; %s", params.count(), mem));
            long first = t.step();
            double last = Double.NaN;
            try (TrainLog log = new TrainLog(o.logFile(), resumed != null)) {
                while (t.step() < cfg.steps()) {
                    Trainer.StepResult r = t.step(data);
                    if (!Double.isFinite(r.loss())) throw new IllegalStateException("loss is " + r.loss() + " at step " + r.step() + "; lower --lr");
                    last = r.loss();
                    log.write(r);
                    if (listener != null) listener.onStep(r, cfg, first);
                    if (o.saveEvery() > 0 && t.step() % o.saveEvery() == 0 && t.step() < cfg.steps()) {
                        Checkpoint.save(o.checkpoint(), params, t.optimizer(), optName, data.position(), ckMeta);
                    }
                }
            }
            Checkpoint.save(o.checkpoint(), params, t.optimizer(), optName, data.position(), ckMeta);
            saveModel(o.outDir().resolve(MODEL), params, o.metadata(), o.modelName());
            LossCurve.write(o.outDir().resolve(CURVE), TrainLog.readLosses(o.logFile()), o.modelName() + ": training loss");
            return new Summary(t.step(), last, System.nanoTime() - t0, mem);
        }
    }

    /** Writes the master weights as a float32 GGUF model (atomically). */
    public static void saveModel(Path file, Parameters params, Map<String, GGUFValue> metadata, String name) throws IOException {
        GGUFWriter w = GGUFLlamaMapping.writer(params.config(), n -> params.entry(n).value(), params.ropeFreqs(), name);
        if (metadata != null) metadata.forEach(w::put);
        w.write(file);
    }
}
