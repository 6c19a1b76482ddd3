package jllm.tensor.kernels;

import jllm.tensor.GGMLType;
import jllm.tensor.Tensor;

/**
 * Weight-times-activation products on a {@link WorkerPool}: {@link #matVec} for decoding one token and a
 * tiled {@link #matMul} for a prompt of {@code T} tokens.
 *
 * <p>Spec: GGML's {@code ggml_mul_mat} with a weight {@code w} of shape {@code (cols, rows)} (GGML order) and
 * activations of shape {@code (cols, T)}: {@code out[t][r] = sum_c w[r][c] x[t][c]}. matVec streams each weight
 * row once through the fused dequantize-and-dot kernel ({@link RowDot}); matMul dequantizes a panel of 4 rows
 * once into a per-thread buffer and multiplies it with all {@code T} tokens in 4x4 register tiles ({@link Gemm}),
 * so each weight block is read and dequantized once per call, not once per token.
 *
 * <p>Two paths ({@link Path}): FLOAT multiplies the weights with the float activation; INT8 first
 * quantizes the activation to 8 bits in ggml's format for the weight type ({@link Q8Activation}, once per call)
 * and uses integer dot products as ggml's CPU backend does ({@link RowDotInt8}), so quantized models compute what
 * llama.cpp computes; F32, F16 and BF16 weights always take the float path. On the INT8 path matMul quantizes
 * every token once and, per weight row, runs the row's integer dot with each token while the row is in cache.
 *
 * <p>Rows are split across the pool's threads. An instance holds per-thread scratch buffers that grow to the
 * largest row seen and are then reused: it allocates nothing in steady state and is not thread-safe (one per
 * model state).
 */
public final class MatMul {
    private static final int PANEL_ROWS = 4;
    /** Rows per chunk unit in matVec: keeps chunks long enough to amortize the claim. */
    private static final int MATVEC_GRAIN = 16;

    /** How quantized weights are multiplied: with the float activation, or with an 8-bit quantized one as in ggml. */
    public enum Path { FLOAT, INT8 }

    private final WorkerPool pool;
    private final Path path;
    private final Q8Activation q8 = new Q8Activation();
    private Q8Activation[] q8Tokens = new Q8Activation[0];   // (T) for the INT8 matMul
    private final MatVecTask matVecTask = new MatVecTask();
    private final MatMulTask matMulTask = new MatMulTask();
    private final float[][] panels;     // per worker: (PANEL_ROWS, cols) dequantized weight rows

    /** A MatMul on {@code pool} using the float path. */
    public MatMul(WorkerPool pool) {
        this(pool, Path.FLOAT);
    }

    public MatMul(WorkerPool pool, Path path) {
        this.pool = pool;
        this.path = path;
        this.panels = new float[pool.threads()][0];
    }

    public Path path() {
        return path;
    }

    public WorkerPool pool() {
        return pool;
    }

    /** {@code out[r] = sum_c w[r][c] x[c]}: out (rows), w (rows, cols), x (cols). */
    public void matVec(float[] out, Tensor w, float[] x) {
        matVec(out, 0, w, x, 0);
    }

    /** {@code out[outOff + r] = sum_c w[r][c] x[xOff + c]}: out (rows), w (rows, cols), x (cols). */
    public void matVec(float[] out, int outOff, Tensor w, float[] x, int xOff) {
        check(out, outOff, w, x, xOff, 1);
        MatVecTask t = matVecTask;
        t.set(out, outOff, w, x, xOff);
        t.int8 = path == Path.INT8 && RowDotInt8.supports(w.type());
        if (t.int8) {
            q8.quantize(Q8Activation.formatFor(w.type()), x, xOff, w.cols(), RowDotInt8.usesPairs(w.type()), RowDotInt8.usesTransposedPairs(w.type()));
        }
        try {
            pool.parallelFor(w.rows(), MATVEC_GRAIN, t);
        } finally {
            t.clear();
        }
    }

    /** {@code out[t][r] = sum_c w[r][c] x[t][c]}: out (T, rows), w (rows, cols), x (T, cols). */
    public void matMul(float[] out, Tensor w, float[] x, int T) {
        matMul(out, 0, w, x, 0, T);
    }

    /**
     * {@code out[outOff + t*rows + r] = sum_c w[r][c] x[xOff + t*cols + c]}: out (T, rows), w (rows, cols),
     * x (T, cols).
     */
    public void matMul(float[] out, int outOff, Tensor w, float[] x, int xOff, int T) {
        check(out, outOff, w, x, xOff, T);
        if (T == 1) {
            matVec(out, outOff, w, x, xOff);
            return;
        }
        int need = PANEL_ROWS * w.cols();
        for (int i = 0; i < panels.length; i++) {
            if (panels[i].length < need) panels[i] = new float[need];
        }
        MatMulTask t = matMulTask;
        t.set(out, outOff, w, x, xOff, T);
        t.int8 = path == Path.INT8 && RowDotInt8.supports(w.type());
        if (t.int8) {
            if (q8Tokens.length < T) {
                Q8Activation[] grown = java.util.Arrays.copyOf(q8Tokens, T);
                for (int i = q8Tokens.length; i < T; i++) grown[i] = new Q8Activation();
                q8Tokens = grown;
            }
            Q8Activation.Format f = Q8Activation.formatFor(w.type());
            boolean pairs = RowDotInt8.usesPairs(w.type()), transposed = RowDotInt8.usesTransposedPairs(w.type());
            for (int i = 0; i < T; i++) q8Tokens[i].quantize(f, x, xOff + i * w.cols(), w.cols(), pairs, transposed);
        }
        try {
            pool.parallelFor(w.rows(), PANEL_ROWS, t);
        } finally {
            t.clear();
        }
    }

