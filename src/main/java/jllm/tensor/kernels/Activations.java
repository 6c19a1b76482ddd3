package jllm.tensor.kernels;

import static jllm.tensor.kernels.Simd.F;
import static jllm.tensor.kernels.Simd.L;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Element-wise kernels of training with the Vector API ({@code TANH} and {@code EXP} lanes, within 1 ulp of
 * {@link Math}); {@link ActivationsScalar} is the scalar twin.
 *
 * <p>Spec: GELU in the tanh approximation (Hendrycks and Gimpel 2016; GPT-2's {@code gelu_new}),
 * {@code y = x/2 (1 + tanh(u))}, {@code u = sqrt(2/pi) (x + 0.044715 x^3)}, and its derivative
 * {@code 1/2 (1 + tanh u) + x/2 (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2)}; the log-sum-exp of a row with its
 * maximum subtracted first, and the scaled softmax {@code exp(x - lse) * scale} that the cross-entropy backward needs.
 */
public final class Activations {
    private Activations() {}

    static final float SQRT_2_OVER_PI = (float) Math.sqrt(2.0 / Math.PI);
    static final float C = 0.044715f;

    /** out[i] = gelu(x[i]) for i in [from, to); out may alias x. */
    public static void gelu(float[] out, float[] x, int from, int to) {
        int i = from;
        for (; i + L <= to; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, i);
            FloatVector u = v.mul(v).mul(v).mul(C).add(v).mul(SQRT_2_OVER_PI);
            v.mul(0.5f).mul(u.lanewise(VectorOperators.TANH).add(1f)).intoArray(out, i);
        }
        ActivationsScalar.gelu(out, x, i, to);
    }

    /** dx[i] += dy[i] gelu'(x[i]) for i in [from, to). */
    public static void geluBackward(float[] dx, float[] dy, float[] x, int from, int to) {
        int i = from;
        for (; i + L <= to; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, i);
            FloatVector v2 = v.mul(v);
            FloatVector t = v2.mul(v).mul(C).add(v).mul(SQRT_2_OVER_PI).lanewise(VectorOperators.TANH);
            FloatVector d = t.add(1f).mul(0.5f).add(
                    v.mul(0.5f).mul(t.mul(t).neg().add(1f)).mul(SQRT_2_OVER_PI).mul(v2.mul(3f * C).add(1f)));
            FloatVector.fromArray(F, dy, i).fma(d, FloatVector.fromArray(F, dx, i)).intoArray(dx, i);
        }
        ActivationsScalar.geluBackward(dx, dy, x, i, to);
    }

    /** log(sum_i exp(x[off + i])) over n elements, with the maximum subtracted first. */
    public static float logSumExp(float[] x, int off, int n) {
        FloatVector mv = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i + L <= n; i += L) mv = mv.max(FloatVector.fromArray(F, x, off + i));
        float max = mv.reduceLanes(VectorOperators.MAX);
        for (int j = i; j < n; j++) max = Math.max(max, x[off + j]);
        FloatVector sv = FloatVector.zero(F);
        i = 0;
        for (; i + L <= n; i += L) sv = sv.add(FloatVector.fromArray(F, x, off + i).sub(max).lanewise(VectorOperators.EXP));
        double sum = sv.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) sum += Math.exp(x[off + i] - max);
        return (float) (max + Math.log(sum));
    }

    /** x[off + i] = exp(x[off + i] - lse) * scale in place, for i in [0, n). */
    public static void softmaxScaled(float[] x, int off, int n, float lse, float scale) {
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector.fromArray(F, x, off + i).sub(lse).lanewise(VectorOperators.EXP).mul(scale).intoArray(x, off + i);
        }
        for (; i < n; i++) x[off + i] = (float) Math.exp(x[off + i] - lse) * scale;
    }
}
