package jllm.tensor.kernels;

import static jllm.tensor.kernels.Simd.F;
import static jllm.tensor.kernels.Simd.L;

import jdk.incubator.vector.FloatVector;
import jllm.tensor.DequantizeScalar;
import jllm.tensor.GGMLType;
import jllm.tensor.Tensor;

/**
 * Accumulating float matrix product {@code C (M x N) += A (M x K) B (K x N)} on a {@link WorkerPool}, with the
 * Vector API; {@link SgemmScalar} is its scalar twin. It serves training: the forward product of activations with
 * a weight's transpose, the input gradient {@code dX += dY W} and the weight gradient {@code dW += dY^T X}, which
 * differ only in how A and B are laid out, so both operands are given as strided views:
 * <pre>
 *   A(i, k) = a[aOff + i*aRow + k*aCol]       (aRow = K, aCol = 1: row-major; aRow = 1, aCol = M: transposed)
 *   B(k, j) = an {@link Operand}: a strided float array, or an F32/F16/BF16 weight tensor W (rows, cols)
 *             read as B = W (k = row) or B = W^T (k = column); a block-quantized W only as B = W^T (prompts)
 *   C(i, j) = c[cOff + i*ldc + j]
 * </pre>
 *
 * <p>Spec: the GotoBLAS decomposition (Goto &amp; van de Geijn, "Anatomy of High-Performance Matrix
 * Multiplication", 2008): B is packed, converted to float, into a per-thread panel of {@code KC x NB} that stays in
 * L1 (NB = 4 vectors), and a 4 x NB register tile of C (16 accumulators) is updated by broadcasting A's elements,
 * one fused multiply-add per element of the panel and row. Work is split across threads by column blocks of C
 * (and row ranges when there are few column blocks); every element of C is computed by one thread in a fixed
 * order over k, so results do not depend on the thread count or on timing.
 */
public final class Sgemm {
    /** Columns of a panel: four vectors. */
    static final int NB = 4 * L;
    /** Depth of a panel: KC * NB floats = 32 KiB, within L1. */
    static final int KC = 8192 / NB;

    /** Floats of a worker's row scratch: a panel's depth plus the blocks a quantized row is dequantized in. */
    static final int SCRATCH = KC + 2 * 256;

    private final WorkerPool pool;
    private final float[][] panels;  // per worker: (KC, NB) packed B
    private final float[][] scratch; // per worker: (SCRATCH) one converted weight row
    private final float[][] tiles;   // per worker: (4, NB) a partial tile of C

    public Sgemm(WorkerPool pool) {
        this.pool = pool;
        this.panels = new float[pool.threads()][KC * NB];
        this.scratch = new float[pool.threads()][SCRATCH];
        this.tiles = new float[pool.threads()][4 * NB];
    }

    public WorkerPool pool() {
        return pool;
    }

    /** The B operand: packs {@code B(k0 + kk, j0 + jj)} for kk < kc, jj < nb into {@code dst[kk * NB + jj]}. */
    public sealed interface Operand permits Strided, Weight {
        /** B(k, j) = b[off + k*row + j*col]. */
        static Operand of(float[] b, int off, int row, int col) {
            return new Strided(b, off, row, col);
        }

        /**
         * B = W (transposed = false: B(k, j) = W[k][j]) or B = W^T (B(k, j) = W[j][k]); W F32, F16 or BF16, or, for
         * B = W^T (the forward product x W^T), any block-quantized type, dequantized a panel at a time.
         */
        static Operand of(Tensor w, boolean transposed) {
            GGMLType t = w.type();
            boolean half = t == GGMLType.F32 || t == GGMLType.F16 || t == GGMLType.BF16;
            if (!half && !(transposed && t.isQuantized())) {
                throw new IllegalArgumentException(w.name() + ": Sgemm reads F32, F16 or BF16 weights"
                        + (transposed ? " or quantized ones" : " (quantized ones only as W^T)") + ", not " + t);
            }
            return new Weight(w, transposed);
        }

        int rows();

        int cols();

        /** {@code scratch} holds at least {@link #SCRATCH} floats. */
        void pack(float[] dst, float[] scratch, int k0, int kc, int j0, int nb);
    }

