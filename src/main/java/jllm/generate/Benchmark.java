package jllm.generate;

import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import jllm.model.KvCache;
import jllm.model.LlamaModel;
import jllm.model.LlamaWeights;
import jllm.tensor.Tensor;

/**
 * Throughput of a model in llama.cpp's {@code llama-bench} procedure (llama.cpp {@code examples/llama-bench}):
 * <ul>
 *   <li><b>pp</b> (prompt processing): {@code nPrompt} random tokens from position 0, run in batches of the
 *       state's size, logits of the last token only; tokens/s = nPrompt / time.</li>
 *   <li><b>tg</b> (text generation): {@code nGen} tokens fed one at a time at positions 0..nGen-1, each a random
 *       token (no sampling, as llama-bench); tokens/s = nGen / time.</li>
 * </ul>
 * The cache is emptied before every run (positions restart at 0). Warm-up runs come first and are not timed;
 * llama-bench warms up with one prompt run and one generated token, a JIT needs more, so a warm-up here is a full
 * run of the test. Every timed run is one sample; the mean and the sample standard deviation (n - 1) of the
 * per-run tokens/s are reported, as llama-bench reports {@code avg_ts} and {@code stddev_ts}.
 *
 * <p>It also counts what the timed runs cost besides time: garbage collections (the target in steady decoding is
 * none) and bytes allocated by the calling thread, which runs everything except the matrix kernels' worker chunks
 * (the workers only run preallocated tasks).
 */
public final class Benchmark {
    private final LlamaModel model;
    private final KvCache cache;
    private final LlamaModel.State state;
    private final int[] tokens;