    private static void check(float[] out, int outOff, Tensor w, float[] x, int xOff, int T) {
        if (T < 1) throw new IllegalArgumentException("token count " + T + " is not positive");
        long rows = w.rows(), cols = w.cols();
        if (xOff < 0 || xOff + cols * T > x.length) {
            throw new IllegalArgumentException(w.name() + ": activations need " + cols + " x " + T + " floats at offset "
                    + xOff + " but the array has " + x.length);
        }
        if (outOff < 0 || outOff + rows * T > out.length) {
            throw new IllegalArgumentException(w.name() + ": output needs " + rows + " x " + T + " floats at offset "
                    + outOff + " but the array has " + out.length);
        }
    }

    /** Rows [from, to) of a matVec: one fused dequantize-and-dot per row. */
    private final class MatVecTask implements WorkerPool.RangeTask {
        float[] out, x;
        int outOff, xOff;
        Tensor w;
        boolean int8;

        void set(float[] out, int outOff, Tensor w, float[] x, int xOff) {
            this.out = out; this.outOff = outOff; this.w = w; this.x = x; this.xOff = xOff;
        }

        void clear() {
            out = null; x = null; w = null;
        }

        @Override
        public void run(int from, int to, int worker) {
            var type = w.type();
            var data = w.data();
            long rowBytes = w.rowBytes();
            int cols = w.cols();
            if (int8 && RowDotInt8.usesTransposedPairs(type)) {   // the array and its offset fetched once per chunk, not per row
                byte[] a = RowDotInt8.interleavedBytes(w);
                int base = w.heapOffset();
                for (int r = from; r < to; r++) out[outOff + r] = RowDotInt8.interleaved(type, a, base + (int) (r * rowBytes), q8);
                return;
            }
            if (int8) {
                RowDotInt8.Kernel k = RowDotInt8.kernel(type);
                for (int r = from; r < to; r++) out[outOff + r] = k.dot(data, r * rowBytes, q8);
                return;
            }
            RowDot.Kernel k = RowDot.kernel(type);
            for (int r = from; r < to; r++) {
                out[outOff + r] = k.dot(data, r * rowBytes, x, xOff, cols);
            }
        }
    }

    /** Rows [from, to) of a matMul: panels of 4 dequantized rows times all T tokens (or int8 row dots). */
    private final class MatMulTask implements WorkerPool.RangeTask {
        float[] out, x;
        int outOff, xOff, T;
        Tensor w;
        boolean int8;

        void set(float[] out, int outOff, Tensor w, float[] x, int xOff, int T) {
            this.out = out; this.outOff = outOff; this.w = w; this.x = x; this.xOff = xOff; this.T = T;
        }

        void clear() {
            out = null; x = null; w = null;
        }

        @Override
        public void run(int from, int to, int worker) {
            if (int8 && RowDotInt8.usesTransposedPairs(w.type())) {
                GGMLType type = w.type();
                byte[] a = RowDotInt8.interleavedBytes(w);
                int base = w.heapOffset(), rowBytes = (int) w.rowBytes(), rows = w.rows();
                for (int r = from; r < to; r++) {
                    for (int i = 0; i < T; i++) {
                        out[outOff + i * rows + r] = RowDotInt8.interleaved(type, a, base + r * rowBytes, q8Tokens[i]);
                    }
                }
                return;
            }
            if (int8) {
                RowDotInt8.Kernel k = RowDotInt8.kernel(w.type());
                var data = w.data();
                long rowBytes = w.rowBytes();
                int rows = w.rows();
                for (int r = from; r < to; r++) {
                    for (int i = 0; i < T; i++) out[outOff + i * rows + r] = k.dot(data, r * rowBytes, q8Tokens[i]);
                }
                return;
            }
            float[] panel = panels[worker];
            var type = w.type();
            var data = w.data();
            long rowBytes = w.rowBytes();
            int cols = w.cols();
            int rows = w.rows();
            for (int r = from; r < to; r += PANEL_ROWS) {
                int nr = Math.min(PANEL_ROWS, to - r);
                for (int i = 0; i < nr; i++) {
                    Dequantize.dequantize(panel, i * cols, type, data, (r + i) * rowBytes, cols);
                }
                Gemm.panel(panel, 0, nr, cols, x, xOff, T, out, outOff + r, rows);
            }
        }
    }
}
