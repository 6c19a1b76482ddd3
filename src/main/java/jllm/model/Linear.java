package jllm.model;

import jllm.tensor.GGMLType;
import jllm.tensor.Quantize;
import jllm.tensor.Tensor;
import jllm.tensor.kernels.MatMul;
import jllm.tensor.kernels.WorkerPool;

/**
 * y = x W^T for a batch of rows, W of any tensor type, on a fixed worker pool: the model's one entry point to
 * the matrix kernels, and its parallel-for for attention heads. A batch of T rows is one matrix-matrix product,
 * not T matrix-vector products.
 *
 * <p>Activations meet half-precision weights in half precision, as in ggml (whose F16 and BF16 dot products take
 * their second operand in the weight's type): x is rounded to F16 (or BF16) once per call, so jllm's F16 models
 * agree with llama.cpp's to within float rounding rather than to the f16 rounding of every activation.
 */
public final class Linear implements AutoCloseable {
    /** Work for item i on worker {@code worker} (0 is the calling thread). */
    @FunctionalInterface
    public interface Task {
        void run(int i, int worker);
    }

    private final WorkerPool pool;
    private final MatMul matMul;
    private float[] rounded = new float[0]; // (T, cols) activations rounded to the weight's half type

    public Linear(int threads) {
        this.pool = new WorkerPool(threads);
        this.matMul = new MatMul(pool);
    }

    public int threads() { return pool.threads(); }

    /** out (T, w.rows) = x (T, w.cols) W^T. */
    public void apply(float[] out, Tensor w, float[] x, int T) {
        GGMLType type = w.type();
        if (type == GGMLType.F16 || type == GGMLType.BF16) {
            int n = T * w.cols();
            if (rounded.length < n) rounded = new float[n];
            if (type == GGMLType.F16) {
                for (int i = 0; i < n; i++) rounded[i] = Float.float16ToFloat(Float.floatToFloat16(x[i]));
            } else {
                for (int i = 0; i < n; i++) rounded[i] = Float.intBitsToFloat(Quantize.floatToBf16(x[i]) << 16);
            }
            x = rounded;
        }
        matMul.matMul(out, w, x, T);
    }

    /** Runs task(i) for i in [0, n) across the workers. */
    public void parallelFor(int n, Task task) {
        pool.parallelFor(n, 1, (from, to, worker) -> {
            for (int i = from; i < to; i++) task.run(i, worker);
        });
    }

    @Override
    public void close() {
        pool.close();
    }
}
