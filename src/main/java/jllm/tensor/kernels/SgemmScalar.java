package jllm.tensor.kernels;

/**
 * The scalar twin of {@link Sgemm}: {@code C (M x N) += A (M x K) B (K x N)} by the definition, one element at a
 * time, with A and B as strided float arrays ({@code A(i, k) = a[aOff + i*aRow + k*aCol]}, likewise B). The tests
 * use it as the reference for every layout the trainer uses.
 */
public final class SgemmScalar {
    private SgemmScalar() {}

    public static void gemm(float[] c, int cOff, int ldc, float[] a, int aOff, int aRow, int aCol,
                            float[] b, int bOff, int bRow, int bCol, int M, int N, int K) {
        for (int i = 0; i < M; i++) {
            for (int j = 0; j < N; j++) {
                float s = 0;
                for (int k = 0; k < K; k++) s += a[aOff + i * aRow + k * aCol] * b[bOff + k * bRow + j * bCol];
                c[cOff + i * ldc + j] += s;
            }
        }
    }
}
