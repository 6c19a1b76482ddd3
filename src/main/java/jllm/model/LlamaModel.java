package jllm.model;

import jllm.model.ModelConfig.Mlp;
import jllm.model.ModelConfig.Norm;
import jllm.model.ModelConfig.Positions;

/**
 * A pre-norm decoder-only transformer whose blocks the {@link ModelConfig} chooses: the LLaMA block (Touvron et al.
 * 2023; RMSNorm, RoPE, SwiGLU (Shazeer 2020), no biases) or the GPT-2 block (Radford et al. 2019; LayerNorm, learned
 * positions, GELU, biases), with GQA/MQA and ALiBi or sinusoidal positions as further choices. One straight-line
 * forward pass serves inference and training (ARCHITECTURE invariant 2): for inference it writes keys and values
 * into a KV cache and reuses one set of buffers for every layer; for training the {@link State} gives every layer
 * its own buffers, so the forward leaves behind exactly what {@link #backward} needs (or, with recomputation, only
 * each block's input, and the backward runs the block's forward again).
 *
 * <pre>
 *   B sequences of T tokens, rows r = b*T + t at position startPos + t; N = B*T
 *   x = embed(tokens) (+ position embedding)                        res[0]   (N, dim)
 *   for each layer l:
 *     h = norm(x) ; q = h Wq^T (+bq), k = h Wk^T (+bk), v = h Wv^T (+bv)   (N, qDim), (N, kvDim)
 *     q, k = rope(q, k) ; (inference: cache[pos] = k, v)
 *     x = x + attention(q, k, v) Wo^T (+bo)                          mid[l]
 *     h = norm(x) ; x = x + mlp(h)                                   res[l+1]
 *        mlp = down(silu(gate(h)) * up(h))  or  down(gelu(up(h)))
 *   logits = norm(x) Wout^T                                          (N, vocab)
 *   loss = mean over scored rows of cross-entropy(logits, targets)
 * </pre>
 * Every layer's backward sits in its own class next to its forward; {@link #backward} chains them in reverse and
 * adds into {@link Gradients}.
 *
 * <p>A {@link LoRA} adapter, when given, adds its low-rank path right after each adapted projection's base product
 * (Hu et al. 2021), in inference unmerged and in training with its own gradients; with a frozen base
 * ({@code Gradients} null) the backward computes no weight gradient of the base and stops below the lowest adapted
 * block.
 *
 * <p>A model runs one forward or backward at a time (it shares its {@link Linear}'s buffers and its parallel-for
 * bodies between calls). The inference path allocates nothing per call: its parallel-for bodies are objects made
 * once and bound to their arguments before each call, and the logits are returned in the state's buffer.
 */
public final class LlamaModel {
    private final ModelConfig config;
    private final LlamaWeights weights;
    private final RoPE rope;        // null unless ROPE
    private final float[] slopes;   // (nHeads) ALiBi slopes, or null
    private final Linear linear;
    private final LoRA lora;        // null: no adapter
    // the inference path's parallel-for bodies (see the class comment)
    private final EmbedRows embedRows = new EmbedRows();
    private final NormRows normRows = new NormRows();
    private final RopeRows ropeRows = new RopeRows();
    private final AttentionHeads attentionHeads = new AttentionHeads();
    private final Gating gating = new Gating();

    public LlamaModel(ModelConfig config, LlamaWeights weights, Linear linear) {
        this(config, weights, linear, null);
    }

    /** A model whose adapted projections also run {@code lora}'s low-rank path (null: none). */
    public LlamaModel(ModelConfig config, LlamaWeights weights, Linear linear, LoRA lora) {
        this.config = config;
        this.weights = weights.validate(config);
        this.rope = config.positions() == Positions.ROPE ? new RoPE(config, weights.ropeFreqs()) : null;
        this.slopes = config.positions() == Positions.ALIBI ? ALiBi.slopes(config.nHeads()) : null;
        this.linear = linear;
        if (lora != null && !lora.config().equals(config)) {
            throw new IllegalArgumentException("the LoRA adapter was made for another model shape: " + lora.config() + " vs " + config);
        }
        this.lora = lora;
    }

    public ModelConfig config() { return config; }
    public LlamaWeights weights() { return weights; }
    public Linear linear() { return linear; }
    /** The attached adapter, or null. */
    public LoRA lora() { return lora; }

