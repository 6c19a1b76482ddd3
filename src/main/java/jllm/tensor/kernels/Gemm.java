package jllm.tensor.kernels;

import static jllm.tensor.kernels.Simd.F;
import static jllm.tensor.kernels.Simd.L;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Register-tiled float micro-kernels for a batched matrix product {@code out[t][r] = sum_c w[r][c] x[t][c]}
 * over a panel of already dequantized weight rows: 4 rows x 4 tokens per pass (16 accumulators), so each
 * weight vector loaded feeds four tokens and each activation vector feeds four rows. Tested (through
 * {@link MatMul#matMul}) against {@link RowDotScalar} for every row and token.
 *
 * <p>Spec: the classic GEMM register blocking (Goto &amp; van de Geijn, "Anatomy of High-Performance Matrix
 * Multiplication", 2008), reduced to its micro-kernel. Layouts: panel row {@code i} at {@code w[w0 + i*cols]};
 * token {@code t} at {@code x[x0 + t*cols]}; result {@code out[o0 + t*oStride + i]}.
 */
final class Gemm {
    private Gemm() {}

    /**
     * All {@code nr x nt} products of panel rows {@code [0, nr)} and tokens {@code [0, nt)}, tiled 4x4 with
     * 4x1, 1x4 and 1x1 edges.
     */
    static void panel(float[] w, int w0, int nr, int cols, float[] x, int x0, int nt, float[] out, int o0, int oStride) {
        int r = 0;
        for (; r + 4 <= nr; r += 4) {
            int t = 0;
            for (; t + 4 <= nt; t += 4) {
                k4x4(w, w0 + r * cols, cols, x, x0 + t * cols, out, o0 + t * oStride + r, oStride);
            }
            for (; t < nt; t++) k4x1(w, w0 + r * cols, cols, x, x0 + t * cols, out, o0 + t * oStride + r);
        }
        for (; r < nr; r++) {
            int t = 0;
            for (; t + 4 <= nt; t += 4) k1x4(w, w0 + r * cols, cols, x, x0 + t * cols, out, o0 + t * oStride + r, oStride);
            for (; t < nt; t++) out[o0 + t * oStride + r] = dot(w, w0 + r * cols, x, x0 + t * cols, cols);
        }
    }

    static void k4x4(float[] w, int w0, int n, float[] x, int x0, float[] out, int o, int oStride) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        int i = 0;
        int upper = n - (n % L);
        for (; i < upper; i += L) {
            FloatVector x0v = FloatVector.fromArray(F, x, x0 + i);
            FloatVector x1v = FloatVector.fromArray(F, x, x0 + n + i);
            FloatVector x2v = FloatVector.fromArray(F, x, x0 + 2 * n + i);
            FloatVector x3v = FloatVector.fromArray(F, x, x0 + 3 * n + i);
            FloatVector w0v = FloatVector.fromArray(F, w, w0 + i);
            a00 = w0v.fma(x0v, a00); a01 = w0v.fma(x1v, a01); a02 = w0v.fma(x2v, a02); a03 = w0v.fma(x3v, a03);
            FloatVector w1v = FloatVector.fromArray(F, w, w0 + n + i);
            a10 = w1v.fma(x0v, a10); a11 = w1v.fma(x1v, a11); a12 = w1v.fma(x2v, a12); a13 = w1v.fma(x3v, a13);
            FloatVector w2v = FloatVector.fromArray(F, w, w0 + 2 * n + i);
            a20 = w2v.fma(x0v, a20); a21 = w2v.fma(x1v, a21); a22 = w2v.fma(x2v, a22); a23 = w2v.fma(x3v, a23);
            FloatVector w3v = FloatVector.fromArray(F, w, w0 + 3 * n + i);
            a30 = w3v.fma(x0v, a30); a31 = w3v.fma(x1v, a31); a32 = w3v.fma(x2v, a32); a33 = w3v.fma(x3v, a33);
        }
        out[o] = sum(a00, w, w0, x, x0, i, n);
        out[o + 1] = sum(a10, w, w0 + n, x, x0, i, n);
        out[o + 2] = sum(a20, w, w0 + 2 * n, x, x0, i, n);
        out[o + 3] = sum(a30, w, w0 + 3 * n, x, x0, i, n);
        o += oStride;
        out[o] = sum(a01, w, w0, x, x0 + n, i, n);
        out[o + 1] = sum(a11, w, w0 + n, x, x0 + n, i, n);
        out[o + 2] = sum(a21, w, w0 + 2 * n, x, x0 + n, i, n);
        out[o + 3] = sum(a31, w, w0 + 3 * n, x, x0 + n, i, n);
        o += oStride;
        out[o] = sum(a02, w, w0, x, x0 + 2 * n, i, n);
        out[o + 1] = sum(a12, w, w0 + n, x, x0 + 2 * n, i, n);
        out[o + 2] = sum(a22, w, w0 + 2 * n, x, x0 + 2 * n, i, n);
        out[o + 3] = sum(a32, w, w0 + 3 * n, x, x0 + 2 * n, i, n);
        o += oStride;
        out[o] = sum(a03, w, w0, x, x0 + 3 * n, i, n);
        out[o + 1] = sum(a13, w, w0 + n, x, x0 + 3 * n, i, n);
        out[o + 2] = sum(a23, w, w0 + 2 * n, x, x0 + 3 * n, i, n);
        out[o + 3] = sum(a33, w, w0 + 3 * n, x, x0 + 3 * n, i, n);
    }

    /** Reduces an accumulator and adds the scalar tail {@code [i, n)} of one row-token product. */
    private static float sum(FloatVector acc, float[] w, int wr, float[] x, int xr, int i, int n) {
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += w[wr + i] * x[xr + i];
        return s;
    }

    static void k4x1(float[] w, int w0, int n, float[] x, int x0, float[] out, int o) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        int upper = n - (n % L);
        for (; i < upper; i += L) {
            FloatVector xv = FloatVector.fromArray(F, x, x0 + i);
            a0 = FloatVector.fromArray(F, w, w0 + i).fma(xv, a0);
            a1 = FloatVector.fromArray(F, w, w0 + n + i).fma(xv, a1);
            a2 = FloatVector.fromArray(F, w, w0 + 2 * n + i).fma(xv, a2);
            a3 = FloatVector.fromArray(F, w, w0 + 3 * n + i).fma(xv, a3);
        }
        out[o] = sum(a0, w, w0, x, x0, i, n);
        out[o + 1] = sum(a1, w, w0 + n, x, x0, i, n);
        out[o + 2] = sum(a2, w, w0 + 2 * n, x, x0, i, n);
        out[o + 3] = sum(a3, w, w0 + 3 * n, x, x0, i, n);
    }

    static void k1x4(float[] w, int w0, int n, float[] x, int x0, float[] out, int o, int oStride) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        int upper = n - (n % L);
        for (; i < upper; i += L) {
            FloatVector wv = FloatVector.fromArray(F, w, w0 + i);
            a0 = wv.fma(FloatVector.fromArray(F, x, x0 + i), a0);
            a1 = wv.fma(FloatVector.fromArray(F, x, x0 + n + i), a1);
            a2 = wv.fma(FloatVector.fromArray(F, x, x0 + 2 * n + i), a2);
            a3 = wv.fma(FloatVector.fromArray(F, x, x0 + 3 * n + i), a3);
        }
        out[o] = sum(a0, w, w0, x, x0, i, n);
        out[o + oStride] = sum(a1, w, w0, x, x0 + n, i, n);
        out[o + 2 * oStride] = sum(a2, w, w0, x, x0 + 2 * n, i, n);
        out[o + 3 * oStride] = sum(a3, w, w0, x, x0 + 3 * n, i, n);
    }

    static float dot(float[] w, int w0, float[] x, int x0, int n) {
        FloatVector a = FloatVector.zero(F);
        int i = 0;
        int upper = n - (n % L);
        for (; i < upper; i += L) a = FloatVector.fromArray(F, w, w0 + i).fma(FloatVector.fromArray(F, x, x0 + i), a);
        return sum(a, w, w0, x, x0, i, n);
    }
}
