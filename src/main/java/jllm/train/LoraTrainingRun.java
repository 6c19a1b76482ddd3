package jllm.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import jllm.format.hf.PeftAdapter;
import jllm.format.hf.PeftLoraConfig;
import jllm.format.hf.PeftLoraMapping;
import jllm.model.LlamaWeights;
import jllm.model.LoRA;

/**
 * A whole LoRA training run into an output folder that is a PEFT adapter folder (Python PEFT's
 * {@code PeftModel.from_pretrained} and jllm's {@code --lora} read it):
 * <pre>
 *   DIR/adapter_config.json        PEFT's LoraConfig
 *   DIR/adapter_model.safetensors  lora_A / lora_B under PEFT's keys
 *   DIR/lora-state.gguf            the checkpoint (adapter, optimizer state, step, data position), for --resume
 *   DIR/train-log.jsonl            the JSONL log (unless another file is given)
 *   DIR/loss.png                   the loss curve of the whole log
 * </pre>
 * The loop is {@link TrainingRun}'s: steps until the configured count, a checkpoint every {@code saveEvery} steps (0:
 * only at the end) and at the end; with {@code resume} the adapter, optimizer state, step and data position are
 * restored and the log loses the lines of steps after the checkpoint, so the run continues as if it had not
 * stopped.
 */
public final class LoraTrainingRun {
    public static final String CHECKPOINT = "lora-state.gguf";

    /**
     * @param peft the adapter_config.json to write (its r, alpha, dropout and targets are the adapter's)
     * @param log  the JSONL log file, or null for DIR/train-log.jsonl
     */
    public record Options(Path outDir, Path log, int saveEvery, PeftLoraConfig peft, String name) {
        public Path checkpoint() { return outDir.resolve(CHECKPOINT); }
        public Path logFile() { return log != null ? log : outDir.resolve(TrainingRun.LOG); }
    }

    /** The end of a run. */
    public record Summary(long steps, double lastLoss, long nanos, LoraMemoryReport memory) {}

    private LoraTrainingRun() {}

    /**
     * Trains {@code lora} over the frozen {@code base} on {@code data}.
     *
     * @param resume continue from the checkpoint in the output folder
     */
    public static Summary run(LlamaWeights base, LoRA lora, TrainConfig cfg, Batch.Source data, Options o, boolean resume,
                              TrainingRun.Listener listener, java.util.function.Consumer<String> info) throws IOException {
        Files.createDirectories(o.outDir());
        long t0 = System.nanoTime();
        String optName = cfg.optimizer().name().toLowerCase(Locale.ROOT);
        try (LoraTrainer t = new LoraTrainer(base, lora, cfg)) {
            if (resume) {
                if (!Files.isRegularFile(o.checkpoint())) throw new IllegalArgumentException("--resume: no checkpoint " + o.checkpoint());
                LoraCheckpoint.State s = LoraCheckpoint.load(o.checkpoint());
                if (!s.optimizerName().equals(optName)) {
                    throw new IllegalArgumentException("--resume: the checkpoint was made with " + s.optimizerName() + ", not " + optName);
                }
                if (s.rank() != lora.rank()) throw new IllegalArgumentException("--resume: the checkpoint has rank " + s.rank() + ", not " + lora.rank());
                LoraCheckpoint.restore(s, t.entries());
                t.optimizer().restore(s.optimizer(), s.step());
                data.seek(s.dataPosition());
                TrainLog.truncate(o.logFile(), s.step());
                info.accept(String.format(Locale.ROOT, "resuming at step %d of %d (data row %d)", s.step(), cfg.steps(), s.dataPosition()));
            }
            LoraMemoryReport mem = t.memory();
            info.accept("LoRA r " + lora.rank() + ", alpha " + o.peft().loraAlpha() + " on " + lora.modules().size() + " modules; " + mem);
            long first = t.step();
            double last = Double.NaN;
            try (TrainLog log = new TrainLog(o.logFile(), resume)) {
                while (t.step() < cfg.steps()) {
                    Trainer.StepResult r = t.step(data);
                    if (!Double.isFinite(r.loss())) throw new IllegalStateException("loss is " + r.loss() + " at step " + r.step() + "; lower --lr");
                    last = r.loss();
                    log.write(r);
                    if (listener != null) listener.onStep(r, cfg, first);
                    if (o.saveEvery() > 0 && t.step() % o.saveEvery() == 0 && t.step() < cfg.steps()) {
                        LoraCheckpoint.save(o.checkpoint(), t.entries(), lora.rank(), t.optimizer(), optName, data.position());
                    }
                }
            }
            LoraCheckpoint.save(o.checkpoint(), t.entries(), lora.rank(), t.optimizer(), optName, data.position());
            PeftAdapter.write(PeftLoraMapping.fromModel(lora, o.peft()), o.outDir());
            LossCurve.write(o.outDir().resolve(TrainingRun.CURVE), TrainLog.readLosses(o.logFile()), o.name() + ": LoRA training loss");
            return new Summary(t.step(), last, System.nanoTime() - t0, mem);
        }
    }
}
