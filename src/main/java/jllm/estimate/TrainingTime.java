package jllm.estimate;

import jllm.estimate.ActivationMemory.Recompute;
import jllm.estimate.Estimate.Unit;

/**
 * Training time from FLOPs, and the inverse: achieved FLOP/s and model FLOPs utilisation from a measured
 * iteration time.
 * <pre>
 *   time     = C / (gpus * peak * MFU)                      (or gpus * achieved FLOP/s)
 *   achieved = FLOPs per iteration / (iteration time * gpus)
 *   MFU      = achieved / peak                              (Chowdhery et al. 2022, PaLM, Sec. 4.1 and App. B)
 * </pre>
 * MFU counts the model's FLOPs only (6N or the exact count without recomputation); when recomputation is
 * included the ratio is the hardware FLOPs utilisation (HFU) instead, and the planner says so.
 *
 * @param model          the model
 * @param tokens         training tokens D (0 for the inverse mode)
 * @param method         6ND or exact per-layer counting
 * @param recompute      recomputation counted in the FLOPs
 * @param seq            sequence length (exact method, and tokens per sequence in the inverse)
 * @param gpus           GPUs
 * @param peakFlops      peak FLOP/s per GPU (0 if unknown)
 * @param mfu            model FLOPs utilisation (0 if not given)
 * @param achievedFlops  achieved FLOP/s per GPU (0 if not given)
 * @param iterationTime  measured seconds per iteration (0: forward mode)
 * @param globalBatch    sequences per iteration
 */
public record TrainingTime(ModelSpec model, double tokens, Flops.Method method, Recompute recompute, long seq,
                           int gpus, double peakFlops, double mfu, double achievedFlops, double iterationTime,
                           long globalBatch) {

    public TrainingTime {
        if (gpus < 1) throw new IllegalArgumentException("--gpus must be at least 1, got " + gpus);
        if (mfu < 0 || mfu > 1) throw new IllegalArgumentException("--mfu must be a fraction in (0, 1], got " + mfu);
        if (tokens < 0 || peakFlops < 0 || achievedFlops < 0 || iterationTime < 0 || globalBatch < 0) {
            throw new IllegalArgumentException("negative --tokens, --peak-tflops, --achieved-tflops, --iteration-time or --global-batch");
        }
    }

    /** Runs the plan. */
    public Estimate estimate() {
        Estimate e = new Estimate("time", model.name());
        WeightMemory.params(e, model);
        double perToken = perToken(e);
        if (iterationTime > 0) return inverse(e, perToken);
        if (tokens <= 0) {
            throw new IllegalArgumentException("give --tokens for a training time, --iteration-time with --global-batch "
                    + "for achieved FLOP/s and MFU, or --roofline decode|prefill for latency bounds");
        }
        double flops = perToken * tokens;
        e.step("flops_total", Units.sci(perToken) + " × " + Units.sci(tokens), "flops", flops, Unit.FLOPS);
        double rate;
        if (achievedFlops > 0) {
            rate = achievedFlops;
            e.step("rate_achieved", Units.sci(achievedFlops), "achieved_flops_per_gpu", rate, Unit.FLOPS_PER_SECOND);
            if (peakFlops > 0) {
                e.step("mfu", Units.sci(achievedFlops) + " / " + Units.sci(peakFlops), "mfu", achievedFlops / peakFlops, Unit.RATIO);
            }
        } else {
            if (peakFlops <= 0) throw new IllegalArgumentException("give --gpu, --peak-tflops or --achieved-tflops");
            if (mfu <= 0) throw new IllegalArgumentException("give --mfu (model FLOPs utilisation, typically 0.3 to 0.5) or --achieved-tflops");
            e.step("mfu_given", Units.n(mfu), "mfu", mfu, Unit.RATIO);
            rate = peakFlops * mfu;
            e.step("rate_mfu", Units.sci(peakFlops) + " × " + Units.n(mfu), "achieved_flops_per_gpu", rate, Unit.FLOPS_PER_SECOND);
            if (mfu > 0.6) e.warn("mfu_high", Units.percent(mfu));
        }
        double seconds = flops / (gpus * rate);
        e.step("time", Units.sci(flops) + " / (" + gpus + " × " + Units.sci(rate) + ")", "time_seconds", seconds, Unit.SECONDS);
        if (method == Flops.Method.SIX_ND && recompute != Recompute.FULL) e.note("recompute_8nd");
        return e;
    }

    private double perToken(Estimate e) {
        if (method == Flops.Method.EXACT) {
            ModelShape s = model.requireShape("--method exact");
            if (seq <= 0) throw new IllegalArgumentException("--method exact needs --seq (the attention term grows with it)");
            double linear = Flops.linearPerToken(s), attn = Flops.attentionPerToken(s, seq);
            double fwd = linear + attn;
            e.step("flops_forward_token", Units.n(linear) + " + " + Units.n(attn), null, fwd, Unit.FLOPS, seq);
            double t = Flops.trainingPerToken(s, seq, recompute);
            e.step("flops_train_token_" + recompute.name().toLowerCase(java.util.Locale.ROOT),
                    "3 × " + Units.n(fwd) + (recompute == Recompute.NONE ? "" : " + " + Units.n(t - 3 * fwd)), null, t,
                    Unit.FLOPS);
            return t;
        }
        long n = model.activeParams();
        double t = Flops.ruleOfThumbPerToken(n, recompute);
        e.step(recompute == Recompute.FULL ? "flops_8n" : "flops_6n", (recompute == Recompute.FULL ? "8" : "6") + " × "
                + Units.n(n), null, t, Unit.FLOPS);
        if (model.hasShape() && model.shape().isMoE()) e.note("moe_active_flops", Units.count(n), Units.count(model.params()));
        return t;
    }

    private Estimate inverse(Estimate e, double perToken) {
        if (globalBatch <= 0 || seq <= 0) {
            throw new IllegalArgumentException("--iteration-time needs --global-batch (sequences) and --seq (tokens per sequence)");
        }
        double tokensPerIteration = (double) globalBatch * seq;
        double flops = perToken * tokensPerIteration;
        e.step("flops_iteration", Units.sci(perToken) + " × " + globalBatch + " × " + seq, "flops", flops, Unit.FLOPS);
        double achieved = flops / (iterationTime * gpus);
        e.step("achieved", Units.sci(flops) + " / (" + Units.n(iterationTime) + " × " + gpus + ")",
                "achieved_flops_per_gpu", achieved, Unit.FLOPS_PER_SECOND);
        e.step("iteration_time", Units.n(iterationTime), "time_seconds", iterationTime, Unit.SECONDS);
        if (peakFlops > 0) {
            double u = achieved / peakFlops;
            e.step(recompute == Recompute.NONE ? "mfu" : "hfu", Units.sci(achieved) + " / " + Units.sci(peakFlops), "mfu", u,
                    Unit.RATIO);
            if (recompute != Recompute.NONE) e.note("hfu_not_mfu");
        }
        return e;
    }
}
