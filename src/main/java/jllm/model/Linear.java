package jllm.model;

import jllm.tensor.GGMLType;
import jllm.tensor.Quantize;
import jllm.tensor.Tensor;
import jllm.tensor.kernels.MatMul;
import jllm.tensor.kernels.Sgemm;
import jllm.tensor.kernels.WorkerPool;

/**
 * y = x W^T (+ b) for a batch of rows, W of any tensor type, on a fixed worker pool, and its backward: the
 * model's one entry point to the matrix kernels, and its parallel-for for everything else. A batch of T rows is
 * one matrix-matrix product, not T matrix-vector products.
 * <pre>
 *   forward:  y (T, out) = x (T, in) W^T + b          W (out, in)
 *   backward: dx (T, in) += dy W,   dW (out, in) += dy^T x,   db (out) += sum_t dy_t
 * </pre>
 *
 * <p>Activations meet half-precision weights in half precision, as in ggml (whose F16 and BF16 dot products take
 * their second operand in the weight's type): x is rounded to F16 (or BF16) once per call, so jllm's F16 models
 * agree with llama.cpp's to within float rounding rather than to the f16 rounding of every activation. The
 * backward does the same with BF16 weights (mixed-precision training): both operands of each product are rounded
 * to bf16, and the sums are float.
 *
 * <p>Quantized weights meet 8-bit activations when fewer than {@link #FLOAT_BATCH_MIN_ROWS} rows come at once
 * (decoding: ggml's integer dot products, the numbers llama.cpp computes) and float activations in larger batches
 * (prompts), in slices of {@link #FLOAT_BATCH_SLICE} rows: dequantizing a 4-row panel once for all tokens of a slice
 * outruns one integer dot per token and row from 4 rows on (Q4_0 8192x2048, GFLOP per CPU-second on 2 threads:
 * T=4 55 vs 30, T=16 83 vs 27, T=128 124 vs 35; Q8_0 110 vs 39 and Q4_K 101 vs 21 at T=128), and slices of 128 keep
 * the slice's activations in cache (T=512 in one piece: 72). From {@link #SGEMM_MIN_ROWS} rows on, quantized weights
 * go through {@link Sgemm} like the float ones, dequantized a packed panel at a time (pp512 on the 1B Q4_0 file,
 * 2 threads: 0.021 vs 0.028 CPU-seconds per token with the 128-row slices). The rule: 8-bit activations
 * where that wins.
 */
public final class Linear implements AutoCloseable {
    /** Work for item i on worker {@code worker} (0 is the calling thread). */
    @FunctionalInterface
    public interface Task {
        void run(int i, int worker);
    }

    /** Work for items [from, to) on worker {@code worker}; handed to the pool as it is (no wrapper per call). */
    @FunctionalInterface
    public interface RangeTask extends WorkerPool.RangeTask {
    }

    /**
     * Batches from this many rows on take {@link Sgemm} for float weights. Measured on F16 weights of the Llama-3.2-1B
     * shapes (GFLOP per CPU-second, 2 threads): at 128 rows about even (8192x2048: MatMul 90, Sgemm 82; 2048x8192: 69
     * and 84), at 512 rows Sgemm 1.5-2.4x ahead (68 vs 106, 46 vs 111), at 32-64 rows MatMul ahead (73 vs 58).
     */
    static final int SGEMM_MIN_ROWS = 128;
    /** Batches from this many rows on multiply quantized weights with float activations (see the class comment). */
    static final int FLOAT_BATCH_MIN_ROWS = 4;
    /** Rows per slice of a float-activation batch against quantized weights. */
    static final int FLOAT_BATCH_SLICE = 128;

    private final WorkerPool pool;
    private final MatMul matMul;      // float path: F32/F16/BF16 weights
    private final MatMul matMulInt8;  // quantized weights meet 8-bit activations, as in ggml's CPU backend
    private final Sgemm sgemm;
    private float[] rounded = new float[0];  // activations rounded to the weight's half type
    private float[] rounded2 = new float[0]; // the second operand of a backward product
    private final Items items = new Items();  // parallelFor's adapter, reused so a call allocates nothing

    public Linear(int threads) {
        this.pool = new WorkerPool(threads);
        this.matMul = new MatMul(pool);
        this.matMulInt8 = new MatMul(pool, MatMul.Path.INT8);
        this.sgemm = new Sgemm(pool);
    }

    public int threads() { return pool.threads(); }

    /**
     * out (T, w.rows) = x (T, w.cols) W^T. Batches of F32 and BF16 weights (the types training computes with) go
     * through {@link Sgemm}, whose sums are lane-wise fused multiply-adds in a fixed order: the same bits whether the
     * code runs interpreted or compiled, which a resumed training run needs (a vector lane reduction, as in
     * {@link MatMul}'s dot products, has an unspecified order). Other types take Sgemm from {@link #SGEMM_MIN_ROWS}
     * rows on; single tokens and smaller batches use {@link MatMul}.
     */
    public void apply(float[] out, Tensor w, float[] x, int T) {
        apply(out, 0, w, x, T);
    }