    /** Activation buffers for inference batches of up to {@code maxBatch} tokens (allocated once). */
    public State newState(int maxBatch) {
        return new State(config, State.Mode.INFERENCE, 1, maxBatch, linear.threads(), lora, false);
    }

    /**
     * Activation buffers for training on B sequences of T tokens: every layer's activations are kept, or with
     * {@code recompute} only each block's input (activation checkpointing, Chen et al. 2016).
     */
    public State newTrainingState(int B, int T, boolean recompute) {
        return newTrainingState(B, T, recompute, false);
    }

    /**
     * As {@link #newTrainingState(int, int, boolean)}; with {@code bf16} (mixed-precision training) the operands of
     * the matrix products and of attention are rounded to bfloat16 in the forward, and what the backward reads of
     * them is kept as bfloat16 (half the bytes); see {@link State}.
     */
    public State newTrainingState(int B, int T, boolean recompute, boolean bf16) {
        return new State(config, recompute ? State.Mode.RECOMPUTE : State.Mode.TRAINING, B, T, linear.threads(), lora, bf16);
    }

    /**
     * Runs tokens[off, off+T) at positions startPos.. and returns logits: of the last token (vocab), or of every
     * token (T, vocab) when {@code allLogits}. Prompts longer than the state's batch run in chunks. The last token's
     * logits are the state's own buffer, overwritten by the next call (copy them to keep them); all logits are a new
     * array.
     */
    public float[] forward(int[] tokens, int off, int T, int startPos, KvCache cache, State s, boolean allLogits) {
        if (s.mode != State.Mode.INFERENCE) throw new IllegalArgumentException("a training state cannot run with a KV cache");
        if (T <= 0) throw new IllegalArgumentException("no tokens to run");
        if (startPos < 0 || startPos + T > cache.nCtx) {
            throw new IllegalArgumentException("positions " + startPos + ".." + (startPos + T - 1)
                    + " do not fit the context of " + cache.nCtx + " tokens");
        }
        checkTokens(tokens, off, T, startPos + T);
        cache.ensureCapacity(startPos + T);
        float[] all = allLogits ? new float[Math.multiplyExact(T, config.vocab())] : null;
        for (int done = 0; done < T; done += s.T) {
            int n = Math.min(s.T, T - done);
            boolean last = done + n == T;
            int first = allLogits ? 0 : n - 1;
            embed(tokens, off + done, 1, n, startPos + done, s);
            for (int l = 0; l < config.nLayers(); l++) block(l, 1, n, startPos + done, cache, s);
            if (allLogits) logits(s, first, n, all, done * config.vocab());
            else if (last) logits(s, first, n, s.logits, 0);
        }
        return allLogits ? all : s.logits;
    }

    /**
     * Training forward over the state's B sequences of T tokens (tokens[b*T + t]); returns the mean cross-entropy
     * over the rows whose target is not negative (0 when none is), keeping what {@link #backward} needs.
     */
    public double forward(int[] tokens, int[] targets, State s) {
        if (s.mode == State.Mode.INFERENCE) throw new IllegalArgumentException("an inference state keeps no activations for training");
        int N = s.rows;
        if (tokens.length < N || targets.length < N) {
            throw new IllegalArgumentException("a batch of " + s.B + " x " + s.T + " needs " + N + " tokens and targets, got "
                    + tokens.length + " and " + targets.length);
        }
        checkTokens(tokens, 0, N, s.T);
        for (int t = 0; t < N; t++) {
            if (targets[t] >= config.vocab()) throw new IllegalArgumentException("target id " + targets[t] + " is out of range [0, " + config.vocab() + ")");
        }
        embed(tokens, 0, s.B, s.T, 0, s);
        for (int l = 0; l < config.nLayers(); l++) block(l, s.B, s.T, 0, null, s);
        logits(s, 0, N, s.logits, 0);
        int vocab = config.vocab();
        linear.parallelRange(N, (from, to, worker) -> {
            for (int t = from; t < to; t++) CrossEntropy.forwardRow(s.rowLoss, s.rowLse, s.logits, targets, t, vocab);
        });
        int count = CrossEntropy.count(targets, N);
        double sum = 0;
        for (int t = 0; t < N; t++) sum += s.rowLoss[t];
        return count == 0 ? 0.0 : sum / count;
    }

