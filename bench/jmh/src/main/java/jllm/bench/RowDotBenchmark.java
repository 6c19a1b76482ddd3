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
import org.openjdk.jmh.annotations.Warmup;

import jllm.tensor.GGMLType;
import jllm.tensor.Tensor;
import jllm.tensor.kernels.Q8Activation;
import jllm.tensor.kernels.RowDot;
import jllm.tensor.kernels.RowDotInt8;

/**
 * The fused dequantize-and-dot kernels alone, one thread, on 64 rows of 2048 columns that stay in cache: the
 * compute speed of each block format, float path ({@code RowDot}) against 8-bit activations ({@code RowDotInt8}).
 * If these cannot outrun memory, no threading will; the {@code weightBytes} counter is comparable with the read
 * bandwidth of one core.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class RowDotBenchmark {
    @Param({"F16", "Q8_0", "Q4_0", "Q4_K"})
    public String type;

    @Param({"2048"})
    public int cols;

    private static final int ROWS = 64;
    private Tensor w;
    private float[] x;
    private final Q8Activation q8 = new Q8Activation();

    /** Weight bytes read, reported per second. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Counters {
        public long weightBytes;
    }

    @Setup(Level.Trial)
    public void setUp() {
        GGMLType t = GGMLType.valueOf(type);
        w = Weights.random(t, ROWS, cols, 1000);
        x = Weights.activations(cols, 7);
        if (RowDotInt8.supports(t)) q8.quantize(Q8Activation.formatFor(t), x, 0, cols);
    }

    @Benchmark
    public float floatPath(Counters c) {
        GGMLType t = w.type();
        long rowBytes = w.rowBytes();
        float s = 0;
        for (int r = 0; r < ROWS; r++) s += RowDot.dot(t, w.data(), r * rowBytes, x, 0, cols);
        c.weightBytes += ROWS * rowBytes;
        return s;
    }

    @Benchmark
    public float int8Path(Counters c) {
        GGMLType t = w.type();
        if (!RowDotInt8.supports(t)) return floatPath(c);
        long rowBytes = w.rowBytes();
        float s = 0;
        for (int r = 0; r < ROWS; r++) s += RowDotInt8.dot(t, w.data(), r * rowBytes, q8);
        c.weightBytes += ROWS * rowBytes;
        return s;
    }
}
