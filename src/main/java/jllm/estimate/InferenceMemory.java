package jllm.estimate;

import jllm.estimate.Estimate.Unit;
import jllm.sizes.Sizes;

/**
 * Memory of inference per GPU: weights, KV cache, activations and logits at the peak (the prefill of
 * {@code batch} sequences of {@code seq} tokens), and what fits: the longest context and the largest batch.
 *
 * <pre>
 *   weights     = sum over tensors of their bytes in the weight type (block scales included), / tp
 *   KV cache    = 2 * L * min(seq, window) * ceil(kv / tp) * d * bytes(kv type) * batch     (Sizes.kvCacheBytes)
 *   activations = the forward's buffers for batch * chunk rows and fp32 logits of each sequence's last token
 *                 (Sizes.decoderScratchBytes; the engine, like llama.cpp, keeps only the logits it samples from)
 *   total       = weights + KV cache + activations
 * </pre>
 * The KV cache formula is the one of Kwon et al. 2023 (vLLM, Sec. 2: "2 (key and value vectors) x 5120 (hidden
 * state size) x 40 (number of layers) x 2 (bytes per FP16)" = 800 KB per token for OPT-13B); with grouped-query
 * attention (Ainslie et al. 2023) only the kv heads are cached.
 *
 * @param model          the model
 * @param weights        storage type of the weights (null: as the GGUF file stores each tensor)
 * @param kv             storage type of the KV cache
 * @param activations    type of the activations (jllm and llama.cpp compute in fp32)
 * @param batch          sequences decoded together
 * @param seq            tokens per sequence (prompt plus generated)
 * @param tp             tensor-parallel GPUs the model is split over
 * @param flashAttention attention scores are tiled, never materialised (Dao et al. 2022)
 * @param prefillChunk   prompt tokens processed at once (llama.cpp's ubatch); 0 for the whole prompt
 * @param gpuMemory      bytes of one GPU, for the fit search; 0 when not given
 */