    /**
     * Adds the gradient of {@code lossScale} times the loss of the last training {@link #forward} into g (1/accum
     * for gradient accumulation), and into the attached LoRA's gradients when it is trainable. With g null the base
     * is frozen: only the adapter's gradients are computed. Overwrites the state's logits.
     */
    public void backward(int[] tokens, int[] targets, State s, Gradients g, float lossScale) {
        ModelConfig c = config;
        LlamaWeights w = weights;
        if (g == null && (lora == null || !lora.trainable())) throw new IllegalArgumentException("nothing to train: no gradients and no trainable adapter");
        int lowest = g == null ? lora.lowestLayer() : 0;
        int N = s.rows, dim = c.dim(), vocab = c.vocab();
        int count = CrossEntropy.count(targets, N);
        if (count == 0) return;
        float scale = lossScale / count;
        // dlogits = scale (softmax - onehot), in place                   (N, vocab)
        linear.parallelRange(N, (from, to, worker) -> {
            for (int t = from; t < to; t++) CrossEntropy.backwardRow(s.logits, s.rowLse, targets, t, vocab, scale);
        });
        // logits = lnf Wout^T: dlnf = dlogits Wout, dWout += dlogits^T lnf
        java.util.Arrays.fill(s.dLn, 0, N * dim, 0f);
        linear.backward(s.dLn, g == null ? null : g.output, null, w.output(), s.logits, s.lnf, N);
        java.util.Arrays.fill(s.dA, 0, N * dim, 0f);
        normBackward(s.dA, s.dLn, s.res[c.nLayers()], w.outputNorm(), s.lnfMean, s.lnfRstd,
                g == null ? null : g.outputNorm, g == null ? null : g.outputNormBias, N);
        for (int l = c.nLayers() - 1; l >= lowest; l--) {
            if (s.mode == State.Mode.RECOMPUTE) block(l, s.B, s.T, 0, null, s);
            if (s.saved != null) s.restore(l, linear);
            blockBackward(l, s, g);
        }
        if (g == null) return;
        // x = embed(tokens) (+ positions)
        Embedding.backward(g.tokenEmbedding, s.dA, tokens, 0, N, dim);
        if (c.positions() == Positions.LEARNED) AbsolutePositions.learnedBackward(g.positionEmbedding, s.dA, s.B, s.T, 0, dim);
    }

    private void checkTokens(int[] tokens, int off, int n, int lastPos) {
        for (int i = 0; i < n; i++) {
            int t = tokens[off + i];
            if (t < 0 || t >= config.vocab()) {
                throw new IllegalArgumentException("token id " + t + " is out of range [0, " + config.vocab() + ")");
            }
        }
        if (config.positions() == Positions.LEARNED && lastPos > config.contextLength()) {
            throw new IllegalArgumentException("position " + (lastPos - 1) + " is beyond the " + config.contextLength()
                    + " learned positions of this model");
        }
    }

    /** res[0] = token embeddings (+ absolute positions); RoPE angles of positions startPos.. into the state. */
    private void embed(int[] tokens, int off, int B, int T, int startPos, State s) {
        ModelConfig c = config;
        EmbedRows e = embedRows;
        e.tokens = tokens;
        e.off = off;
        e.T = T;
        e.startPos = startPos;
        e.s = s;
        try {
            linear.parallelRange(B * T, e);
        } finally {
            e.tokens = null;
            e.s = null;
        }
        if (rope != null) {
            int half = c.ropeDim() / 2;
            for (int t = 0; t < T; t++) rope.angles(s.cos, s.sin, t * half, startPos + t);
        }
    }

