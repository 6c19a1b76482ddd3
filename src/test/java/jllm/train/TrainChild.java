package jllm.train;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import jllm.model.ModelConfig;

/**
 * A training process for {@link ResumeAcrossProcessesTest}: {@code TrainChild DIR DATA MODE ARCH}, MODE "straight"
 * (8 steps), "stop" (checkpoint every 3 steps, then halt the JVM right after step 4, before any cleanup) or
 * "resume" (continue from DIR's checkpoint to 8 steps).
 */
public final class TrainChild {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        String mode = args[2];
        ModelConfig c = args[3].equals("gpt2") ? ModelConfig.gpt2(16, 2, 2, 32, 258, 32) : ModelConfig.llama(16, 2, 4, 2, 24, 258, 32);
        boolean mixed = args.length > 4 && args[4].equals("mixed");
        TrainConfig cfg = new TrainConfig(8, 2, 16, 2, TrainConfig.OptimizerKind.ADAMW,
                new LrSchedule(LrSchedule.Kind.COSINE, 3e-3, 2, 8, 3e-4), 0.1, 0.9, 0.95, 1e-8, 0.9, 1.0, 5, true, mixed, false, 2);
        Dataset d = Dataset.read(Path.of(args[1]), new ByteEncoder(), 16);
        TrainingRun.Options o = new TrainingRun.Options(dir, null, mode.equals("stop") ? 3 : 0, Map.of(), "child");
        Checkpoint.State st = mode.equals("resume") ? TrainingRun.resumeState(o, mixed) : null;
        Parameters p = st != null ? st.params() : Parameters.init(c, 11, mixed);
        TrainingRun.run(p, cfg, new DataLoader(d, 2, 16, true, cfg.seed()), o, st,
                (r, conf, first) -> { if (mode.equals("stop") && r.step() == 4) Runtime.getRuntime().halt(3); }, s -> {});
        Files.writeString(dir.resolve("done"), mode);
    }
}
