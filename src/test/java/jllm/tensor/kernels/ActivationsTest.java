package jllm.tensor.kernels;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * The vector GELU, its derivative, log-sum-exp and scaled softmax against their scalar twins, on lengths that are and
 * are not multiples of the vector width, with inputs over [-8, 8] (both tails of tanh). Tolerances: 4e-7 absolute +
 * 4e-7 relative per element for GELU (the vector tanh is within 1 ulp), 2e-6 relative for log-sum-exp (float lane
 * sums), 2e-6 relative per softmax element.
 */
class ActivationsTest {
    @Test
    void matchScalarTwins() {
        Random r = new Random(2);
        for (int n : new int[] {1, 7, 16, 33, 1000, 50257}) {
            float[] x = new float[n + 3], dy = new float[n + 3];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (r.nextDouble() * 16 - 8);
                dy[i] = (float) r.nextGaussian();
            }
            float[] a = new float[n + 3], b = new float[n + 3];
            Activations.gelu(a, x, 3, n + 3);
            ActivationsScalar.gelu(b, x, 3, n + 3);
            for (int i = 0; i < a.length; i++) assertThat(Math.abs(a[i] - b[i])).as("gelu n %d i %d", n, i).isLessThanOrEqualTo(4e-7f * (1 + Math.abs(b[i])));
            float[] da = new float[n + 3], db = new float[n + 3];
            java.util.Arrays.fill(da, 0.5f);
            java.util.Arrays.fill(db, 0.5f);
            Activations.geluBackward(da, dy, x, 3, n + 3);
            ActivationsScalar.geluBackward(db, dy, x, 3, n + 3);
            for (int i = 0; i < da.length; i++) assertThat(Math.abs(da[i] - db[i])).as("gelu' n %d i %d", n, i).isLessThanOrEqualTo(2e-6f * (1 + Math.abs(db[i])));
            float la = Activations.logSumExp(x, 3, n), lb = ActivationsScalar.logSumExp(x, 3, n);
            assertThat(Math.abs(la - lb)).as("logsumexp n %d", n).isLessThanOrEqualTo(2e-6f * Math.max(1, Math.abs(lb)));
            float[] sa = x.clone(), sb = x.clone();
            Activations.softmaxScaled(sa, 3, n, lb, 0.25f);
            ActivationsScalar.softmaxScaled(sb, 3, n, lb, 0.25f);
            for (int i = 0; i < sa.length; i++) assertThat(Math.abs(sa[i] - sb[i])).as("softmax n %d i %d", n, i).isLessThanOrEqualTo(2e-6f * Math.abs(sb[i]) + 1e-30f);
        }
    }
}
