package jllm.estimate;

import jllm.estimate.Estimate.Unit;
import jllm.sizes.Sizes;

/**
 * Latency lower bounds of one inference step from the roofline model (Williams, Waterman &amp; Patterson 2009):
 * a step cannot finish before its bytes have been read at the memory bandwidth, nor before its FLOPs have been
 * done at the peak rate; the larger of the two bounds applies.
 * <pre>
 *   decode  (one token for each of b sequences at context s):
 *           bytes = weights read + KV cache read (b * s positions);  FLOPs = b * forward(s)
 *   prefill (s prompt tokens for each of b sequences, causal):
 *           bytes = weights read + KV cache written;  FLOPs = b * (s * linear + attention over s(s+1)/2 pairs)
 *   time >= max(bytes / bandwidth, FLOPs / peak)
 * </pre>
 * Decoding one sequence is memory-bound for every model and GPU here; the arithmetic intensity (FLOPs per byte)
 * must exceed the GPU's balance (peak / bandwidth, about 150 for an A100) before compute limits. Under tensor
 * parallelism each GPU reads and computes 1/tp (communication is not counted). For a mixture of experts a
 * decode step reads only the experts the batch is routed to (at most active * b of them per layer).
 *
 * @param model     the model (shape needed)
 * @param prefill   prefill rather than decode
 * @param weights   weight storage type
 * @param kv        KV cache type
 * @param batch     sequences
 * @param seq       context (decode) or prompt length (prefill)
 * @param tp        tensor-parallel GPUs
 * @param peakFlops peak FLOP/s per GPU
 * @param bandwidth memory bandwidth per GPU, bytes/s
 */
public record Roofline(ModelSpec model, boolean prefill, DataType weights, DataType kv, long batch, long seq, int tp,
                       double peakFlops, double bandwidth) {

    public Roofline {
        if (batch < 1 || seq < 1) throw new IllegalArgumentException("--roofline needs --batch >= 1 and --seq >= 1");
        if (peakFlops <= 0 || bandwidth <= 0) {
            throw new IllegalArgumentException("--roofline needs --gpu, or --peak-tflops and --bandwidth");
        }
    }

    /** Runs the plan. */
    public Estimate estimate() {
        ModelShape s = model.requireShape("--roofline");
        Estimate e = new Estimate("time", model.name());
        WeightMemory.params(e, model);
        double w = weightBytesRead(s) / tp;
        e.step("roof_weights", Units.n(w * tp) + (tp > 1 ? " / " + tp : ""), null, w, Unit.BYTES, weights.name());
        int kvHeads = (int) WeightMemory.ceilDiv(s.kvHeads(), tp);
        double kvBytes = Sizes.kvCacheBytes(s.kvLayers(), s.kvPositions(seq), kvHeads, s.headDim(), kv.bytesPerElement(), batch);
        e.step(prefill ? "roof_kv_write" : "roof_kv_read", Units.n(kvBytes), null, kvBytes, Unit.BYTES);
        double bytes = w + kvBytes;
        double flops;
        if (prefill) {
            double pairs = (double) seq * (seq + 1) / 2;
            flops = batch * (seq * Flops.linearPerToken(s) + Flops.attentionPerToken(s, 1) * pairs) / tp;
            e.step("roof_flops_prefill", batch + " × (" + seq + " × " + Units.n(Flops.linearPerToken(s)) + " + "
                    + Units.n(Flops.attentionPerToken(s, 1)) + " × " + Units.n(pairs) + ")" + (tp > 1 ? " / " + tp : ""),
                    "flops", flops, Unit.FLOPS);
        } else {
            flops = batch * Flops.forwardPerToken(s, seq) / tp;
            e.step("roof_flops_decode", batch + " × " + Units.n(Flops.forwardPerToken(s, seq)) + (tp > 1 ? " / " + tp : ""),
                    "flops", flops, Unit.FLOPS);
        }
        double tMem = bytes / bandwidth, tCompute = flops / peakFlops;
        e.step("roof_memory_time", Units.n(bytes) + " / " + Units.sci(bandwidth), null, tMem, Unit.SECONDS);
        e.step("roof_compute_time", Units.sci(flops) + " / " + Units.sci(peakFlops), null, tCompute, Unit.SECONDS);
        double intensity = flops / bytes, balance = peakFlops / bandwidth;
        e.step("roof_intensity", Units.sci(flops) + " / " + Units.n(bytes), null, intensity, Unit.COUNT, Units.n(Math.round(balance)));
        double t = Math.max(tMem, tCompute);
        e.step(tMem >= tCompute ? "roof_bound_memory" : "roof_bound_compute",
                "max(" + Units.sci(tMem) + ", " + Units.sci(tCompute) + ")", "time_seconds", t, Unit.SECONDS);
        e.note(tMem >= tCompute ? "bound_memory" : "bound_compute", Units.n(Math.round(intensity)), Units.n(Math.round(balance)));
        if (!prefill) e.note("decode_tokens_per_second", Units.n(Math.round(batch / t)));
        return e;
    }

    /** Weight bytes a step reads: all weights, but for a mixture of experts only the experts the batch can reach. */
    double weightBytesRead(ModelShape s) {
        if (!s.isMoE()) return WeightMemory.weightBytes(model, weights);
        long reached = prefill ? s.experts() : Math.min(s.experts(), (long) s.activeExperts() * batch);
        double b = 0;
        for (ModelShape.Tensor t : s.tensors()) {
            double tb = weights.bytes(t);
            b += t.expert() ? tb * reached / s.experts() : tb;
        }
        return b;
    }
}
