package jllm.generate;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import jllm.tensor.kernels.WorkerPool;

/**
 * Main-memory read bandwidth, measured the way decoding reads weights: a STREAM-like "sum" kernel (McCalpin, STREAM,
 * whose kernels are copy/scale/add/triad; this is the read-only reduction that memory-bound matrix-vector products
 * approach) over an off-heap buffer much larger than the caches, split across the same {@link WorkerPool} the model
 * uses. Each pass reads every byte once with 4 independent vector accumulators at the preferred vector width; the
 * rate is bytes / seconds (GB = 10^9 bytes). It gives the roofline of generation: tokens/s <= bandwidth / weight
 * bytes per token.
 *
 * <p>This measuring instrument uses the Vector API outside {@code jllm.tensor.kernels} (STYLE habit 4): it is not
 * a compute kernel of the model, and keeping it next to {@link Benchmark} leaves the kernels package to the kernels.
 */
public final class MemoryBandwidth {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final long UNIT = 1 << 16; // bytes per parallel-for unit

    private MemoryBandwidth() {}

    /**
     * @param bytes     size of the buffer read per pass
     * @param threads   worker threads (the caller counts as one)
     * @param samplesNs duration of each timed pass
     */
    public record Result(long bytes, int threads, long[] samplesNs) {
        /** GB/s (10^9 bytes per second) of each pass. */
        public double[] samplesGBs() {
            double[] g = new double[samplesNs.length];
            for (int i = 0; i < g.length; i++) g[i] = (double) bytes / samplesNs[i];
            return g;
        }

        public double meanGBs() { return Benchmark.mean(samplesGBs()); }
        public double stddevGBs() { return Benchmark.stddev(samplesGBs()); }

        /** The fastest pass: the closest the machine came to its peak. */
        public double bestGBs() {
            double best = 0;
            for (double g : samplesGBs()) best = Math.max(best, g);
            return best;
        }
    }

    /** {@code warmups} untimed and {@code repeats} timed read passes over a buffer of {@code bytes}. */
    public static Result measure(long bytes, int threads, int warmups, int repeats) {
        if (bytes < UNIT || bytes % UNIT != 0) {
            throw new IllegalArgumentException("buffer size " + bytes + " must be a positive multiple of " + UNIT + " bytes");
        }
        if (warmups < 0 || repeats <= 0) throw new IllegalArgumentException("warm-ups " + warmups + " / repeats " + repeats);
        int units = Math.toIntExact(bytes / UNIT);
        try (Arena arena = Arena.ofShared(); WorkerPool pool = new WorkerPool(threads)) {
            MemorySegment buf = arena.allocate(bytes, 64);
            // Touch every page (and give the data a value) before timing: the first pass would otherwise measure page faults.
            pool.parallelFor(units, 1, (from, to, worker) -> buf.asSlice(from * UNIT, (to - from) * UNIT).fill((byte) 0x3f));
            double[] sums = new double[threads];
            WorkerPool.RangeTask sum = (from, to, worker) -> sums[worker] += sum(buf, from * UNIT, to * UNIT);
            for (int i = 0; i < warmups; i++) pool.parallelFor(units, 1, sum);
            long[] ns = new long[repeats];
            for (int i = 0; i < repeats; i++) {
                long t0 = System.nanoTime();
                pool.parallelFor(units, 1, sum);
                ns[i] = System.nanoTime() - t0;
            }
            double total = 0;
            for (double s : sums) total += s;
            if (!Double.isFinite(total)) throw new IllegalStateException("bandwidth pass summed to " + total);
            return new Result(bytes, threads, ns);
        }
    }

    /** The float sum of bytes [from, to) read as floats (to - from a multiple of 4 vectors). */
    static double sum(MemorySegment s, long from, long to) {
        long step = F.vectorByteSize();
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        ByteOrder o = ByteOrder.nativeOrder();
        for (long p = from; p < to; p += 4 * step) {
            a0 = a0.add(FloatVector.fromMemorySegment(F, s, p, o));
            a1 = a1.add(FloatVector.fromMemorySegment(F, s, p + step, o));
            a2 = a2.add(FloatVector.fromMemorySegment(F, s, p + 2 * step, o));
            a3 = a3.add(FloatVector.fromMemorySegment(F, s, p + 3 * step, o));
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }
}
