package jllm.model;

import jllm.tensor.kernels.Dequantize;

/**
 * The LLaMA decoder (Touvron et al. 2023) — pre-norm blocks of RMSNorm, grouped-query attention with RoPE, and a
 * SwiGLU MLP (Shazeer 2020) — as one straight-line forward pass over a batch of T tokens at positions
 * [startPos, startPos + T), writing their keys and values into the KV cache. Prompts go through in batches
 * (matrix-matrix products), decoding is the T = 1 case.
 *
 * <pre>
 *   x = embed(tokens)                                            (T, dim)
 *   for each layer:
 *     h = rmsnorm(x) ; q = h Wq^T (+bq), k = h Wk^T (+bk), v = h Wv^T (+bv)   (T, qDim), (T, kvDim)
 *     q, k = rope(q, k) ; cache[pos] = k, v
 *     x += attention(q, cache) Wo^T                             (T, dim)
 *     h = rmsnorm(x) ; x += (silu(h Wg^T) * (h Wu^T)) Wd^T         (T, ffnDim) -> (T, dim)
 *   logits = rmsnorm(x) Wout^T                                   (T or 1, vocab)
 * </pre>
 */
public final class LlamaModel {
    private final ModelConfig config;
    private final LlamaWeights weights;
    private final RoPE rope;
    private final Linear linear;

    public LlamaModel(ModelConfig config, LlamaWeights weights, Linear linear) {
        this.config = config;
        this.weights = weights.validate(config);
        this.rope = new RoPE(config, weights.ropeFreqs());
        this.linear = linear;
    }

    public ModelConfig config() { return config; }
    public LlamaWeights weights() { return weights; }
    public Linear linear() { return linear; }

    /** Activation buffers for batches of up to {@code maxBatch} tokens (allocated once). */
    public State newState(int maxBatch) {
        return new State(config, maxBatch, linear.threads());
    }

    /**
     * Runs tokens[off, off+T) at positions startPos.. and returns logits: of the last token (vocab), or of every
     * token (T, vocab) when {@code allLogits}. Prompts longer than the state's batch run in chunks.
     */
    public float[] forward(int[] tokens, int off, int T, int startPos, KvCache cache, State s, boolean allLogits) {
        if (T <= 0) throw new IllegalArgumentException("no tokens to run");
        if (startPos < 0 || startPos + T > cache.nCtx) {
            throw new IllegalArgumentException("positions " + startPos + ".." + (startPos + T - 1)
                    + " do not fit the context of " + cache.nCtx + " tokens");
        }
        for (int i = 0; i < T; i++) {
            int t = tokens[off + i];
            if (t < 0 || t >= config.vocab()) {
                throw new IllegalArgumentException("token id " + t + " is out of range [0, " + config.vocab() + ")");
            }
        }
        float[] all = allLogits ? new float[T * config.vocab()] : null;
        for (int done = 0; done < T; done += s.maxBatch) {
            int n = Math.min(s.maxBatch, T - done);
            boolean last = done + n == T;
            forwardBatch(tokens, off + done, n, startPos + done, cache, s, allLogits || last, allLogits);
            if (allLogits) System.arraycopy(s.logits, 0, all, done * config.vocab(), n * config.vocab());
        }
        return allLogits ? all : java.util.Arrays.copyOfRange(s.logits, 0, config.vocab());
    }