    record Strided(float[] b, int off, int row, int col) implements Operand {
        public int rows() { return -1; }
        public int cols() { return -1; }

        public void pack(float[] dst, float[] scratch, int k0, int kc, int j0, int nb) {
            for (int kk = 0; kk < kc; kk++) {
                int src = off + (k0 + kk) * row + j0 * col;
                int d = kk * NB;
                if (col == 1) {
                    System.arraycopy(b, src, dst, d, nb);
                } else {
                    for (int jj = 0; jj < nb; jj++) dst[d + jj] = b[src + jj * col];
                }
            }
        }
    }

    record Weight(Tensor w, boolean transposed) implements Operand {
        public int rows() { return transposed ? w.cols() : w.rows(); }
        public int cols() { return transposed ? w.rows() : w.cols(); }

        public void pack(float[] dst, float[] scratch, int k0, int kc, int j0, int nb) {
            GGMLType type = w.type();
            if (type.isQuantized()) {
                // B(k, j) = W[j][k] with k in [k0, k0 + kc): dequantize the whole blocks that hold that range (a K-quant
                // super-block of 256 can straddle two panels of KC), then take the range. The interleaved types'
                // 512-weight groups interleave 16 blocks of 32, which decode on their own: only those of the range
                // are decoded.
                boolean interleaved = type.isInterleaved();
                int bs = interleaved ? 32 : type.blockSize;
                int kb = k0 / bs * bs, ke = Math.min(w.cols(), (k0 + kc + bs - 1) / bs * bs);
                for (int jj = 0; jj < nb; jj++) {
                    long row = (j0 + jj) * w.rowBytes();
                    if (interleaved) DequantizeScalar.interleavedBlocks(type, scratch, 0, w.data(), row, kb / bs, (ke - kb) / bs);
                    else Dequantize.dequantize(scratch, 0, type, w.data(), row + (long) (kb / bs) * type.typeSize, ke - kb);
                    for (int kk = 0; kk < kc; kk++) dst[kk * NB + jj] = scratch[k0 - kb + kk];
                }
                return;
            }
            long elem = type == GGMLType.F32 ? 4 : 2;
            if (!transposed) {
                for (int kk = 0; kk < kc; kk++) {
                    Dequantize.dequantize(dst, kk * NB, w.type(), w.data(), (k0 + kk) * w.rowBytes() + j0 * elem, nb);
                }
            } else {
                // B(k, j) = W[j][k]: weight row j, converted once into scratch, is column jj of the panel
                for (int jj = 0; jj < nb; jj++) {
                    Dequantize.dequantize(scratch, 0, w.type(), w.data(), (j0 + jj) * w.rowBytes() + k0 * elem, kc);
                    for (int kk = 0; kk < kc; kk++) dst[kk * NB + jj] = scratch[kk];
                }
            }
        }
    }

    /**
     * {@code C += A B} as described in the class comment.
     *
     * @throws IllegalArgumentException naming the sizes when an operand does not hold its (M, K), (K, N) or (M, N) elements
     */
    public void gemm(float[] c, int cOff, int ldc, float[] a, int aOff, int aRow, int aCol, Operand b, int M, int N, int K) {
        check(c, cOff, ldc, a, aOff, aRow, aCol, b, M, N, K);
        if (M == 0 || N == 0 || K == 0) return;
        int jBlocks = (N + NB - 1) / NB;
        int want = 4 * pool.threads();
        int iChunks = jBlocks >= want ? 1 : Math.min((M + 3) / 4, (want + jBlocks - 1) / jBlocks);
        int iChunk = ((M + iChunks - 1) / iChunks + 3) / 4 * 4;
        int iCount = (M + iChunk - 1) / iChunk;
        pool.parallelFor(jBlocks * iCount, 1, (from, to, worker) -> {
            float[] panel = panels[worker];
            for (int task = from; task < to; task++) {
                int jb = task / iCount, ib = task % iCount;
                int j0 = jb * NB, nb = Math.min(NB, N - j0);
                int i0 = ib * iChunk, i1 = Math.min(M, i0 + iChunk);
                for (int k0 = 0; k0 < K; k0 += KC) {
                    int kc = Math.min(KC, K - k0);
                    if (nb < NB) {
                        for (int kk = 0; kk < kc; kk++) java.util.Arrays.fill(panel, kk * NB + nb, kk * NB + NB, 0f);
                    }
                    b.pack(panel, scratch[worker], k0, kc, j0, nb);
                    block(c, cOff, ldc, a, aOff, aRow, aCol, panel, tiles[worker], i0, i1, k0, kc, j0, nb);
                }
            }
        });
    }

