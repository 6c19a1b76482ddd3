package jllm.train;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jllm.model.Linear;

/**
 * Stochastic gradient descent with momentum, with PyTorch's semantics ({@code torch.optim.SGD}, dampening 0): at
 * each step, for each parameter p with gradient g,
 * <pre>
 *   d = g + wd p                              (coupled L2 decay; wd = 0 for parameters that are not decayed)
 *   b = d on the first step, else momentum * b + d
 *   p = p - lr * (nesterov ? d + momentum * b : b)
 * </pre>
 * (Sutskever et al. 2013). With momentum 0 no buffer is kept.
 */
public final class SGD implements Optimizer {
    private final List<Parameters.Entry> params;
    private final Map<String, float[]> buf = new LinkedHashMap<>();
    private final double momentum, weightDecay;
    private final boolean nesterov;
    private final Linear pool;
    private long t;

    public SGD(List<Parameters.Entry> params, double momentum, double weightDecay, boolean nesterov, Linear pool) {
        if (!(momentum >= 0 && momentum < 1)) throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
        if (!(weightDecay >= 0)) throw new IllegalArgumentException("weight decay must not be negative, got " + weightDecay);
        this.params = params;
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        this.nesterov = nesterov;
        this.pool = pool;
        if (momentum > 0) for (Parameters.Entry e : params) buf.put(e.name(), new float[e.value().length]);
    }

    @Override
    public void step(double lr) {
        boolean first = t == 0;
        t++;
        float mu = (float) momentum, rate = (float) lr;
        for (Parameters.Entry en : params) {
            float[] p = en.value(), g = en.grad(), b = buf.get(en.name());
            float wd = (float) (en.decay() ? weightDecay : 0);
            pool.parallelRange(p.length, (from, to, worker) -> {
                for (int i = from; i < to; i++) {
                    float d = wd == 0 ? g[i] : g[i] + wd * p[i];
                    if (b != null) {
                        float bi = first ? d : b[i] * mu + d;
                        b[i] = bi;
                        d = nesterov ? d + mu * bi : bi;
                    }
                    p[i] -= rate * d;
                }
            });
        }
    }

    @Override
    public long steps() { return t; }

    @Override
    public Map<String, float[]> state() {
        Map<String, float[]> s = new LinkedHashMap<>();
        buf.forEach((k, a) -> s.put("momentum." + k, a));
        return s;
    }

    @Override
    public void restore(Map<String, float[]> state, long steps) {
        copyState(state);
        this.t = steps;
    }
}
