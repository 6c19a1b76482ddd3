package jllm.model;

import jllm.tensor.kernels.FloatKernels;

/**
 * Causal grouped-query scaled dot-product attention, softmax(Q K^T / sqrt(d_k) + bias) V (Vaswani et al. 2017;
 * GQA: Ainslie et al. 2023; ALiBi bias: Press et al. 2022), computed tile by tile with an online softmax
 * (FlashAttention, Dao et al. 2022): the (T x T) score matrix is never materialised, only one
 * (queryTile x keyTile) block of it. The forward can keep the log-sum-exp of every row, which is all the backward
 * needs besides Q, K, V and the output (FlashAttention's backward recomputes the probabilities from it).
 *
 * <pre>
 *   per query row i (absolute position p_i) and key tile J:
 *     s_ij  = q_i . k_j * scale - m_h (p_i - j)     (j <= p_i; later keys are masked; m_h = 0 without ALiBi)
 *     m'    = max(m, max_j s_ij)
 *     l     = l * exp(m - m') + sum_j exp(s_ij - m')
 *     acc   = acc * exp(m - m') + sum_j exp(s_ij - m') v_j
 *   out_i = acc / l,   lse_i = m + log l
 *
 *   backward, with P_ij = exp(s_ij - lse_i) and D_i = dO_i . O_i:
 *     dV_j += P_ij dO_i,   dS_ij = P_ij (dO_i . v_j - D_i),   dQ_i += scale dS_ij k_j,   dK_j += scale dS_ij q_i
 * </pre>
 * Head h reads KV head h / groupSize (MQA when nKvHeads = 1). Rows of q and out are (qDim) wide, rows of keys and
 * values (kvDim) wide. A sequence's query i sits at row {@code qRow0 + i} and position {@code startPos + i}; its key
 * at position j sits at row {@code kRow0 + j} (a KV cache for inference, the batch's own keys for training).
 */
public final class Attention {
    public static final int QUERY_TILE = 16;
    public static final int KEY_TILE = 64;

    private Attention() {}

    /** Work buffers for one thread: a score tile and per-row running max, sum and accumulator. */
    public static final class Scratch {
        final float[] s;   // (QUERY_TILE, KEY_TILE)
        final float[] m;   // (QUERY_TILE)
        final float[] l;   // (QUERY_TILE)
        final float[] acc; // (QUERY_TILE, headDim)

        public Scratch(int headDim) {
            s = new float[QUERY_TILE * KEY_TILE];
            m = new float[QUERY_TILE];
            l = new float[QUERY_TILE];
            acc = new float[QUERY_TILE * headDim];
        }

        long floats() {
            return (long) s.length + m.length + l.length + acc.length;
        }
    }

    /** Attention of query rows [t0, t1) of head h of one sequence whose keys start at row 0 (no ALiBi, no lse). */
    public static void head(float[] out, float[] q, float[] keys, float[] values, int startPos, int t0, int t1,
                            int h, ModelConfig c, Scratch w) {
        head(out, q, keys, values, 0, 0, startPos, t0, t1, h, c, 0f, null, w);
    }

