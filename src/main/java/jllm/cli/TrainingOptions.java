package jllm.cli;

import java.nio.file.Path;
import java.util.Locale;

import jllm.train.LrSchedule;
import jllm.train.TrainConfig;
import picocli.CommandLine.Option;

/**
 * The training flags {@code jllm train} and {@code jllm lora train} share: one field per {@link TrainConfig} field
 * (plus the run's checkpointing and log), turned into the record by {@link #trainConfig}.
 */
public final class TrainingOptions {
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

    /** The run's settings; bad values throw naming the flag. */
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
}
