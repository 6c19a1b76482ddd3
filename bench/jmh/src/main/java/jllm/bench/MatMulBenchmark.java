package jllm.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import jllm.tensor.GGMLType;
import jllm.tensor.Tensor;
import jllm.tensor.kernels.MatMul;
import jllm.tensor.kernels.WorkerPool;

/**
 * Prompt processing's kernel: {@code MatMul.matMul} of a batch of {@code tokens} activations against one weight of
 * the Llama-3.2-1B FFN shape (8192 x 2048). Compute-bound: the counters give tokens per second through this one
 * matrix and GFLOP/s (2 * rows * cols * tokens floating-point operations per call).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC"})
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
public class MatMulBenchmark {
    @Param({"F16", "Q8_0", "Q4_0", "Q4_K"})
    public String type;

    @Param({"INT8", "FLOAT"})
    public String path;

    @Param({"2"})
    public int threads;

    @Param({"64"})
    public int tokens;

    @Param({"8192"})
    public int rows;

    @Param({"2048"})
    public int cols;

    private Tensor w;
    private float[] x, out;
    private WorkerPool pool;
    private MatMul matMul;

    /** Tokens and (mega) floating-point operations, reported per second. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Counters {
        public long tokens;
        public long mflop;
    }

    @Setup(Level.Trial)
    public void setUp() {
        w = Weights.random(GGMLType.valueOf(type), rows, cols, 1000);
        x = Weights.activations(tokens * cols, 7);
        out = new float[tokens * rows];
        pool = new WorkerPool(threads);
        matMul = new MatMul(pool, MatMul.Path.valueOf(path));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
    }

    @Benchmark
    public float[] matMul(Counters c) {
        matMul.matMul(out, w, x, tokens);
        c.tokens += tokens;
        c.mflop += 2L * rows * cols * tokens / 1_000_000;
        return out;
    }
}
