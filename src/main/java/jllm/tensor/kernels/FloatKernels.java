package jllm.tensor.kernels;

import static jllm.tensor.kernels.Simd.F;
import static jllm.tensor.kernels.Simd.L;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The small float kernels of a transformer layer, with the Vector API; {@link FloatKernelsScalar} is the
 * scalar twin. Outputs first, then inputs, then sizes; none allocates.
 *
 * <p>Spec: RMSNorm (Zhang &amp; Sennrich 2019) as ggml's {@code ggml_rms_norm} followed by the weight multiply,
 * {@code y = x / sqrt(mean(x^2) + eps) * w}; softmax with the maximum subtracted first; SwiGLU (Shazeer 2020),
 * {@code silu(g) * u} with {@code silu(g) = g / (1 + e^-g)}. The vector exponential is the Vector API's
 * {@code EXP} (within 1 ulp of {@link Math#exp}).
 */
public final class FloatKernels {
    private FloatKernels() {}

    /** {@code sum_i a[aOff + i] * b[bOff + i]}. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F);
        int i = 0;
        for (; i + 2 * L <= n; i += 2 * L) {
            s0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), s0);
            s1 = FloatVector.fromArray(F, a, aOff + i + L).fma(FloatVector.fromArray(F, b, bOff + i + L), s1);
        }
        for (; i + L <= n; i += L) s0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), s0);
        float s = s0.add(s1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    /** {@code y[yOff + i] += a * x[xOff + i]}. */
    public static void axpy(float[] y, int yOff, float a, float[] x, int xOff, int n) {
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector.fromArray(F, x, xOff + i).fma(FloatVector.broadcast(F, a), FloatVector.fromArray(F, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) y[yOff + i] += a * x[xOff + i];
    }

    /**
     * {@code sum_i a[aOff + i] * b[bOff + i]} in a fixed order: eight lane-wise fused multiply-add chains (element i
     * in lane i mod 8), the eight lanes added as the tree ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)), then the
     * tail left to right. The same bits interpreted and compiled and on any vector width, which {@link #dot} (a lane
     * reduction of unspecified order, on the machine's width) does not give and a resumed training run needs. Its
     * dependent chain for 64 elements is 8 + 3 operations, against 64 for the scalar loop it replaced in attention.
     */
    public static float dotInOrder(float[] a, int aOff, float[] b, int bOff, int n) {
        int i = 0;
        float s = 0;
        if (n >= 8) {
            FloatVector acc = FloatVector.zero(F8);
            for (; i + 8 <= n; i += 8) acc = FloatVector.fromArray(F8, a, aOff + i).fma(FloatVector.fromArray(F8, b, bOff + i), acc);
            acc = acc.add(acc.slice(4));   // lane i < 4: l_i + l_(i+4)
            acc = acc.add(acc.slice(2));   // lane i < 2: (l_i + l_(i+4)) + (l_(i+2) + l_(i+6))
            s = acc.add(acc.slice(1)).lane(0);
        }
        for (; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    /** Eight lanes whatever the machine's width: {@link #dotInOrder}'s order must not depend on it. */
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;

    /**
     * {@code y[yOff + d] += sum_j e[eOff + j] x[xOff + j*xStride + d]} for d < n, j < rows: attention's probability-
     * weighted sum of value rows. Bit for bit the same as {@link #axpy} called for j = 0, 1, ... in turn (per element
     * one fused multiply-add per row, rows in order; the scalar tail as axpy's), but each stretch of y stays in
     * registers across all rows instead of being loaded and stored once per row.
     */
    public static void axpyRows(float[] y, int yOff, float[] e, int eOff, float[] x, int xOff, int xStride, int rows, int n) {
        int d = 0;
        for (; d + 4 * L <= n; d += 4 * L) {
            FloatVector y0 = FloatVector.fromArray(F, y, yOff + d), y1 = FloatVector.fromArray(F, y, yOff + d + L);
            FloatVector y2 = FloatVector.fromArray(F, y, yOff + d + 2 * L), y3 = FloatVector.fromArray(F, y, yOff + d + 3 * L);
            for (int j = 0, xo = xOff + d; j < rows; j++, xo += xStride) {
                FloatVector a = FloatVector.broadcast(F, e[eOff + j]);
                y0 = FloatVector.fromArray(F, x, xo).fma(a, y0);
                y1 = FloatVector.fromArray(F, x, xo + L).fma(a, y1);
                y2 = FloatVector.fromArray(F, x, xo + 2 * L).fma(a, y2);
                y3 = FloatVector.fromArray(F, x, xo + 3 * L).fma(a, y3);
            }
            y0.intoArray(y, yOff + d);
            y1.intoArray(y, yOff + d + L);
            y2.intoArray(y, yOff + d + 2 * L);
            y3.intoArray(y, yOff + d + 3 * L);
        }
        for (; d + L <= n; d += L) {
            FloatVector y0 = FloatVector.fromArray(F, y, yOff + d);
            for (int j = 0, xo = xOff + d; j < rows; j++, xo += xStride) y0 = FloatVector.fromArray(F, x, xo).fma(FloatVector.broadcast(F, e[eOff + j]), y0);
            y0.intoArray(y, yOff + d);
        }
        for (; d < n; d++) {
            float acc = y[yOff + d];
            for (int j = 0; j < rows; j++) acc += e[eOff + j] * x[xOff + j * xStride + d];
            y[yOff + d] = acc;
        }
    }

    /** {@code out[outOff + i] = a[aOff + i] + b[bOff + i]} (out may alias a or b). */
    public static void add(float[] out, int outOff, float[] a, int aOff, float[] b, int bOff, int n) {
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector.fromArray(F, a, aOff + i).add(FloatVector.fromArray(F, b, bOff + i)).intoArray(out, outOff + i);
        }
        for (; i < n; i++) out[outOff + i] = a[aOff + i] + b[bOff + i];
    }

    /**
     * RMSNorm: {@code out[outOff + i] = x[xOff + i] * (1 / sqrt(mean(x^2) + eps)) * weight[i]} (out may alias x).
     */
    public static void rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] weight, int n, float eps) {
        float ss = dot(x, xOff, x, xOff, n);
        float scale = (float) (1.0 / Math.sqrt(ss / n + eps));
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector.fromArray(F, x, xOff + i).mul(scale).mul(FloatVector.fromArray(F, weight, i)).intoArray(out, outOff + i);
        }
        for (; i < n; i++) out[outOff + i] = x[xOff + i] * scale * weight[i];
    }

    /** Softmax of {@code x[off .. off + n)} in place: {@code e^(x_i - max) / sum_j e^(x_j - max)}. */
    public static void softmax(float[] x, int off, int n) {
        if (n <= 0) return;
        FloatVector mv = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i + L <= n; i += L) mv = mv.max(FloatVector.fromArray(F, x, off + i));
        float max = mv.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) max = Math.max(max, x[off + i]);
        FloatVector sv = FloatVector.zero(F);
        i = 0;
        for (; i + L <= n; i += L) {
            FloatVector e = FloatVector.fromArray(F, x, off + i).sub(max).lanewise(VectorOperators.EXP);
            e.intoArray(x, off + i);
            sv = sv.add(e);
        }
        float sum = sv.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float e = (float) Math.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        float inv = 1.0f / sum;
        i = 0;
        for (; i + L <= n; i += L) FloatVector.fromArray(F, x, off + i).mul(inv).intoArray(x, off + i);
        for (; i < n; i++) x[off + i] *= inv;
    }

    /** SwiGLU: {@code out[outOff + i] = silu(gate[gOff + i]) * up[uOff + i]} (out may alias gate or up). */
    public static void swiglu(float[] out, int outOff, float[] gate, int gOff, float[] up, int uOff, int n) {
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector g = FloatVector.fromArray(F, gate, gOff + i);
            FloatVector silu = g.div(g.neg().lanewise(VectorOperators.EXP).add(1f));
            silu.mul(FloatVector.fromArray(F, up, uOff + i)).intoArray(out, outOff + i);
        }
        for (; i < n; i++) {
            float g = gate[gOff + i];
            out[outOff + i] = g / (1f + (float) Math.exp(-g)) * up[uOff + i];
        }
    }
}
