package jllm.train;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jllm.model.Linear;

/**
 * Adam with decoupled weight decay (Loshchilov and Hutter 2019), with PyTorch's exact semantics
 * ({@code torch.optim.AdamW}, single-tensor path): at step t (from 1), for each parameter p with gradient g,
 * <pre>
 *   p = p * (1 - lr * wd)                     (decoupled decay; wd = 0 for parameters that are not decayed)
 *   m = beta1 m + (1 - beta1) g
 *   v = beta2 v + (1 - beta2) g^2
 *   p = p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * </pre>
 * eps is added after the bias-corrected square root, as PyTorch does. Scalars are computed in double (Python
 * floats), element updates in float. Elements are split across threads in fixed ranges; each element's update is
 * independent, so the result does not depend on the thread count.
 */
public final class AdamW implements Optimizer {
    private final List<Parameters.Entry> params;
    private final Map<String, float[]> m = new LinkedHashMap<>(), v = new LinkedHashMap<>();
    private final double beta1, beta2, eps, weightDecay;
    private final Linear pool;
    private long t;

    /**
     * @param weightDecay applied to the entries whose {@code decay()} is true (matrices and embeddings by default)
     */
    public AdamW(List<Parameters.Entry> params, double beta1, double beta2, double eps, double weightDecay, Linear pool) {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("betas must be in [0, 1), got " + beta1 + ", " + beta2);
        }
        if (!(eps > 0)) throw new IllegalArgumentException("eps must be positive, got " + eps);
        if (!(weightDecay >= 0)) throw new IllegalArgumentException("weight decay must not be negative, got " + weightDecay);
        this.params = params;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.pool = pool;
        for (Parameters.Entry e : params) {
            m.put(e.name(), new float[e.value().length]);
            v.put(e.name(), new float[e.value().length]);
        }
    }

    @Override
    public void step(double lr) {
        t++;
        double bc1 = 1 - Math.pow(beta1, t), bc2 = 1 - Math.pow(beta2, t);
        float stepSize = (float) (lr / bc1), bc2Sqrt = (float) Math.sqrt(bc2);
        float b1 = (float) beta1, b2 = (float) beta2, omb1 = (float) (1 - beta1), omb2 = (float) (1 - beta2), e = (float) eps;
        for (Parameters.Entry en : params) {
            float[] p = en.value(), g = en.grad(), mm = m.get(en.name()), vv = v.get(en.name());
            float decay = (float) (1 - lr * (en.decay() ? weightDecay : 0));
            pool.parallelRange(p.length, (from, to, worker) -> {
                for (int i = from; i < to; i++) {
                    float pi = p[i] * decay;
                    float gi = g[i];
                    float mi = mm[i] * b1 + gi * omb1;
                    float vi = vv[i] * b2 + gi * gi * omb2;
                    mm[i] = mi;
                    vv[i] = vi;
                    float denom = (float) Math.sqrt(vi) / bc2Sqrt + e;
                    p[i] = pi - stepSize * (mi / denom);
                }
            });
        }
    }

    @Override
    public long steps() { return t; }

    @Override
    public Map<String, float[]> state() {
        Map<String, float[]> s = new LinkedHashMap<>();
        m.forEach((k, a) -> s.put("m." + k, a));
        v.forEach((k, a) -> s.put("v." + k, a));
        return s;
    }

    @Override
    public void restore(Map<String, float[]> state, long steps) {
        copyState(state);
        this.t = steps;
    }
}
