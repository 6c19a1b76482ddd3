package jllm.train;

import java.util.List;

/**
 * Clipping by global norm (Pascanu et al. 2013), as {@code torch.nn.utils.clip_grad_norm_}: the L2 norm of all
 * gradients together; if it exceeds maxNorm, every gradient is scaled by {@code maxNorm / (norm + 1e-6)}. The sum
 * of squares runs in double, in parameter order, so it does not depend on threads.
 */
public final class GradientClipping {
    private GradientClipping() {}

    public static double globalNorm(List<Parameters.Entry> params) {
        double ss = 0;
        for (Parameters.Entry e : params) {
            for (float g : e.grad()) ss += (double) g * g;
        }
        return Math.sqrt(ss);
    }

    /** Scales the gradients so their global norm is at most maxNorm (0 = no clipping); returns the norm before. */
    public static double clip(List<Parameters.Entry> params, double maxNorm) {
        double norm = globalNorm(params);
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