    /**
     * Attention of query rows [t0, t1) (relative to qRow0) of head h.
     *
     * @param out   (rows, qDim) output, head h written at h*headDim
     * @param q     (rows, qDim) queries (rotated when RoPE)
     * @param keys  (rows, kvDim) keys, position j at row kRow0 + j
     * @param slope the ALiBi slope m_h of this head, 0 for none
     * @param lse   (rows, nHeads) receives the log-sum-exp of each row's scores, or null
     */
    public static void head(float[] out, float[] q, float[] keys, float[] values, int qRow0, int kRow0, int startPos,
                            int t0, int t1, int h, ModelConfig c, float slope, float[] lse, Scratch w) {
        int headDim = c.headDim(), qDim = c.qDim(), kvDim = c.kvDim();
        int kvOff = (h / c.groupSize()) * headDim;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        for (int qt = t0; qt < t1; qt += QUERY_TILE) {
            int nq = Math.min(QUERY_TILE, t1 - qt);
            java.util.Arrays.fill(w.m, 0, nq, Float.NEGATIVE_INFINITY);
            java.util.Arrays.fill(w.l, 0, nq, 0f);
            java.util.Arrays.fill(w.acc, 0, nq * headDim, 0f);
            int lastPos = startPos + qt + nq - 1; // the last key any row of this tile may see
            for (int k0 = 0; k0 <= lastPos; k0 += KEY_TILE) {
                int nk = Math.min(KEY_TILE, lastPos + 1 - k0);
                for (int i = 0; i < nq; i++) {
                    int p = startPos + qt + i;
                    int qOff = (qRow0 + qt + i) * qDim + h * headDim;
                    int visible = Math.min(nk, p + 1 - k0); // keys k0..p are visible to this row
                    float rowMax = Float.NEGATIVE_INFINITY;
                    for (int j = 0; j < visible; j++) {
                        float s = dot(q, qOff, keys, (kRow0 + k0 + j) * kvDim + kvOff, headDim) * scale;
                        if (slope != 0f) s -= slope * (p - (k0 + j));
                        w.s[i * KEY_TILE + j] = s;
                        if (s > rowMax) rowMax = s;
                    }
                    if (visible <= 0) continue;
                    float mNew = Math.max(w.m[i], rowMax);
                    float corr = (float) Math.exp(w.m[i] - mNew);
                    float sum = 0;
                    int a = i * headDim;
                    if (corr != 1f) {
                        for (int d = 0; d < headDim; d++) w.acc[a + d] *= corr;
                    }
                    for (int j = 0; j < visible; j++) {
                        float e = (float) Math.exp(w.s[i * KEY_TILE + j] - mNew);
                        w.s[i * KEY_TILE + j] = e;
                        sum += e;
                    }
                    FloatKernels.axpyRows(w.acc, a, w.s, i * KEY_TILE, values, (kRow0 + k0) * kvDim + kvOff, kvDim, visible, headDim);
                    w.l[i] = w.l[i] * corr + sum;
                    w.m[i] = mNew;
                }
            }
            for (int i = 0; i < nq; i++) {
                float inv = 1f / w.l[i];
                int o = (qRow0 + qt + i) * qDim + h * headDim;
                for (int d = 0; d < headDim; d++) out[o + d] = w.acc[i * headDim + d] * inv;
                if (lse != null) lse[(qRow0 + qt + i) * c.nHeads() + h] = w.m[i] + (float) Math.log(w.l[i]);
            }
        }
    }

    /** q . k in {@link FloatKernels#dotInOrder}'s fixed order (a resumed training run needs the same bits). */
    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        return FloatKernels.dotInOrder(a, ao, b, bo, n);
    }

    /**
     * Backward of one sequence of T rows starting at row {@code row0} (queries and keys alike, positions 0..T-1)
     * for KV head g and the query heads that share it: adds into dq, dk, dv. One call owns dk and dv of its KV head
     * and dq of its query heads for this sequence, so calls for different (sequence, KV head) pairs can run in
     * parallel without sharing an element; each sum runs in a fixed order.
     *
     * @param slopes ALiBi slope per query head, or null
     */
    public static void backward(float[] dq, float[] dk, float[] dv, float[] dOut, float[] out, float[] q,
                                float[] keys, float[] values, float[] lse, int row0, int T, int g, ModelConfig c,
                                float[] slopes) {
        int headDim = c.headDim(), qDim = c.qDim(), kvDim = c.kvDim(), nHeads = c.nHeads();
        int kvOff = g * headDim;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        for (int h = g * c.groupSize(); h < (g + 1) * c.groupSize(); h++) {
            float slope = slopes == null ? 0f : slopes[h];
            for (int i = 0; i < T; i++) {
                int qOff = (row0 + i) * qDim + h * headDim;
                float dSum = dot(dOut, qOff, out, qOff, headDim);
                float l = lse[(row0 + i) * nHeads + h];
                for (int j = 0; j <= i; j++) {
                    int kOff = (row0 + j) * kvDim + kvOff;
                    float s = dot(q, qOff, keys, kOff, headDim) * scale;
                    if (slope != 0f) s -= slope * (i - j);
                    float p = (float) Math.exp(s - l);
                    FloatKernels.axpy(dv, kOff, p, dOut, qOff, headDim);
                    float ds = p * (dot(dOut, qOff, values, kOff, headDim) - dSum) * scale;
                    FloatKernels.axpy(dq, qOff, ds, keys, kOff, headDim);
                    FloatKernels.axpy(dk, kOff, ds, q, qOff, headDim);
                }
            }
        }
    }
}
