package jllm.model;

import jllm.tensor.Tensor;
import jllm.tensor.kernels.MatMul;
import jllm.tensor.kernels.WorkerPool;

/**
 * y = x W^T for a batch of rows, W of any tensor type, on a fixed worker pool: the model's one entry point to
 * the matrix kernels, and its parallel-for for attention heads. A batch of T rows is one matrix-matrix product,
 * not T matrix-vector products.
 */
public final class Linear implements AutoCloseable {
    /** Work for item i on worker {@code worker} (0 is the calling thread). */
    @FunctionalInterface
    public interface Task {
        void run(int i, int worker);
    }

    private final WorkerPool pool;
    private final MatMul matMul;

    public Linear(int threads) {
        this.pool = new WorkerPool(threads);
        this.matMul = new MatMul(pool);
    }

    public int threads() { return pool.threads(); }

    /** out (T, w.rows) = x (T, w.cols) W^T. */
    public void apply(float[] out, Tensor w, float[] x, int T) {
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