    /** Block l over B sequences of T rows: res[l] -> mid[l] -> res[l+1]. */
    private void block(int l, int B, int T, int startPos, KvCache cache, State s) {
        ModelConfig c = config;
        LlamaWeights w = weights;
        int N = B * T, dim = c.dim(), kvDim = c.kvDim();
        float[] q = s.q[l], k = s.k[l], v = s.v[l], ln1 = s.ln1[l];

        // h = norm(x); q, k, v projections                         (N, qDim), (N, kvDim), (N, kvDim)
        norm(ln1, s.ln1Mean[l], s.ln1Rstd[l], s.res[l], w.attnNorm()[l], at(w.attnNormBias(), l), N);
        if (s.half) roundBf16(ln1, N * dim);
        project(Projection.Q, l, q, ln1, N, s);
        project(Projection.K, l, k, ln1, N, s);
        project(Projection.V, l, v, ln1, N, s);
        // RoPE on q and k
        if (rope != null) {
            RopeRows rr = ropeRows;
            rr.q = q;
            rr.k = k;
            rr.T = T;
            rr.s = s;
            try {
                linear.parallelRange(N, rr);
            } finally {
                rr.q = rr.k = null;
                rr.s = null;
            }
        }
        if (s.half) {
            roundBf16(q, N * c.qDim());
            roundBf16(k, N * kvDim);
            roundBf16(v, N * kvDim);
        }
        // inference: append k, v to the cache at their positions; training: attend to the batch's own keys
        float[] keys = k, values = v;
        if (cache != null) {
            keys = cache.keys(l);
            values = cache.values(l);
            System.arraycopy(k, 0, keys, startPos * kvDim, T * kvDim);
            System.arraycopy(v, 0, values, startPos * kvDim, T * kvDim);
        }
        // causal attention of each (sequence, head)                 (N, qDim)
        AttentionHeads ah = attentionHeads;
        ah.set(s.att[l], q, keys, values, s.lse[l], T, startPos, cache != null, s);
        try {
            linear.parallelFor(B * c.nHeads(), ah);
        } finally {
            ah.set(null, null, null, null, null, 0, 0, false, null);
        }
        if (s.half) roundBf16(s.att[l], N * c.qDim());
        // x = x + att Wo^T (+bo)                                    (N, dim)
        project(Projection.O, l, s.tmp, s.att[l], N, s);
        add(s.mid[l], s.res[l], s.tmp, N * dim);

        // h = norm(x); x = x + mlp(h)                               (N, ffn) -> (N, dim)
        float[] ln2 = s.ln2[l], up = s.up[l], hid = s.hid[l];
        norm(ln2, s.ln2Mean[l], s.ln2Rstd[l], s.mid[l], w.ffnNorm()[l], at(w.ffnNormBias(), l), N);
        if (s.half) roundBf16(ln2, N * dim);
        project(Projection.UP, l, up, ln2, N, s);
        boolean swiglu = c.mlp() == Mlp.SWIGLU;
        if (swiglu) project(Projection.GATE, l, s.gate[l], ln2, N, s);
        if (s.half) {
            roundBf16(up, N * c.ffnDim());
            if (swiglu) roundBf16(s.gate[l], N * c.ffnDim());
        }
        Gating gt = gating;
        gt.hid = hid;
        gt.gate = swiglu ? s.gate[l] : null;
        gt.up = up;
        try {
            linear.parallelRange(N * c.ffnDim(), gt);
        } finally {
            gt.hid = gt.gate = gt.up = null;
        }
        if (s.half) roundBf16(hid, N * c.ffnDim());
        project(Projection.DOWN, l, s.tmp, hid, N, s);
        add(s.res[l + 1], s.mid[l], s.tmp, N * dim);
        if (s.saved != null) s.save(l, linear);
    }

    /** a[0, n) rounded to bfloat16 values in place (round to nearest even), on the pool's threads. */
    private void roundBf16(float[] a, int n) {
        linear.parallelRange(n, (from, to, worker) -> {
            for (int i = from; i < to; i++) a[i] = Float.intBitsToFloat(jllm.tensor.Quantize.floatToBf16(a[i]) << 16);
        });
    }

