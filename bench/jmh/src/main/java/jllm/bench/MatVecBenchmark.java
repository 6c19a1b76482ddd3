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
 * Decoding's kernel: {@code MatMul.matVec} of one token against a weight of the Llama-3.2-1B FFN shape (8192 x 2048),
 * on a {@link WorkerPool} of {@code threads}. It cycles through {@code copies} distinct matrices (16 by default: 150 MB
 * of Q4_0, 512 MB of F16, more than any cache) so each call streams its weights from memory as a decoded token does.
 * The {@code weightBytes} counter is the weight bytes read per second: compare it with {@code jllm bench --memory}.
 * {@code Q4_0_R}, {@code Q8_0_R} and {@code Q4_K_R16} are Q4_0, Q8_0 and Q4_K in the layouts the engine interleaves them
 * into at load time, on heap arrays (INT8 path).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC"})
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
public class MatVecBenchmark {
    @Param({"F16", "Q8_0", "Q4_0", "Q4_K", "Q4_0_R", "Q8_0_R", "Q4_K_R16"})
    public String type;

    @Param({"INT8", "FLOAT"})
    public String path;

    @Param({"2"})
    public int threads;

    @Param({"8192"})
    public int rows;

    @Param({"2048"})
    public int cols;

    @Param({"16"})
    public int copies;

    private Tensor[] w;
    private float[] x, out;
    private WorkerPool pool;
    private MatMul matMul;
    private int next;

    /** Weight bytes read, reported per second. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Counters {
        public long weightBytes;
    }

    @Setup(Level.Trial)
    public void setUp() {
        GGMLType t = GGMLType.valueOf(type);
        w = new Tensor[copies];
        for (int i = 0; i < copies; i++) w[i] = Weights.random(t, rows, cols, 1000 + i);
        x = Weights.activations(cols, 7);
        out = new float[rows];
        pool = new WorkerPool(threads);
        matMul = new MatMul(pool, MatMul.Path.valueOf(path));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
    }

    @Benchmark
    public float[] matVec(Counters c) {
        Tensor m = w[next];
        next = next + 1 == w.length ? 0 : next + 1;
        matMul.matVec(out, m, x);
        c.weightBytes += m.data().byteSize();
        return out;
    }
}