public record InferenceMemory(ModelSpec model, DataType weights, DataType kv, DataType activations, long batch,
                              long seq, int tp, boolean flashAttention, long prefillChunk, long gpuMemory) {

    /** Longest context or largest batch the fit search will report. */
    public static final long SEARCH_LIMIT = 1L << 40;

    public InferenceMemory {
        if (batch < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
        if (seq < 0) throw new IllegalArgumentException("--seq must not be negative, got " + seq);
        if (tp < 1) throw new IllegalArgumentException("--tp must be at least 1, got " + tp);
        if (prefillChunk < 0) throw new IllegalArgumentException("--prefill-chunk must not be negative, got " + prefillChunk);
        if (gpuMemory < 0) throw new IllegalArgumentException("--gpu-memory must not be negative, got " + gpuMemory);
    }

    /** Runs the plan. */
    public Estimate estimate() {
        Estimate e = new Estimate("infer", model.name());
        WeightMemory.params(e, model);
        long w = WeightMemory.weights(e, model, weights, tp, "weights_bytes");
        long total = w;
        if (model.hasShape()) {
            ModelShape s = model.shape();
            if (weights == null) {
                e.step("largest_layer_stored", Units.n(model.stored().largestBytes()), "largest_layer_bytes",
                        model.stored().largestBytes(), Unit.BYTES);
            } else {
                long largest = weights.bytes(largestTensor(s));
                e.step("largest_layer_infer", Units.n(s.largestTensorParams()) + " × " + Units.n(weights.bits()) + "/8 B",
                        "largest_layer_bytes", largest, Unit.BYTES);
            }
            if (seq > 0) {
                long k = kvCache(e, s, batch, seq, true);
                long a = activations(e, s, batch, seq, true);
                total = w + k + a;
                e.step("total_infer", Units.n(w) + " + " + Units.n(k) + " + " + Units.n(a), "total_bytes", total, Unit.BYTES);
                if (s.contextLength() > 0 && seq > s.contextLength()) e.warn("seq_over_context", seq, s.contextLength());
            } else {
                e.step("total_weights_only", Units.n(w), "total_bytes", total, Unit.BYTES);
                e.warn("no_seq");
            }
            if (gpuMemory > 0) fit(e, s, w);
        } else {
            e.step("total_weights_only", Units.n(w), "total_bytes", total, Unit.BYTES);
            e.warn("no_shape_kv");
        }
        if (gpuMemory > 0 && total > gpuMemory) e.warn("does_not_fit", Units.bytes(total), Units.bytes(gpuMemory));
        e.note("gib_vs_gb");
        return e;
    }

    private static ModelShape.Tensor largestTensor(ModelShape s) {
        ModelShape.Tensor best = null;
        for (ModelShape.Tensor t : s.tensors()) if (best == null || t.elementsEach() > best.elementsEach()) best = t;
        return new ModelShape.Tensor(best.name(), best.kind(), best.rows(), best.cols(), 1, best.target(), best.expert());
    }

    /** KV heads each GPU holds: heads are split across tensor-parallel ranks, and replicated when there are fewer. */
    int kvHeadsPerGpu(ModelShape s) {
        return (int) WeightMemory.ceilDiv(s.kvHeads(), tp);
    }

    /** KV cache bytes per GPU for {@code b} sequences of {@code n} tokens; with {@code explain} the steps are recorded. */
    long kvCache(Estimate e, ModelShape s, long b, long n, boolean explain) {
        int layers = s.kvLayers();
        if (layers == 0) {
            if (explain) {
                e.step("kv_encoder_only", "0", "kv_cache_bytes", 0, Unit.BYTES);
                e.note("encoder_only");
            }
            return 0;
        }
        long positions = s.kvPositions(n);
        // Encoder-decoder models also cache the cross-attention keys and values of the n encoder positions.
        long crossPositions = s.arch() == ModelShape.Arch.ENCODER_DECODER ? n : 0;
        int kvh = kvHeadsPerGpu(s);
        double bpe = kv.bytesPerElement();
        long bytes = Sizes.kvCacheBytes(layers, positions + crossPositions, kvh, s.headDim(), bpe, b);
        if (explain) {
            long perToken = Sizes.kvCacheBytes(layers, 1, kvh, s.headDim(), bpe, 1);
            e.step("kv_per_token", "2 × " + layers + " × " + kvh + " × " + s.headDim() + " × " + Units.n(bpe),
                    null, perToken, Unit.BYTES, kv.name());
            String pos = crossPositions > 0 ? "(" + positions + " + " + crossPositions + ")" : Long.toString(positions);
            e.step("kv_cache", "2 × " + layers + " × " + pos + " × " + kvh + " × " + s.headDim() + " × "
                    + Units.n(bpe) + " × " + b, "kv_cache_bytes", bytes, Unit.BYTES, kv.name());
            long dropped = Sizes.kvCacheBytes(layers, positions + crossPositions, kvh, s.headDim(), 1, b);
            if (bpe != 1) e.note("kv_bytes_per_element", Units.n(bpe), Units.bytes(dropped), Units.bytes(bytes));
            if (s.kvHeads() < s.heads()) {
                e.note("gqa", s.kvHeads(), s.heads(), s.heads() / s.kvHeads());
            }
            if (tp > s.kvHeads()) e.warn("kv_replicated", tp, s.kvHeads());
            if (s.slidingWindow() > 0 && n > s.slidingWindow()) e.note("sliding_window", s.slidingWindow(), n);
        }
        return bytes;
    }

    /** Activation bytes per GPU at the prefill peak. */
    long activations(Estimate e, ModelShape s, long b, long n, boolean explain) {
        long chunk = prefillChunk > 0 ? Math.min(prefillChunk, n) : n;
        long rows = b * chunk;
        long ctx = s.kvPositions(n);
        long dim = s.hidden();
        long qDim = WeightMemory.ceilDiv(s.qDim(), tp);
        long kvDim = (long) kvHeadsPerGpu(s) * s.headDim();
        long ffn = WeightMemory.ceilDiv(s.ffn(), tp);
        long heads = WeightMemory.ceilDiv(s.heads(), tp);
        long vocab = s.arch() == ModelShape.Arch.ENCODER ? 0 : WeightMemory.ceilDiv(s.vocab(), tp);
        double bpe = activations.bytesPerElement();
        boolean scores = !flashAttention;
        long bytes = Sizes.decoderScratchBytes(rows, ctx, dim, qDim, kvDim, ffn, heads, vocab, b, bpe, scores);
        if (explain) {
            String numbers = rows + " × (2 × " + dim + " + 2 × " + qDim + " + 2 × " + kvDim + " + 2 × " + ffn + ") × "
                    + Units.n(bpe) + (scores ? " + " + rows + " × " + heads + " × " + ctx + " × 4" : "")
                    + " + " + b + " × " + vocab + " × 4";
            e.step(scores ? "activations_infer" : "activations_infer_flash", numbers, "activations_bytes", bytes,
                    Unit.BYTES, activations.name());
        }
        return bytes;
    }

    private long totalFor(ModelShape s, long w, long b, long n) {
        // Each term saturates at Long.MAX_VALUE for absurd sizes; add in double so the sum cannot wrap.
        double t = (double) w + kvCache(null, s, b, n, false) + activations(null, s, b, n, false);
        return t >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) t;
    }

    /** Largest x in [1, SEARCH_LIMIT] with f(x) <= budget, by doubling then bisection; 0 when f(1) > budget. */
    static long largestFitting(java.util.function.LongUnaryOperator f, long budget) {
        if (f.applyAsLong(1) > budget) return 0;
        long lo = 1, hi = 2;
        while (hi < SEARCH_LIMIT && f.applyAsLong(hi) <= budget) {
            lo = hi;
            hi *= 2;
        }
        if (hi >= SEARCH_LIMIT && f.applyAsLong(SEARCH_LIMIT) <= budget) return SEARCH_LIMIT;
        while (hi - lo > 1) {
            long mid = lo + (hi - lo) / 2;
            if (f.applyAsLong(mid) <= budget) lo = mid;
            else hi = mid;
        }
        return lo;
    }

    private void fit(Estimate e, ModelShape s, long w) {
        long maxSeq = largestFitting(n -> totalFor(s, w, batch, n), gpuMemory);
        e.step("max_seq", Units.bytes(gpuMemory) + " ≥ total(batch " + batch + ", seq)", "max_seq", maxSeq, Unit.TOKENS, batch);
        if (maxSeq == 0) e.warn("weights_exceed", Units.bytes(w), Units.bytes(gpuMemory));
        else if (s.contextLength() > 0 && maxSeq > s.contextLength()) e.note("max_seq_over_context", s.contextLength());
        if (seq > 0) {
            long maxBatch = largestFitting(b -> totalFor(s, w, b, seq), gpuMemory);
            e.step("max_batch", Units.bytes(gpuMemory) + " ≥ total(batch, seq " + seq + ")", "max_batch", maxBatch,
                    Unit.COUNT, seq);
        }
    }
}