    /** Backward of block l: on entry s.dA = dL/d res[l+1], on exit dL/d res[l]. */
    private void blockBackward(int l, State s, Gradients g) {
        ModelConfig c = config;
        LlamaWeights w = weights;
        int N = s.rows, T = s.T, dim = c.dim(), qDim = c.qDim(), kvDim = c.kvDim(), ffn = c.ffnDim();
        int half = c.ropeDim() / 2;

        // res[l+1] = mid + down(hid): the residual passes dA to mid unchanged
        System.arraycopy(s.dA, 0, s.dB, 0, N * dim);
        zero(s.dHid, N * ffn);
        projectBackward(Projection.DOWN, l, s.dHid, s.dA, s.hid[l], g, s);
        zero(s.dUp, N * ffn);
        float[] up = s.up[l];
        if (c.mlp() == Mlp.SWIGLU) {
            float[] gate = s.gate[l];
            zero(s.dGate, N * ffn);
            linear.parallelRange(N * ffn, (from, to, worker) -> SwiGLU.backward(s.dGate, s.dUp, s.dHid, gate, up, from, to));
        } else {
            linear.parallelRange(N * ffn, (from, to, worker) -> GELU.backward(s.dUp, s.dHid, up, from, to));
        }
        zero(s.dLn, N * dim);
        projectBackward(Projection.UP, l, s.dLn, s.dUp, s.ln2[l], g, s);
        if (c.mlp() == Mlp.SWIGLU) projectBackward(Projection.GATE, l, s.dLn, s.dGate, s.ln2[l], g, s);
        normBackward(s.dB, s.dLn, s.mid[l], w.ffnNorm()[l], s.ln2Mean[l], s.ln2Rstd[l], g == null ? null : g.ffnNorm[l],
                g == null ? null : at(g.ffnNormBias, l), N);

        // mid = res + att Wo^T (+bo)
        System.arraycopy(s.dB, 0, s.dA, 0, N * dim);
        zero(s.dAtt, N * qDim);
        projectBackward(Projection.O, l, s.dAtt, s.dB, s.att[l], g, s);
        zero(s.dq, N * qDim);
        zero(s.dk, N * kvDim);
        zero(s.dv, N * kvDim);
        float[] q = s.q[l], k = s.k[l], v = s.v[l], att = s.att[l], lse = s.lse[l];
        linear.parallelFor(s.B * c.nKvHeads(), (bg, worker) -> {
            int b = bg / c.nKvHeads(), kv = bg % c.nKvHeads();
            Attention.backward(s.dq, s.dk, s.dv, s.dAtt, att, q, k, v, lse, b * T, T, kv, c, slopes);
        });
        if (rope != null) {
            linear.parallelRange(N, (from, to, worker) -> {
                for (int r = from; r < to; r++) {
                    int a = (r % T) * half;
                    rope.rotate(s.dq, r * qDim, c.nHeads(), c.headDim(), s.cos, s.sin, a, -1f);
                    rope.rotate(s.dk, r * kvDim, c.nKvHeads(), c.headDim(), s.cos, s.sin, a, -1f);
                }
            });
        }
        zero(s.dLn, N * dim);
        projectBackward(Projection.Q, l, s.dLn, s.dq, s.ln1[l], g, s);
        projectBackward(Projection.K, l, s.dLn, s.dk, s.ln1[l], g, s);
        projectBackward(Projection.V, l, s.dLn, s.dv, s.ln1[l], g, s);
        normBackward(s.dA, s.dLn, s.res[l], w.attnNorm()[l], s.ln1Mean[l], s.ln1Rstd[l], g == null ? null : g.attnNorm[l],
                g == null ? null : at(g.attnNormBias, l), N);
    }

    /** y (N, out) = x W^T (+ b) for layer l's projection p, plus its LoRA path when adapted. */
    private void project(Projection p, int l, float[] y, float[] x, int N, State s) {
        linear.apply(y, p.weight(weights, l), p.bias(weights, l), x, N);
        LoRALinear a = lora == null ? null : lora.get(l, p);
        if (a != null) a.forward(linear, y, x, N, s.lora, dropout(s), lora.dropoutSeed());
    }

    /**
     * The backward of {@link #project}: dx += dy W (+ the LoRA path's input gradient); the base's weight and bias
     * gradients only when g is not null; the adapter's into its own arrays.
     */
    private void projectBackward(Projection p, int l, float[] dx, float[] dy, float[] x, Gradients g, State s) {
        linear.backward(dx, p.weightGrad(g, l), p.biasGrad(g, l), p.weight(weights, l), dy, x, s.rows);
        LoRALinear a = lora == null ? null : lora.get(l, p);
        if (a != null) a.backward(linear, dx, dy, x, s.rows, s.lora, dropout(s), lora.dropoutSeed());
    }

    /** LoRA dropout applies in the training forward of an adapter being trained (not when one is only applied). */
    private boolean dropout(State s) {
        return s.mode != State.Mode.INFERENCE && lora.trainable();
    }

    /** logits of rows [first, n) of the last block's output into out (rows from outOff, (n - first, vocab)). */
    private void logits(State s, int first, int n, float[] out, int outOff) {
        int dim = config.dim(), rows = n - first;
        float[] x = s.res[config.nLayers()];
        float[] src = x;
        if (first > 0) {
            System.arraycopy(x, first * dim, s.tmp, 0, rows * dim);
            src = s.tmp;
        }
        norm(s.lnf, s.lnfMean, s.lnfRstd, src, weights.outputNorm(), weights.outputNormBias(), rows);
        linear.apply(out, outOff, weights.output(), s.lnf, rows);
    }