    /**
     * out[outOff ..] (T, w.rows) = x (T, w.cols) W^T. Batches of at least {@link #SGEMM_MIN_ROWS} rows (of any weight
     * type; F32 and BF16 from 2 rows) go through the cache-blocked {@link Sgemm} (packed weight panels, dequantized per
     * panel), the rest through {@link MatMul} (a fused dequantize-dot per row for one token, 4-row panels times the
     * tokens of a slice otherwise).
     */
    public void apply(float[] out, int outOff, Tensor w, float[] x, int T) {
        GGMLType type = w.type();
        if (type == GGMLType.F16 || type == GGMLType.BF16) {
            rounded = round(rounded, type, x, T * w.cols());
            x = rounded;
        }
        int rows = w.rows(), cols = w.cols();
        if (outOff < 0 || outOff + (long) T * rows > out.length) {
            throw new IllegalArgumentException(w.name() + ": output needs " + rows + " x " + T + " floats at offset " + outOff
                    + " but the array has " + out.length);
        }
        // F32/BF16 batches (training) always take Sgemm (its fixed summation order keeps resumes bit-exact); F16 and
        // quantized batches from SGEMM_MIN_ROWS rows on, where it outruns MatMul's panels.
        if (T > 1 && (type == GGMLType.F32 || type == GGMLType.BF16) || T >= SGEMM_MIN_ROWS) {
            java.util.Arrays.fill(out, outOff, outOff + T * rows, 0f);
            sgemm.gemm(out, outOff, rows, x, 0, cols, 1, Sgemm.Operand.of(w, true), T, rows, cols);
            return;
        }
        if (type.isQuantized() && T < FLOAT_BATCH_MIN_ROWS) {
            matMulInt8.matMul(out, outOff, w, x, 0, T);
            return;
        }
        for (int t0 = 0; t0 < T; t0 += FLOAT_BATCH_SLICE) {
            matMul.matMul(out, outOff + t0 * rows, w, x, t0 * cols, Math.min(FLOAT_BATCH_SLICE, T - t0));
        }
    }

    /**
     * out (T, w.rows) = x W^T + bias (bias may be null). The bias is added on the calling thread: T * rows additions
     * are noise next to the product's T * rows * cols.
     */
    public void apply(float[] out, Tensor w, float[] bias, float[] x, int T) {
        apply(out, w, x, T);
        if (bias != null) {
            int n = w.rows();
            for (int t = 0; t < T; t++) for (int i = 0; i < n; i++) out[t * n + i] += bias[i];
        }
    }

    /**
     * The backward of {@link #apply(float[], Tensor, float[], float[], int)}: dx (T, w.cols) += dy W when dx is not
     * null, dW (w.rows, w.cols) += dy^T x when dW is not null, db += column sums of dy when db is not null.
     */
    public void backward(float[] dx, float[] dW, float[] db, Tensor w, float[] dy, float[] x, int T) {
        int out = w.rows(), in = w.cols();
        GGMLType type = w.type();
        boolean half = type == GGMLType.F16 || type == GGMLType.BF16;
        float[] g = dy;
        if (half) {
            rounded2 = round(rounded2, type, dy, T * out);
            g = rounded2;
        }
        if (dx != null) sgemm.gemm(dx, 0, in, g, 0, out, 1, Sgemm.Operand.of(w, false), T, in, out);
        if (dW != null) {
            float[] xs = x;
            if (half) {
                rounded = round(rounded, type, x, T * in);
                xs = rounded;
            }
            // dW(o, i) += sum_t dy(t, o) x(t, i): A = dy^T (strides 1, out), B = x (T, in)
            sgemm.gemm(dW, 0, in, g, 0, 1, out, Sgemm.Operand.of(xs, 0, in, 1), out, in, T);
        }
        if (db != null) {
            parallelRange(out, (from, to, worker) -> {
                for (int t = 0; t < T; t++) for (int o = from; o < to; o++) db[o] += dy[t * out + o];
            });
        }
    }

    private static float[] round(float[] buf, GGMLType type, float[] x, int n) {
        if (buf.length < n) buf = new float[n];
        if (type == GGMLType.F16) {
            for (int i = 0; i < n; i++) buf[i] = Float.float16ToFloat(Float.floatToFloat16(x[i]));
        } else {
            for (int i = 0; i < n; i++) buf[i] = Float.intBitsToFloat(Quantize.floatToBf16(x[i]) << 16);
        }
        return buf;
    }

    /** Runs task(i) for i in [0, n) across the workers. Not reentrant (one call at a time, as the pool). */
    public void parallelFor(int n, Task task) {
        Items it = items;
        it.task = task;
        try {
            pool.parallelFor(n, 1, it);
        } finally {
            it.task = null;
        }
    }

    /** Runs task over [0, n) in ranges across the workers (ranges of 16 unless n is small). */
    public void parallelRange(int n, RangeTask task) {
        pool.parallelFor(n, n >= 64 ? 16 : 1, task);
    }

    /** Item by item over a range: the body of {@link #parallelFor}. */
    private static final class Items implements WorkerPool.RangeTask {
        Task task;

        @Override
        public void run(int from, int to, int worker) {
            for (int i = from; i < to; i++) task.run(i, worker);
        }
    }

    @Override
    public void close() {
        pool.close();
    }
}