    /**
     * A benchmark of {@code model} with a cache of {@code nCtx} positions and prompt batches of {@code batch} tokens;
     * the random tokens come from {@code seed}.
     */
    public Benchmark(LlamaModel model, int nCtx, int batch, long seed) {
        if (batch <= 0) throw new IllegalArgumentException("batch must be positive, got " + batch);
        this.model = model;
        this.cache = new KvCache(model.config(), nCtx);
        this.state = model.newState(batch);
        this.tokens = new int[nCtx];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < nCtx; i++) tokens[i] = r.nextInt(model.config().vocab());
    }

    public KvCache cache() { return cache; }
    public LlamaModel.State state() { return state; }

    /**
     * One test's samples.
     *
     * @param test      {@code pp<nPrompt>} or {@code tg<nGen>}
     * @param tokens    tokens per run
     * @param samplesNs duration of each timed run
     * @param gcCount   garbage collections during the timed runs
     * @param gcMillis  their accumulated time as the collectors report it
     * @param allocatedBytes bytes the calling thread allocated during the timed runs
     * @param cpuNanos  CPU time of the whole process during the timed runs (all threads; -1 if unknown)
     */
    public record Result(String test, int tokens, long[] samplesNs, long gcCount, long gcMillis, long allocatedBytes,
                         long cpuNanos) {
        /** Tokens per second of each run. */
        public double[] samplesTs() {
            double[] ts = new double[samplesNs.length];
            for (int i = 0; i < ts.length; i++) ts[i] = tokens * 1e9 / samplesNs[i];
            return ts;
        }

        public double avgTs() { return mean(samplesTs()); }
        public double stddevTs() { return stddev(samplesTs()); }

        public double avgNs() {
            double[] ns = new double[samplesNs.length];
            for (int i = 0; i < ns.length; i++) ns[i] = samplesNs[i];
            return mean(ns);
        }

        public double stddevNs() {
            double[] ns = new double[samplesNs.length];
            for (int i = 0; i < ns.length; i++) ns[i] = samplesNs[i];
            return stddev(ns);
        }

        /**
         * CPU time per wall-clock time of the timed runs, in cores: about the thread count when the process had the
         * machine to itself, less when other processes took the cores (spinning workers count as busy).
         */
        public double cpuUtilization() {
            long wall = 0;
            for (long ns : samplesNs) wall += ns;
            return cpuNanos < 0 ? -1 : (double) cpuNanos / wall;
        }

        /** Bytes allocated per token of the timed runs. */
        public double allocatedBytesPerToken() {
            return (double) allocatedBytes / ((long) tokens * samplesNs.length);
        }
    }

    /** pp: {@code warmups} untimed and {@code repeats} timed runs of an nPrompt-token prompt. */
    public Result prompt(int nPrompt, int warmups, int repeats) {
        checkRuns(nPrompt, warmups, repeats);
        return measure("pp" + nPrompt, nPrompt, warmups, repeats, () -> model.forward(tokens, 0, nPrompt, 0, cache, state, false));
    }

    /** tg: {@code warmups} untimed and {@code repeats} timed runs of nGen tokens decoded one at a time. */
    public Result generation(int nGen, int warmups, int repeats) {
        checkRuns(nGen, warmups, repeats);
        return measure("tg" + nGen, nGen, warmups, repeats, () -> {
            for (int i = 0; i < nGen; i++) model.forward(tokens, i, 1, i, cache, state, false);
        });
    }

    private void checkRuns(int n, int warmups, int repeats) {
        if (n <= 0) throw new IllegalArgumentException("token count must be positive, got " + n);
        if (n > cache.nCtx) throw new IllegalArgumentException(n + " tokens do not fit the benchmark's context of " + cache.nCtx);
        if (warmups < 0) throw new IllegalArgumentException("warm-up count must be >= 0, got " + warmups);
        if (repeats <= 0) throw new IllegalArgumentException("repetitions must be positive, got " + repeats);
    }

    /**
     * The procedure every test shares (also {@code jllm bench --train}'s steps): {@code warmups} untimed calls of
     * {@code run}, then {@code repeats} timed ones, each a sample of {@code n} tokens; collections, the calling
     * thread's allocation and the process CPU time are counted over the timed calls.
     */
    public static Result measure(String test, int n, int warmups, int repeats, Runnable run) {
        if (warmups < 0) throw new IllegalArgumentException("warm-up count must be >= 0, got " + warmups);
        if (repeats <= 0) throw new IllegalArgumentException("repetitions must be positive, got " + repeats);
        for (int i = 0; i < warmups; i++) run.run();
        long[] ns = new long[repeats];
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long gc0 = gcCount(), gcMs0 = gcMillis();
        // The counters' own first calls allocate (the operating-system MXBean loads classes: 468 KB, which showed up as
        // 600-2,400 "bytes per token" of steady decoding), so both are read once before the window opens.
        threads.getCurrentThreadAllocatedBytes();
        processCpuNanos();
        long alloc0 = threads.getCurrentThreadAllocatedBytes();
        long cpu0 = processCpuNanos();
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            run.run();
            ns[i] = System.nanoTime() - t0;
        }
        long alloc = threads.getCurrentThreadAllocatedBytes() - alloc0;
        long cpu1 = processCpuNanos();
        return new Result(test, n, ns, gcCount() - gc0, gcMillis() - gcMs0, alloc, cpu0 < 0 || cpu1 < 0 ? -1 : cpu1 - cpu0);
    }

    /** Looked up once: {@code ManagementFactory.getOperatingSystemMXBean()} allocates on every call. */
    private static final java.lang.management.OperatingSystemMXBean OS = ManagementFactory.getOperatingSystemMXBean();

    private static long processCpuNanos() {
        return OS instanceof com.sun.management.OperatingSystemMXBean os ? os.getProcessCpuTime() : -1;
    }

    private static long gcCount() {
        long n = 0;
        for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans()) n += Math.max(0, b.getCollectionCount());
        return n;
    }

    private static long gcMillis() {
        long n = 0;
        for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans()) n += Math.max(0, b.getCollectionTime());
        return n;
    }

    /**
     * Weight bytes one decoded token reads: every matrix of every block, the output matrix (all vocab rows), and one
     * row of the token embedding (the norm vectors are negligible and not counted), in the file's types: the same
     * figure for every engine running the file (jllm's Q4_K matrices, repacked to Q4_K_R, read 4/3 of their share). The
     * roofline of generation is (memory read bandwidth) / this.
     */
    public static long weightBytesPerToken(LlamaWeights w) {
        long b = 0;
        for (Tensor[] layer : new Tensor[][] {w.wq(), w.wk(), w.wv(), w.wo(), w.wGate(), w.wUp(), w.wDown()}) {
            if (layer == null) continue;
            for (Tensor t : layer) b += t.fileBytes();
        }
        b += w.output().fileBytes();
        b += w.tokenEmbedding().fileBytes() / w.tokenEmbedding().rows();
        return b;
    }

    /** Peak resident set size of this process ({@code VmHWM} of /proc/self/status), or -1 where there is none. */
    public static long peakRssBytes() {
        return procStatusBytes("VmHWM:");
    }

    /** Current resident set size ({@code VmRSS}), or -1 where there is none. */
    public static long rssBytes() {
        return procStatusBytes("VmRSS:");
    }

    private static long procStatusBytes(String key) {
        Path status = Path.of("/proc/self/status");
        if (!Files.isReadable(status)) return -1;
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith(key)) {
                    String[] parts = line.substring(key.length()).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024; // the kernel reports kB
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    static double mean(double[] x) {
        double s = 0;
        for (double v : x) s += v;
        return s / x.length;
    }

    /** Sample standard deviation (n - 1 in the denominator); 0 for one sample, as llama-bench. */
    static double stddev(double[] x) {
        if (x.length < 2) return 0;
        double m = mean(x), s = 0;
        for (double v : x) s += (v - m) * (v - m);
        return Math.sqrt(s / (x.length - 1));
    }
}