    static void check(float[] c, int cOff, int ldc, float[] a, int aOff, int aRow, int aCol, Operand b, int M, int N, int K) {
        if (M < 0 || N < 0 || K < 0) throw new IllegalArgumentException("negative size M " + M + ", N " + N + ", K " + K);
        if (ldc < N) throw new IllegalArgumentException("ldc " + ldc + " is less than N " + N);
        if (M > 0 && N > 0 && (cOff < 0 || cOff + (long) (M - 1) * ldc + N > c.length)) {
            throw new IllegalArgumentException("C needs " + M + " x " + N + " (ldc " + ldc + ") floats at " + cOff + " but has " + c.length);
        }
        if (M > 0 && K > 0) {
            long last = aOff + (long) (M - 1) * aRow + (long) (K - 1) * aCol;
            if (aOff < 0 || aRow < 0 || aCol < 0 || last >= a.length) {
                throw new IllegalArgumentException("A of " + M + " x " + K + " (strides " + aRow + ", " + aCol + ") at " + aOff
                        + " does not fit " + a.length + " floats");
            }
        }
        if (b instanceof Strided s && K > 0 && N > 0) {
            long last = s.off() + (long) (K - 1) * s.row() + (long) (N - 1) * s.col();
            if (s.off() < 0 || s.row() < 0 || s.col() < 0 || last >= s.b().length) {
                throw new IllegalArgumentException("B of " + K + " x " + N + " (strides " + s.row() + ", " + s.col() + ") at " + s.off()
                        + " does not fit " + s.b().length + " floats");
            }
        } else if (b instanceof Weight w && (w.rows() != K || w.cols() != N)) {
            throw new IllegalArgumentException(w.w().name() + (w.transposed() ? " transposed" : "") + " is " + w.rows() + " x "
                    + w.cols() + ", expected K x N = " + K + " x " + N);
        }
    }

    /**
     * Rows [i0, i1) of C, columns [j0, j0 + nb), depth [k0, k0 + kc) from the packed panel. A partial column block
     * (nb < NB) is computed into {@code tile} and added element by element.
     */
    private static void block(float[] c, int cOff, int ldc, float[] a, int aOff, int aRow, int aCol, float[] panel,
                              float[] tile, int i0, int i1, int k0, int kc, int j0, int nb) {
        boolean full = nb == NB;
        int i = i0;
        for (; i + 4 <= i1; i += 4) {
            int ap = aOff + i * aRow + k0 * aCol;
            if (full) {
                kernel4(c, cOff + i * ldc + j0, ldc, a, ap, aRow, aCol, panel, kc);
            } else {
                java.util.Arrays.fill(tile, 0, 4 * NB, 0f);
                kernel4(tile, 0, NB, a, ap, aRow, aCol, panel, kc);
                for (int r = 0; r < 4; r++) {
                    for (int jj = 0; jj < nb; jj++) c[cOff + (i + r) * ldc + j0 + jj] += tile[r * NB + jj];
                }
            }
        }
        for (; i < i1; i++) {
            int ap = aOff + i * aRow + k0 * aCol;
            if (full) {
                kernel1(c, cOff + i * ldc + j0, a, ap, aCol, panel, kc);
            } else {
                java.util.Arrays.fill(tile, 0, NB, 0f);
                kernel1(tile, 0, a, ap, aCol, panel, kc);
                for (int jj = 0; jj < nb; jj++) c[cOff + i * ldc + j0 + jj] += tile[jj];
            }
        }
    }