    /** out = norm(x) row by row, keeping each row's mean (LayerNorm) and reciprocal deviation. */
    private void norm(float[] out, float[] mean, float[] rstd, float[] x, float[] weight, float[] bias, int N) {
        NormRows nr = normRows;
        nr.set(out, mean, rstd, x, weight, bias);
        try {
            linear.parallelRange(N, nr);
        } finally {
            nr.set(null, null, null, null, null, null);
        }
    }

    /** dx += the input gradient of the norm, dWeight (and dBias) += its parameter gradients. */
    private void normBackward(float[] dx, float[] dy, float[] x, float[] weight, float[] mean, float[] rstd,
                              float[] dWeight, float[] dBias, int N) {
        int dim = config.dim();
        boolean rms = config.norm() == Norm.RMS;
        linear.parallelRange(N, (from, to, worker) -> {
            for (int t = from; t < to; t++) {
                if (rms) RMSNorm.backward(dx, t * dim, dy, x, weight, rstd[t], dim);
                else LayerNorm.backward(dx, t * dim, dy, x, weight, mean[t], rstd[t], dim);
            }
        });
        if (dWeight == null) return; // a frozen base
        linear.parallelRange(dim, (from, to, worker) -> {
            if (rms) RMSNorm.weightBackward(dWeight, dy, x, rstd, N, dim, from, to);
            else LayerNorm.weightBackward(dWeight, dBias, dy, x, mean, rstd, N, dim, from, to);
        });
    }

    /** res[0] rows [from, to) = token embeddings (+ absolute positions). */
    private final class EmbedRows implements Linear.RangeTask {
        int[] tokens;
        int off, T, startPos;
        State s;

        @Override
        public void run(int from, int to, int worker) {
            ModelConfig c = config;
            int dim = c.dim();
            float[] x = s.res[0];
            for (int r = from; r < to; r++) {
                int pos = startPos + r % T;
                Embedding.forward(x, r * dim, weights.tokenEmbedding(), tokens[off + r]);
                if (c.positions() == Positions.LEARNED) {
                    AbsolutePositions.addLearned(x, r * dim, weights.positionEmbedding(), pos, s.posRow[worker], dim);
                } else if (c.positions() == Positions.SINUSOIDAL) {
                    AbsolutePositions.addSinusoidal(x, r * dim, pos, dim);
                }
            }
        }
    }

    /** out rows [from, to) = norm(x rows), keeping each row's mean (LayerNorm) and reciprocal deviation. */
    private final class NormRows implements Linear.RangeTask {
        float[] out, mean, rstd, x, weight, bias;

        void set(float[] out, float[] mean, float[] rstd, float[] x, float[] weight, float[] bias) {
            this.out = out; this.mean = mean; this.rstd = rstd; this.x = x; this.weight = weight; this.bias = bias;
        }

        @Override
        public void run(int from, int to, int worker) {
            int dim = config.dim();
            float eps = config.normEps();
            boolean rms = config.norm() == Norm.RMS;
            for (int t = from; t < to; t++) {
                if (rms) rstd[t] = RMSNorm.forward(out, t * dim, x, t * dim, weight, eps, dim);
                else LayerNorm.forward(out, t * dim, x, t * dim, weight, bias, eps, dim, mean, rstd, t);
            }
        }
    }

    /** RoPE on rows [from, to) of q and k (row r at angle row r % T of the state's tables). */
    private final class RopeRows implements Linear.RangeTask {
        float[] q, k;
        int T;
        State s;

        @Override
        public void run(int from, int to, int worker) {
            ModelConfig c = config;
            int half = c.ropeDim() / 2, qDim = c.qDim(), kvDim = c.kvDim();
            for (int r = from; r < to; r++) {
                int a = (r % T) * half;
                rope.rotate(q, r * qDim, c.nHeads(), c.headDim(), s.cos, s.sin, a, 1f);
                rope.rotate(k, r * kvDim, c.nKvHeads(), c.headDim(), s.cos, s.sin, a, 1f);
            }
        }
    }

    /** Causal attention of one (sequence, head) pair bh = b * nHeads + h. */
    private final class AttentionHeads implements Linear.Task {
        float[] att, q, keys, values, lse;
        int T, startPos;
        boolean cached;
        State s;

        void set(float[] att, float[] q, float[] keys, float[] values, float[] lse, int T, int startPos, boolean cached, State s) {
            this.att = att; this.q = q; this.keys = keys; this.values = values; this.lse = lse;
            this.T = T; this.startPos = startPos; this.cached = cached; this.s = s;
        }

