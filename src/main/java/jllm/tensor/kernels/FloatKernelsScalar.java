package jllm.tensor.kernels;

/**
 * Scalar twin of {@link FloatKernels}, written straight from the formulas (sums in double); the reference the
 * Vector API versions are tested against.
 *
 * <p>Spec: as {@link FloatKernels}: RMSNorm {@code x / sqrt(mean(x^2) + eps) * w}, softmax
 * {@code e^(x - max) / sum}, SwiGLU {@code g / (1 + e^-g) * u}.
 */
public final class FloatKernelsScalar {
    private FloatKernelsScalar() {}

    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) s += (double) a[aOff + i] * b[bOff + i];
        return (float) s;
    }

    public static float dotInOrder(float[] a, int aOff, float[] b, int bOff, int n) {
        return dot(a, aOff, b, bOff, n);
    }

    public static void axpy(float[] y, int yOff, float a, float[] x, int xOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] = (float) (y[yOff + i] + (double) a * x[xOff + i]);
    }

    public static void axpyRows(float[] y, int yOff, float[] e, int eOff, float[] x, int xOff, int xStride, int rows, int n) {
        for (int j = 0; j < rows; j++) axpy(y, yOff, e[eOff + j], x, xOff + j * xStride, n);
    }

    public static void add(float[] out, int outOff, float[] a, int aOff, float[] b, int bOff, int n) {
        for (int i = 0; i < n; i++) out[outOff + i] = a[aOff + i] + b[bOff + i];
    }

    public static void rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] weight, int n, float eps) {
        double ss = 0;
        for (int i = 0; i < n; i++) ss += (double) x[xOff + i] * x[xOff + i];
        double scale = 1.0 / Math.sqrt(ss / n + eps);
        for (int i = 0; i < n; i++) out[outOff + i] = (float) (x[xOff + i] * scale * weight[i]);
    }

    public static void softmax(float[] x, int off, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[off + i]);
        double sum = 0;
        double[] e = new double[n];
        for (int i = 0; i < n; i++) {
            e[i] = Math.exp(x[off + i] - max);
            sum += e[i];
        }
        for (int i = 0; i < n; i++) x[off + i] = (float) (e[i] / sum);
    }

    public static void swiglu(float[] out, int outOff, float[] gate, int gOff, float[] up, int uOff, int n) {
        for (int i = 0; i < n; i++) {
            double g = gate[gOff + i];
            out[outOff + i] = (float) (g / (1 + Math.exp(-g)) * up[uOff + i]);
        }
    }
}
