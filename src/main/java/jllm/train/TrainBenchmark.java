package jllm.train;

import java.util.Locale;
import java.util.SplittableRandom;

import jllm.model.ModelConfig;

/**
 * Training throughput (a benchmark, not a test): full AdamW steps (forward, backward, clipping, update) of a
 * randomly initialised model on random tokens, reported as seconds per step, tokens per second and achieved
 * GFLOP/s. The default is the comparison of issue 5: the GPT-2 124M shape, batch 4 x 64 tokens, float32,
 * 2 threads (llm.c's CPU trainer takes about 4.7 s per step there).
 *
 * <p>FLOPs per step count the matrix products and attention: per token, the forward does
 * {@code 2 (P_matrix + vocab dim) + 4 nLayers dim (T + 1) / 2} (every weight matrix once, the output projection,
 * and QK^T and PV over the (T + 1) / 2 keys a causal row sees on average); the backward twice that.
 *
 * <pre>  java --add-modules jdk.incubator.vector -cp jllm.jar jllm.train.TrainBenchmark [steps] [threads] [B] [T] [preset]</pre>
 */
public final class TrainBenchmark {
    private TrainBenchmark() {}

    /**
     * @param cpuSecondsPerStep process CPU time per step (all threads; idle workers spin briefly before parking, which
     *                          counts): on a machine shared with other work, cpuSecondsPerStep / threads estimates the
     *                          wall time per step the same run would take with the cores to itself
     */
    public record Result(String shape, int B, int T, int threads, int steps, double secondsPerStep, double tokensPerSecond,
                         double gflopPerStep, double gflops, double cpuSecondsPerStep, MemoryReport memory) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%s, batch %d x %d, %d threads, fp32: %.3f s/step, %.1f tokens/s, %.1f GFLOP/step, "
                    + "%.1f GFLOP/s (%d steps after 1 warm-up); CPU %.3f s/step (%.3f s/step per thread, %.1f GFLOP/s per %d busy threads); %s",
                    shape, B, T, threads, secondsPerStep, tokensPerSecond, gflopPerStep, gflops, steps, cpuSecondsPerStep,
                    cpuSecondsPerStep / threads, gflopPerStep / (cpuSecondsPerStep / threads), threads, memory);
        }
    }

    private static double cpuSeconds() {
        var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean o ? o.getProcessCpuTime() / 1e9 : Double.NaN;
    }

    /** Model FLOPs of one training step (forward + backward) of B x T tokens. */
    public static double flopsPerStep(ModelConfig c, int B, int T) {
        long matrix = 0;
        for (var p : jllm.model.LlamaWeights.parameters(c)) {
            if (p.matrix() && !p.name().contains("embd")) matrix += p.size();
        }
        double perToken = 2.0 * (matrix + (long) c.vocab() * c.dim()) + 4.0 * c.nLayers() * c.qDim() * (T + 1) / 2.0;
        return 3 * perToken * B * T;
    }

    public static Result run(ModelConfig c, String shape, int B, int T, int threads, int steps) {
        TrainConfig cfg = new TrainConfig(steps + 1, B, T, 1, TrainConfig.OptimizerKind.ADAMW,
                new LrSchedule(LrSchedule.Kind.CONSTANT, 1e-4, 0, steps + 1, 0), 0.1, 0.9, 0.95, 1e-8, 0.9, 1.0, 1,
                true, false, false, threads);
        Parameters p = Parameters.init(c, 1, false);
        SplittableRandom r = new SplittableRandom(7);
        Batch.Source random = new Batch.Source() {
            long pos;
            public Batch next() {
                int[] tok = new int[B * T + 1];
                for (int i = 0; i < tok.length; i++) tok[i] = r.nextInt(c.vocab());
                pos += B;
                return new Batch(java.util.Arrays.copyOf(tok, B * T), java.util.Arrays.copyOfRange(tok, 1, B * T + 1), B, T);
            }
            public long position() { return pos; }
            public void seek(long position) { pos = position; }
        };
        try (Trainer t = new Trainer(p, cfg)) {
            t.step(random); // warm-up: JIT compilation, first touch of the buffers
            long t0 = System.nanoTime();
            double c0 = cpuSeconds();
            for (int i = 0; i < steps; i++) t.step(random);
            double s = (System.nanoTime() - t0) / 1e9 / steps, cpu = (cpuSeconds() - c0) / steps;
            double flops = flopsPerStep(c, B, T);
            return new Result(shape, B, T, threads, steps, s, B * T / s, flops / 1e9, flops / 1e9 / s, cpu, t.memory());
        }
    }

    public static void main(String[] args) {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        int B = args.length > 2 ? Integer.parseInt(args[2]) : 4;
        int T = args.length > 3 ? Integer.parseInt(args[3]) : 64;
        String preset = args.length > 4 ? args[4] : "gpt2-124m";
        ModelConfig c = Presets.get(preset, 50257);
        System.out.println(run(c, preset, B, T, threads, steps));
    }
}
