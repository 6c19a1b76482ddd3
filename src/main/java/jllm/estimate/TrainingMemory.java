package jllm.estimate;

import jllm.estimate.ActivationMemory.Recompute;
import jllm.estimate.Estimate.Unit;

/**
 * Memory of training per GPU: weights, gradients, fp32 master weights, optimizer states (the model states),
 * activations, and the ZeRO-3 gather buffer; what is offloaded to CPU memory. Model states follow the chosen
 * {@link ByteModel}; partitioning over data-parallel ranks follows {@link ZeRO}; activations follow
 * {@link ActivationMemory} (Korthikanti et al. 2022).
 *
 * <p>Model parallelism: each GPU holds a 1/tp slice of its pipeline stage. The most loaded stage is the first
 * (layers L/p plus the token embedding) or, when untied, the last (layers plus the output projection), as in
 * Megatron-LM's theoretical_memory_usage.py.
 *
 * <p>LoRA (Hu et al. 2021) freezes the base weights: they cost their storage bytes only, and gradients, master
 * weights and optimizer states exist only for the adapters. QLoRA (Dettmers et al. 2023) stores the frozen base
 * in NF4 (4.5 bits per weight, 4.127 with double quantization) and computes in 16 bits.
 *
 * @param model            the model
 * @param dtype            weights' storage type (trainable weights, or the frozen base without --qlora)
 * @param gradDtype        gradients' type (null: same as dtype)
 * @param mixedPrecision   keep an fp32 master copy of the trainable weights
 * @param optimizer        optimizer
 * @param byteModel        how model states are counted
 * @param zero             ZeRO stage 0-3
 * @param dp               data-parallel ranks
 * @param tp               tensor-parallel size
 * @param pp               pipeline stages
 * @param sp               sequence parallelism
 * @param recompute        activation recomputation
 * @param flashAttention   scores not materialised
 * @param dropout          the model trains with dropout
 * @param microBatch       micro-batch size per GPU
 * @param seq              sequence length (0: activations not counted)
 * @param microBatches     micro-batches per step (in flight under pipelining)
 * @param offloadOptimizer optimizer states (and with ZeRO-2/3 gradients) live in CPU memory
 * @param offloadParams    weights live in CPU memory (ZeRO-3)
 * @param lora             LoRA adapters, or null for full training
 * @param qlora            frozen base in NF4
 * @param doubleQuant      QLoRA double quantization of the NF4 constants
 * @param largestLayer     parameters of the largest layer (0: from the shape)
 * @param gpusPerNode      GPUs per node, for CPU memory per node
 * @param zeroInit         DeepSpeed zero.Init (only the deepspeed byte model uses it)
 * @param gpuMemory        bytes of one GPU (0: no fit check)
 */