    private void forwardBatch(int[] tokens, int off, int T, int startPos, KvCache cache, State s, boolean logits, boolean allRows) {
        ModelConfig c = config;
        LlamaWeights w = weights;
        int dim = c.dim(), qDim = c.qDim(), kvDim = c.kvDim(), ffn = c.ffnDim();

        // x = embed(tokens)                                       (T, dim)
        for (int t = 0; t < T; t++) Dequantize.row(s.x, t * dim, w.tokenEmbedding(), tokens[off + t]);

        for (int l = 0; l < c.nLayers(); l++) {
            // h = rmsnorm(x)                                       (T, dim)
            for (int t = 0; t < T; t++) RMSNorm.forward(s.xb, t * dim, s.x, t * dim, w.attnNorm()[l], c.normEps(), dim);
            // q, k, v projections                                 (T, qDim), (T, kvDim), (T, kvDim)
            linear.apply(s.q, w.wq()[l], s.xb, T);
            linear.apply(s.k, w.wk()[l], s.xb, T);
            linear.apply(s.v, w.wv()[l], s.xb, T);
            if (c.qkvBias()) {
                addBias(s.q, w.bq()[l], T, qDim);
                addBias(s.k, w.bk()[l], T, kvDim);
                addBias(s.v, w.bv()[l], T, kvDim);
            }
            // RoPE on q and k; append k, v to the cache at their positions
            float[] keys = cache.keys(l), values = cache.values(l);
            for (int t = 0; t < T; t++) {
                rope.angles(s.cos, s.sin, startPos + t);
                rope.rotate(s.q, t * qDim, c.nHeads(), c.headDim(), s.cos, s.sin);
                rope.rotate(s.k, t * kvDim, c.nKvHeads(), c.headDim(), s.cos, s.sin);
                System.arraycopy(s.k, t * kvDim, keys, (startPos + t) * kvDim, kvDim);
                System.arraycopy(s.v, t * kvDim, values, (startPos + t) * kvDim, kvDim);
            }
            // causal GQA over positions [0, startPos + t]            (T, qDim)
            final int fT = T;
            linear.parallelFor(c.nHeads(), (h, worker) ->
                    Attention.head(s.att, s.q, keys, values, startPos, 0, fT, h, c, s.scratch[worker]));
            // x += att Wo^T                                       (T, dim)
            linear.apply(s.xb, w.wo()[l], s.att, T);
            add(s.x, s.xb, T * dim);

            // h = rmsnorm(x); x += SwiGLU(h)                        (T, ffn) -> (T, dim)
            for (int t = 0; t < T; t++) RMSNorm.forward(s.xb, t * dim, s.x, t * dim, w.ffnNorm()[l], c.normEps(), dim);
            linear.apply(s.hb, w.wGate()[l], s.xb, T);
            linear.apply(s.hb2, w.wUp()[l], s.xb, T);
            SwiGLU.forward(s.hb, s.hb, s.hb2, T * ffn);
            linear.apply(s.xb, w.wDown()[l], s.hb, T);
            add(s.x, s.xb, T * dim);
        }
        if (!logits) return;
        // logits = rmsnorm(x) Wout^T: of every row (T, vocab), or only of the last row (1, vocab)
        int first = allRows ? 0 : T - 1;
        for (int t = first; t < T; t++) RMSNorm.forward(s.xb, (t - first) * dim, s.x, t * dim, w.outputNorm(), c.normEps(), dim);
        linear.apply(s.logits, w.output(), s.xb, T - first);
    }

    private static void addBias(float[] y, float[] b, int T, int n) {
        for (int t = 0; t < T; t++) for (int i = 0; i < n; i++) y[t * n + i] += b[i];
    }

    private static void add(float[] y, float[] x, int n) {
        for (int i = 0; i < n; i++) y[i] += x[i];
    }

    /** Activations for one forward pass of up to maxBatch tokens. */
    public static final class State {
        final int maxBatch;
        final float[] x, xb, q, k, v, att, hb, hb2, logits, cos, sin; // (maxBatch, *) rows
        final Attention.Scratch[] scratch;

        State(ModelConfig c, int maxBatch, int threads) {
            if (maxBatch <= 0) throw new IllegalArgumentException("batch must be positive, got " + maxBatch);
            this.maxBatch = maxBatch;
            x = new float[maxBatch * c.dim()];
            xb = new float[maxBatch * c.dim()];
            q = new float[maxBatch * c.qDim()];
            k = new float[maxBatch * c.kvDim()];
            v = new float[maxBatch * c.kvDim()];
            att = new float[maxBatch * c.qDim()];
            hb = new float[maxBatch * c.ffnDim()];
            hb2 = new float[maxBatch * c.ffnDim()];
            logits = new float[Math.multiplyExact(maxBatch, c.vocab())];
            cos = new float[c.ropeDim() / 2];
            sin = new float[c.ropeDim() / 2];
            scratch = new Attention.Scratch[threads];
            for (int i = 0; i < threads; i++) scratch[i] = new Attention.Scratch(c.headDim());
        }

        /** Bytes of activation buffers, for the planner's --verify. */
        public long bytes() {
            long floats = (long) x.length + xb.length + q.length + k.length + v.length + att.length + hb.length
                    + hb2.length + logits.length + cos.length + sin.length;
            for (Attention.Scratch w : scratch) floats += w.s.length + w.m.length + w.l.length + w.acc.length;
            return floats * Float.BYTES;
        }
    }
}