    /** c[o + r*ldc + (0..NB)] += sum_kk A(r, kk) panel[kk][0..NB) for r < 4: 16 accumulators. */
    private static void kernel4(float[] c, int o, int ldc, float[] a, int ap, int aRow, int aCol, float[] panel, int kc) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c03 = c00;
        FloatVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00;
        FloatVector c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        int a1 = aRow, a2 = 2 * aRow, a3 = 3 * aRow;
        for (int kk = 0, p = 0; kk < kc; kk++, ap += aCol, p += NB) {
            FloatVector b0 = FloatVector.fromArray(F, panel, p);
            FloatVector b1 = FloatVector.fromArray(F, panel, p + L);
            FloatVector b2 = FloatVector.fromArray(F, panel, p + 2 * L);
            FloatVector b3 = FloatVector.fromArray(F, panel, p + 3 * L);
            FloatVector x = FloatVector.broadcast(F, a[ap]);
            c00 = b0.fma(x, c00); c01 = b1.fma(x, c01); c02 = b2.fma(x, c02); c03 = b3.fma(x, c03);
            x = FloatVector.broadcast(F, a[ap + a1]);
            c10 = b0.fma(x, c10); c11 = b1.fma(x, c11); c12 = b2.fma(x, c12); c13 = b3.fma(x, c13);
            x = FloatVector.broadcast(F, a[ap + a2]);
            c20 = b0.fma(x, c20); c21 = b1.fma(x, c21); c22 = b2.fma(x, c22); c23 = b3.fma(x, c23);
            x = FloatVector.broadcast(F, a[ap + a3]);
            c30 = b0.fma(x, c30); c31 = b1.fma(x, c31); c32 = b2.fma(x, c32); c33 = b3.fma(x, c33);
        }
        c00.add(FloatVector.fromArray(F, c, o)).intoArray(c, o);
        c01.add(FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L);
        c02.add(FloatVector.fromArray(F, c, o + 2 * L)).intoArray(c, o + 2 * L);
        c03.add(FloatVector.fromArray(F, c, o + 3 * L)).intoArray(c, o + 3 * L);
        o += ldc;
        c10.add(FloatVector.fromArray(F, c, o)).intoArray(c, o);
        c11.add(FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L);
        c12.add(FloatVector.fromArray(F, c, o + 2 * L)).intoArray(c, o + 2 * L);
        c13.add(FloatVector.fromArray(F, c, o + 3 * L)).intoArray(c, o + 3 * L);
        o += ldc;
        c20.add(FloatVector.fromArray(F, c, o)).intoArray(c, o);
        c21.add(FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L);
        c22.add(FloatVector.fromArray(F, c, o + 2 * L)).intoArray(c, o + 2 * L);
        c23.add(FloatVector.fromArray(F, c, o + 3 * L)).intoArray(c, o + 3 * L);
        o += ldc;
        c30.add(FloatVector.fromArray(F, c, o)).intoArray(c, o);
        c31.add(FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L);
        c32.add(FloatVector.fromArray(F, c, o + 2 * L)).intoArray(c, o + 2 * L);
        c33.add(FloatVector.fromArray(F, c, o + 3 * L)).intoArray(c, o + 3 * L);
    }

    /** c[o + (0..NB)] += sum_kk A(kk) panel[kk][0..NB): one row. */
    private static void kernel1(float[] c, int o, float[] a, int ap, int aCol, float[] panel, int kc) {
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0;
        for (int kk = 0, p = 0; kk < kc; kk++, ap += aCol, p += NB) {
            FloatVector x = FloatVector.broadcast(F, a[ap]);
            c0 = FloatVector.fromArray(F, panel, p).fma(x, c0);
            c1 = FloatVector.fromArray(F, panel, p + L).fma(x, c1);
            c2 = FloatVector.fromArray(F, panel, p + 2 * L).fma(x, c2);
            c3 = FloatVector.fromArray(F, panel, p + 3 * L).fma(x, c3);
        }
        c0.add(FloatVector.fromArray(F, c, o)).intoArray(c, o);
        c1.add(FloatVector.fromArray(F, c, o + L)).intoArray(c, o + L);
        c2.add(FloatVector.fromArray(F, c, o + 2 * L)).intoArray(c, o + 2 * L);
        c3.add(FloatVector.fromArray(F, c, o + 3 * L)).intoArray(c, o + 3 * L);
    }
}