public record TrainingMemory(ModelSpec model, DataType dtype, DataType gradDtype, boolean mixedPrecision,
                             Optimizer optimizer, ByteModel byteModel, int zero, int dp, int tp, int pp, boolean sp,
                             Recompute recompute, boolean flashAttention, boolean dropout, long microBatch, long seq,
                             long microBatches, boolean offloadOptimizer, boolean offloadParams, Lora lora,
                             boolean qlora, boolean doubleQuant, long largestLayer, int gpusPerNode, boolean zeroInit,
                             long gpuMemory) {

    public TrainingMemory {
        ZeRO.stage(zero);
        if (dp < 1 || tp < 1 || pp < 1) throw new IllegalArgumentException("--dp, --tp and --pp must be at least 1");
        if (microBatch < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + microBatch);
        if (seq < 0) throw new IllegalArgumentException("--seq must not be negative, got " + seq);
        if (microBatches < 1) throw new IllegalArgumentException("--micro-batches must be at least 1, got " + microBatches);
        if (gpusPerNode < 1) throw new IllegalArgumentException("--gpus-per-node must be at least 1, got " + gpusPerNode);
        if (sp && tp == 1) throw new IllegalArgumentException("--sp (sequence parallelism) needs --tp > 1");
        if (offloadParams && zero != 3) throw new IllegalArgumentException("--offload-params needs --zero 3 (ZeRO-Infinity)");
        if (offloadOptimizer && zero == 0) {
            throw new IllegalArgumentException("--offload-optimizer needs --zero 1, 2 or 3 (ZeRO-Offload partitions first)");
        }
        if (qlora && lora == null) throw new IllegalArgumentException("--qlora needs --lora-rank and --lora-targets");
        if (lora != null && byteModel != ByteModel.AUTO) {
            throw new IllegalArgumentException("--byte-model " + byteModel.id() + " describes full training; LoRA needs --byte-model auto");
        }
    }

    /** Total GPUs: dp * tp * pp. */
    public int gpus() {
        return dp * tp * pp;
    }

    /** Runs the plan. */
    public Estimate estimate() {
        Estimate e = new Estimate("train", model.name());
        long p = WeightMemory.params(e, model);
        long trainable = lora == null ? p : lora.trainableParams(model.requireShape("LoRA"));
        e.step(lora == null ? "trainable_full" : "trainable_lora", lora == null ? Units.n(p) : loraNumbers(),
                "trainable_params", trainable, Unit.COUNT, lora == null ? "" : lora.rank(),
                lora == null ? "" : String.join(",", lora.targets()));
        e.step("gpus", dp + " × " + tp + " × " + pp, null, gpus(), Unit.COUNT);
        double states;
        double gather = 0;
        if (byteModel == ByteModel.DEEPSPEED) {
            DeepSpeedEstimator ds = new DeepSpeedEstimator(p, largestLayerParams(), zero, gpus(), gpusPerNode,
                    offloadOptimizer, offloadParams, zeroInit);
            double[] r = ds.estimate(e);
            states = r[0];
            gather = r[1];
        } else {
            double[] r = new ModelStates(this).estimate(e, p, trainable);
            states = r[0];
            gather = r[1];
        }
        double act = 0;
        if (seq > 0) {
            act = activations(model.requireShape("the activation estimate"), microBatch).estimate(e);
        } else {
            e.warn("no_seq_train");
        }
        long total = Math.round(states + gather + act);
        e.step("total_train", Units.n(states) + " + " + Units.n(gather) + " + " + Units.n(act), "total_bytes", total,
                Unit.BYTES);
        if (gpuMemory > 0) {
            if (total > gpuMemory) e.warn("does_not_fit", Units.bytes(total), Units.bytes(gpuMemory));
            if (seq > 0) {
                ModelShape s = model.shape();
                double fixed = states + gather;
                long maxBatch = InferenceMemory.largestFitting(b -> {
                    double t = fixed + activations(s, b).bytesOnly();
                    return t >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) t;
                }, gpuMemory);
                e.step("max_batch_train", Units.bytes(gpuMemory) + " ≥ total(batch)", "max_batch", maxBatch, Unit.COUNT, seq);
            }
        }
        e.note("gib_vs_gb");
        return e;
    }

    /** Parameters of the largest layer: the flag, else the shape's largest tensor. */
    long largestLayerParams() {
        if (largestLayer > 0) return largestLayer;
        if (model.hasShape()) return model.shape().largestTensorParams();
        return 0;
    }

    private String loraNumbers() {
        ModelShape s = model.shape();
        StringBuilder sb = new StringBuilder();
        for (ModelShape.Tensor t : s.tensors()) {
            if (t.target() == null || !lora.targets().contains(t.target())) continue;
            if (!sb.isEmpty()) sb.append(" + ");
            sb.append(t.count()).append(" × ").append(lora.rank()).append(" × (").append(t.rows()).append(" + ")
                    .append(t.cols()).append(')');
        }
        return sb.toString();
    }

    /** Bytes per activation element: 16-bit under mixed precision or a 16-bit dtype, else 4. */
    int activationBytes() {
        return mixedPrecision || qlora || dtype.bits() <= 16 ? 2 : 4;
    }

    /**
     * The activations: {@link #activationBytes} per element; under mixed precision the residual stream in fp32 and
     * the backward computing in fp32 (its one-layer working set: activation gradients and the decoded 16-bit
     * operands); otherwise the residual stream and the working set at the activations' width.
     */
    ActivationMemory activations(ModelShape s, long b) {
        int act = activationBytes();
        int wide = mixedPrecision ? 4 : act;
        return new ActivationMemory(s, seq, b, tp, sp, pp, microBatches, recompute, flashAttention, dropout, act, wide, wide);
    }

    /**
     * Fraction of the model's parameters on the most loaded GPU under tensor and pipeline parallelism:
     * max(first stage, last stage) / tp, where stages hold L/p layers and the first also the embeddings,
     * the last the output projection and final norm.
     */
    double modelParallelFraction() {
        if (tp == 1 && pp == 1) return 1;
        if (!model.hasShape()) return 1.0 / ((double) tp * pp);
        double layers = 0, emb = 0, out = 0;
        for (ModelShape.Tensor t : model.shape().tensors()) {
            if (t.name().contains(".*.")) layers += t.elements();
            else if (t.kind() == ModelShape.Kind.EMBEDDING) emb += t.elements();
            else out += t.elements();
        }
        double first = layers / pp + emb + (pp == 1 ? out : 0);
        double last = pp == 1 ? first : layers / pp + out;
        return Math.max(first, last) / tp / (layers + emb + out);
    }
}
