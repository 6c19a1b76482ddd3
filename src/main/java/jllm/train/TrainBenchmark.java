package jllm.train;

import java.util.Arrays;
import java.util.SplittableRandom;

import jllm.generate.Benchmark;
import jllm.model.LlamaWeights;
import jllm.model.ModelConfig;

/**
 * Training throughput (a benchmark, not a test), the workload of {@code jllm bench --train}: full AdamW steps
 * (forward, backward, global-norm clipping, update) of a model on random tokens, timed step by step with the
 * procedure of the inference benchmark ({@link Benchmark#measure}: untimed warm-up steps, then one sample per timed
 * step; mean and sample standard deviation of the per-step tokens/s). Issue 5's comparison is the GPT-2 124M shape,
 * batch 4 x 64 tokens, float32, 2 threads, against llm.c's CPU trainer ({@code reference/llmc}).
 *
 * <p>The optimizer settings are fixed (they do not change the work a step does): AdamW, constant learning rate
 * 1e-4, betas 0.9 / 0.95, eps 1e-8, weight decay 0.1, gradient clipping at norm 1.
 *
 * <p><b>FLOPs per step</b> ({@link #flopsPerStep}) count the model's matrix products and attention, not the norms,
 * activations, softmax, loss or optimizer. With N = the parameters of the blocks' weight matrices (attention
 * q, k, v, output; MLP up, down and, for SwiGLU, gate), V the vocabulary, C = dim, L = layers, Q = qDim
 * (heads x head size) and T the sequence length, the forward of one token costs
 * <pre>  2 (N + V C) + 4 L Q (T + 1) / 2</pre>
 * (a multiply-add per weight of every block matrix and of the output projection, whether it is tied or not; the
 * embedding lookups are free; and QK^T plus PV over the (T + 1) / 2 keys a causal row sees on average). The
 * backward costs twice the forward (a product for the input's gradient and one for the weight's), so a step of
 * B x T tokens is {@code 3 B T} times the per-token figure. Recomputation ({@code --recompute}) runs the block
 * forwards again in the backward; that work is not counted, so the achieved GFLOP/s are model FLOPs per second (as
 * for a model-FLOPs utilisation). nanoGPT's and llm.c's estimate {@code 6 N' + 12 L Q T} per token counts all
 * parameters and the full T x T attention, so it reads higher on the same step.
 */
public final class TrainBenchmark {
    private TrainBenchmark() {}

    /**
     * One benchmark run.
     *
     * @param test         {@code train<B>x<T>}
     * @param timing       the timed steps (tokens = B x T per sample, process CPU time, collections, allocation)
     * @param flopPerStep  model FLOPs of one step ({@link #flopsPerStep})
     * @param memory       the bytes the trainer holds (weights, gradients, optimizer state, activations)
     * @param parameters   trainable parameter count
     * @param lastLoss     mean loss of the last timed step (random tokens: about ln(vocab) at initialisation)
     */
    public record Result(String test, int batch, int seq, int threads, boolean mixedPrecision, boolean recompute,
                         Benchmark.Result timing, double flopPerStep, MemoryReport memory, long parameters, double lastLoss) {
        public int tokensPerStep() { return batch * seq; }

        /** Mean seconds per timed step. */
        public double stepSeconds() { return timing.avgNs() / 1e9; }

        /** Model GFLOP of one step. */
        public double gflopPerStep() { return flopPerStep / 1e9; }

        /** Achieved model GFLOP/s: FLOPs per step over the mean step time. */
        public double gflops() { return flopPerStep / 1e9 / stepSeconds(); }

        /**
         * Process CPU seconds per timed step (all threads; idle workers spin briefly before parking, which counts), or
         * -1 where unknown. On a machine shared with other work, this / threads estimates the wall time per step the
         * same run would take with its cores to itself.
         */
        public double cpuSecondsPerStep() {
            return timing.cpuNanos() < 0 ? -1 : timing.cpuNanos() / 1e9 / timing.samplesNs().length;
        }
    }

    /**
     * Model FLOPs of one training step (forward + backward) of {@code B} sequences of {@code T} tokens: {@code 3 B T}
     * times the forward's {@code 2 (N + V C) + 4 L Q (T + 1) / 2} per token (see the class comment).
     */
    public static double flopsPerStep(ModelConfig c, int B, int T) {
        if (B <= 0 || T <= 0) throw new IllegalArgumentException("B and T must be positive, got " + B + " and " + T);
        long blockMatrices = 0;
        for (LlamaWeights.Param p : LlamaWeights.parameters(c)) {
            if (p.matrix() && p.name().startsWith("blk.")) blockMatrices += p.size();
        }
        double perToken = 2.0 * (blockMatrices + (long) c.vocab() * c.dim()) + 4.0 * c.nLayers() * c.qDim() * (T + 1) / 2.0;
        return 3 * perToken * B * T;
    }

    /**
     * Trains {@code params} (changing them) for {@code warmups} untimed and {@code repeats} timed steps of {@code B} x
     * {@code T} random tokens drawn from {@code seed}. Mixed precision follows {@code params}.
     */
    public static Result run(Parameters params, int B, int T, int threads, boolean recompute, long seed, int warmups, int repeats) {
        if (warmups < 0) throw new IllegalArgumentException("--warmup must be >= 0, got " + warmups);
        if (repeats <= 0) throw new IllegalArgumentException("-r must be positive, got " + repeats);
        ModelConfig c = params.config();
        int steps = warmups + repeats;
        TrainConfig cfg = new TrainConfig(steps, B, T, 1, TrainConfig.OptimizerKind.ADAMW,
                new LrSchedule(LrSchedule.Kind.CONSTANT, 1e-4, 0, steps, 0), 0.1, 0.9, 0.95, 1e-8, 0.9, 1.0, seed,
                false, params.mixedPrecision(), recompute, threads);
        Trainer.predict(c, cfg); // validates the shapes (a learned-position model's context) before any work
        String test = "train" + B + "x" + T;
        Batch.Source data = randomTokens(c.vocab(), B, T, seed);
        double[] loss = {Double.NaN};
        try (Trainer t = new Trainer(params, cfg)) {
            Benchmark.Result timing = Benchmark.measure(test, B * T, warmups, repeats, () -> {
                Trainer.StepResult r = t.step(data);
                if (!Double.isFinite(r.loss())) throw new IllegalStateException("loss is " + r.loss() + " at step " + r.step());
                loss[0] = r.loss();
            });
            return new Result(test, B, T, threads, params.mixedPrecision(), recompute, timing, flopsPerStep(c, B, T),
                    t.memory(), params.count(), loss[0]);
        }
    }

    /** Batches of B x T uniformly random tokens below {@code vocab}; the targets are the same stream one token on. */
    static Batch.Source randomTokens(int vocab, int B, int T, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return new Batch.Source() {
            long pos;

            @Override
            public Batch next() {
                int[] tok = new int[B * T + 1];
                for (int i = 0; i < tok.length; i++) tok[i] = r.nextInt(vocab);
                pos += B;
                return new Batch(Arrays.copyOf(tok, B * T), Arrays.copyOfRange(tok, 1, B * T + 1), B, T);
            }

            @Override
            public long position() { return pos; }

            @Override
            public void seek(long position) { pos = position; }
        };
    }
}
