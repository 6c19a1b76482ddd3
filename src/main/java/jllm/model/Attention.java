package jllm.model;

/**
 * Causal grouped-query scaled dot-product attention, softmax(Q K^T / sqrt(d_k)) V (Vaswani et al. 2017;
 * GQA: Ainslie et al. 2023), computed tile by tile with an online softmax (FlashAttention, Dao et al. 2022):
 * the (T x T) score matrix is never materialised, only one (queryTile x keyTile) block of it.
 *
 * <pre>
 *   per query row i (absolute position p_i) and key tile J:
 *     s_ij  = q_i . k_j * scale              (j <= p_i; later keys are masked)
 *     m'    = max(m, max_j s_ij)
 *     l     = l * exp(m - m') + sum_j exp(s_ij - m')
 *     acc   = acc * exp(m - m') + sum_j exp(s_ij - m') v_j
 *   out_i = acc / l
 * </pre>
 * Head h reads KV head h / groupSize (MQA when nKvHeads = 1). Keys and values come from the layer's KV cache,
 * where positions [0, startPos + T) are already written.
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
    }

    /**
     * Attention of query rows [t0, t1) of head h.
     *
     * @param out      (T, qDim) output rows, head h written at h*headDim
     * @param q        (T, qDim) rotated queries
     * @param keys     (nCtx, kvDim) this layer's cached keys
     * @param values   (nCtx, kvDim) this layer's cached values
     * @param startPos absolute position of query row 0
     */
    public static void head(float[] out, float[] q, float[] keys, float[] values, int startPos, int t0, int t1,
                            int h, ModelConfig c, Scratch w) {
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
                    int qOff = (qt + i) * qDim + h * headDim;
                    int visible = Math.min(nk, p + 1 - k0); // keys k0..p are visible to this row
                    float rowMax = Float.NEGATIVE_INFINITY;
                    for (int j = 0; j < visible; j++) {
                        float s = dot(q, qOff, keys, (k0 + j) * kvDim + kvOff, headDim) * scale;
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
                        sum += e;
                        axpy(w.acc, a, e, values, (k0 + j) * kvDim + kvOff, headDim);
                    }
                    w.l[i] = w.l[i] * corr + sum;
                    w.m[i] = mNew;
                }
            }
            for (int i = 0; i < nq; i++) {
                float inv = 1f / w.l[i];
                int o = (qt + i) * qDim + h * headDim;
                for (int d = 0; d < headDim; d++) out[o + d] = w.acc[i * headDim + d] * inv;
            }
        }
    }

    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        float s = 0;
        for (int i = 0; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    static void axpy(float[] y, int yo, float a, float[] x, int xo, int n) {
        for (int i = 0; i < n; i++) y[yo + i] += a * x[xo + i];
    }
}
