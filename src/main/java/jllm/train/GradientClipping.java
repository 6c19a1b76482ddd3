package jllm.train;

import java.util.List;

import jllm.model.Linear;

/**
 * Clipping by global norm (Pascanu et al. 2013), as {@code torch.nn.utils.clip_grad_norm_}: the L2 norm of all
 * gradients together; if it exceeds maxNorm, every gradient is scaled by {@code maxNorm / (norm + 1e-6)}. The sum
 * of squares runs in double over fixed chunks, added in parameter and chunk order, so it depends neither on the
 * threads nor on whether the code runs interpreted or compiled.
 */
public final class GradientClipping {
    private GradientClipping() {}

    /** Elements per partial sum: each chunk is summed in double, then the chunks in order. */
    static final int CHUNK = 1 << 14;

    public static double globalNorm(List<Parameters.Entry> params) {
        return globalNorm(params, null);
    }

    /** The global L2 norm; chunks of each gradient are summed on the pool's threads (null: this thread), in order. */
    public static double globalNorm(List<Parameters.Entry> params, Linear pool) {
        double ss = 0;
        for (Parameters.Entry e : params) {
            float[] g = e.grad();
            int chunks = (g.length + CHUNK - 1) / CHUNK;
            double[] part = new double[chunks];
            Linear.RangeTask task = (from, to, worker) -> {
                for (int c = from; c < to; c++) {
                    int o = c * CHUNK, n = Math.min(CHUNK, g.length - o);
                    double sum = 0;
                    for (int i = o; i < o + n; i++) sum += (double) g[i] * g[i];
                    part[c] = sum;
                }
            };
            if (pool == null) task.run(0, chunks, 0);
            else pool.parallelFor(chunks, (c, w) -> task.run(c, c + 1, w));
            for (double p : part) ss += p;
        }
        return Math.sqrt(ss);
    }

    /** Scales the gradients so their global norm is at most maxNorm (0 = no clipping); returns the norm before. */
    public static double clip(List<Parameters.Entry> params, double maxNorm) {
        return clip(params, maxNorm, null);
    }

    public static double clip(List<Parameters.Entry> params, double maxNorm, Linear pool) {
        double norm = globalNorm(params, pool);
        if (maxNorm > 0) {
            double coef = maxNorm / (norm + 1e-6);
            if (coef < 1) {
                float c = (float) coef;
                for (Parameters.Entry e : params) {
                    float[] g = e.grad();
                    for (int i = 0; i < g.length; i++) g[i] *= c;
                }
            }
        }
        return norm;
    }
}