        @Override
        public void run(int bh, int worker) {
            ModelConfig c = config;
            int b = bh / c.nHeads(), h = bh % c.nHeads();
            Attention.head(att, q, keys, values, b * T, cached ? 0 : b * T, startPos, 0, T, h, c,
                    slopes == null ? 0f : slopes[h], lse, s.scratch[worker]);
        }
    }

    /** hid = silu(gate) * up (SwiGLU) or gelu(up) over elements [from, to). */
    private final class Gating implements Linear.RangeTask {
        float[] hid, gate, up;   // gate null for GELU

        @Override
        public void run(int from, int to, int worker) {
            if (gate != null) SwiGLU.forward(hid, gate, up, from, to);
            else GELU.forward(hid, up, from, to);
        }
    }

    private static <T> T at(T[] a, int l) {
        return a == null ? null : a[l];
    }

    private static void add(float[] out, float[] a, float[] b, int n) {
        for (int i = 0; i < n; i++) out[i] = a[i] + b[i];
    }

    private static void zero(float[] a, int n) {
        java.util.Arrays.fill(a, 0, n, 0f);
    }

    /**
     * The activations of one forward pass (allocated once): for inference, one set of buffers every layer reuses;
     * for training, a set per layer (what the backward reads), or with recomputation only each block's input per
     * layer; plus the backward's gradient buffers. Shapes (N = B*T rows):
     * <pre>
     *   res [nLayers+1](N, dim) block inputs   mid (N, dim)   ln1, ln2 (N, dim) normed   q, att (N, qDim)
     *   k, v (N, kvDim)   lse (N, nHeads)   up, gate, hid (N, ffnDim)   norm stats (N)
     *   logits (N, vocab) for training, (vocab) for inference (the last row only; all rows go to the caller's array)
     * </pre>
     * Inference aliases: res = mid = x; tmp = ln1 = ln2 = lnf; hid = gate (SwiGLU) or up (GELU).
     *
     * <p>Mixed precision ({@code bf16}, training only; Micikevicius et al. 2018, with bfloat16 as in Kalamkar et al.
     * 2019): the operands of the matrix products and of attention, ln1, ln2, q, k, v, att, up, gate and hid, are
     * rounded to bfloat16 in the forward (products with bf16 weights round their inputs to bf16 anyway, so this
     * changes nothing there; attention and the MLP activation then see the values the backward will see). Without recomputation
     * they are kept per layer as bfloat16 ({@code saved}, 2 bytes per element) and computed in one float32 set that
     * every layer shares; the backward decodes layer l's copies into that set before its block's backward (exact:
     * the values are bf16 already). Kept in float32, because their precision matters or they are small: the block
     * inputs res and mid (the residual stream, which the norms' backward reads and which accumulates every block's
     * output), the norm statistics, attention's log-sum-exp, the logits and the loss rows (cross-entropy over the
     * vocabulary in float32), and the backward's gradient buffers.
     */
    public static final class State {
        /** What the state keeps. */
        public enum Mode { INFERENCE, TRAINING, RECOMPUTE }

        final Mode mode;
        final int B, T, rows;
        final float[][] res, mid, ln1, ln2, q, k, v, att, lse, up, gate, hid;
        final float[][] ln1Mean, ln1Rstd, ln2Mean, ln2Rstd;
        final float[] tmp, lnf, lnfMean, lnfRstd, logits, rowLoss, rowLse, cos, sin;
        final float[][] posRow;
        final Attention.Scratch[] scratch;
        final float[] dA, dB, dLn, dq, dk, dv, dAtt, dUp, dGate, dHid;
        final LoRALinear.Scratch lora; // null without an adapter
        final boolean half;            // mixed precision: matmul and attention operands rounded to bf16
        final BF16Activations saved;   // bf16 copies of ln1 ln2 q k v att up gate hid per layer, or null
        private long bytes;

        State(ModelConfig c, Mode mode, int B, int T, int threads, LoRA adapter, boolean bf16) {
            if (B <= 0 || T <= 0) throw new IllegalArgumentException("batch " + B + " x " + T + " must be positive");
            if (bf16 && mode == Mode.INFERENCE) throw new IllegalArgumentException("bf16 activations are a training mode");
            this.mode = mode;
            this.half = bf16;
            this.B = B;
            this.T = T;
            this.rows = Math.multiplyExact(B, T);
            int L = c.nLayers(), N = rows, dim = c.dim(), ffn = c.ffnDim();
            boolean perLayer = mode == Mode.TRAINING, train = mode != Mode.INFERENCE;
            boolean swiglu = c.mlp() == Mlp.SWIGLU;
            boolean f32PerLayer = perLayer && !bf16; // the bf16-kept buffers: float32 per layer, or one shared set
            res = layers(L + 1, N * dim, train);
            mid = train ? layers(L, N * dim, perLayer) : res;
            float[] shared = train ? null : alloc(N * dim);
            ln1 = train ? layers(L, N * dim, f32PerLayer) : fill(L, shared);
            ln2 = train ? layers(L, N * dim, f32PerLayer) : fill(L, shared);
            tmp = train ? alloc(N * dim) : shared;
            lnf = train ? alloc(N * dim) : shared;
            q = layers(L, N * c.qDim(), f32PerLayer);
            k = layers(L, N * c.kvDim(), f32PerLayer);
            v = layers(L, N * c.kvDim(), f32PerLayer);
            att = layers(L, N * c.qDim(), f32PerLayer);
            lse = layers(L, N * c.nHeads(), perLayer);
            up = layers(L, N * ffn, f32PerLayer);
            gate = swiglu ? layers(L, N * ffn, f32PerLayer) : null;
            hid = train ? layers(L, N * ffn, f32PerLayer) : swiglu ? gate : up;
            saved = perLayer && bf16 ? new BF16Activations(kept(), L) : null;
            if (saved != null) bytes += saved.bytes();
            ln1Mean = layers(L, N, perLayer);
            ln1Rstd = layers(L, N, perLayer);
            ln2Mean = layers(L, N, perLayer);
            ln2Rstd = layers(L, N, perLayer);
            lnfMean = alloc(N);
            lnfRstd = alloc(N);
            logits = alloc(train ? Math.multiplyExact(N, c.vocab()) : c.vocab()); // inference keeps one row
            rowLoss = train ? alloc(N) : null;
            rowLse = train ? alloc(N) : null;
            cos = alloc(T * c.ropeDim() / 2);
            sin = alloc(T * c.ropeDim() / 2);
            posRow = new float[threads][];
            for (int i = 0; i < threads; i++) posRow[i] = alloc(dim);
            scratch = new Attention.Scratch[threads];
            for (int i = 0; i < threads; i++) {
                scratch[i] = new Attention.Scratch(c.headDim());
                bytes += Float.BYTES * scratch[i].floats();
            }
            dA = train ? alloc(N * dim) : null;
            dB = train ? alloc(N * dim) : null;
            dLn = train ? alloc(N * dim) : null;
            dq = train ? alloc(N * c.qDim()) : null;
            dAtt = train ? alloc(N * c.qDim()) : null;
            dk = train ? alloc(N * c.kvDim()) : null;
            dv = train ? alloc(N * c.kvDim()) : null;
            dUp = train ? alloc(N * ffn) : null;
            dGate = train && swiglu ? alloc(N * ffn) : null;
            dHid = train ? alloc(N * ffn) : null;
            lora = adapter == null ? null : adapter.newScratch(N, train);  // dropout buffers only for a trained adapter
            if (lora != null) bytes += Float.BYTES * lora.floats();
        }

        private float[] alloc(int n) {
            bytes += (long) n * Float.BYTES;
            return new float[n];
        }

        /** The buffers that mixed precision keeps as bf16, in {@code saved}'s order (gate null for GELU). */
        private float[][][] kept() {
            return new float[][][] {ln1, ln2, q, k, v, att, up, gate, hid};
        }

        void save(int l, Linear pool) {
            saved.save(l, kept(), pool);
        }

        void restore(int l, Linear pool) {
            saved.restore(l, kept(), pool);
        }

        private float[][] layers(int n, int size, boolean distinct) {
            if (!distinct) return fill(n, alloc(size));
            float[][] a = new float[n][];
            for (int i = 0; i < n; i++) a[i] = alloc(size);
            return a;
        }

        private static float[][] fill(int n, float[] one) {
            float[][] a = new float[n][];
            java.util.Arrays.fill(a, one);
            return a;
        }

        public Mode mode() { return mode; }
        public int batch() { return B; }
        public int seqLen() { return T; }

        /** Bytes of all the buffers this state allocated (each aliased buffer once), for the planner's --verify. */
        public long bytes() {
            return bytes;
        }
    }
}
