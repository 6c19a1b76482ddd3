package jllm.estimate;

import jllm.estimate.Estimate.Unit;

/**
 * Model states per GPU under the byte models {@code auto}, {@code zero}, {@code megatron} and
 * {@code accelerate} (see {@link ByteModel} for what each counts and where it comes from): weights, gradients,
 * fp32 master weights and optimizer states, each divided by tensor/pipeline parallelism and by the ZeRO stage's
 * data-parallel partitioning, less whatever is offloaded to CPU memory.
 */
final class ModelStates {
    private final TrainingMemory t;

    ModelStates(TrainingMemory t) {
        this.t = t;
    }

    /** Per-parameter bytes of the four states, plus fp32 gradient copies kept with the optimizer (Megatron). */
    private record Bytes(double weights, double grads, double master, double optimizer, double extra) {}

    /** Records the steps; returns {model states on the GPU, ZeRO-3 gather buffer}. */
    double[] estimate(Estimate e, long params, long trainable) {
        ModelSpec m = t.model();
        int stage = t.zero(), dp = t.dp();
        Bytes b = bytes(e);
        double mp = t.modelParallelFraction();
        int wDiv = ZeRO.weightsDivisor(stage, dp), gDiv = ZeRO.gradientsDivisor(stage, dp), oDiv = ZeRO.optimizerDivisor(stage, dp);
        String mpText = mp == 1 ? "" : " × " + Units.n(mp);

        // Weights: full training stores every weight at b.weights; LoRA adds its adapters to the frozen base.
        double weights;
        String wNumbers;
        // Mixed precision keeps norm weights and biases in fp32 only (they are their own master copy; norms run in
        // fp32, as under PyTorch autocast and in jllm's trainer): only matrices and embeddings get a 16-bit copy.
        long vectors = fp32Vectors(b);
        if (t.lora() == null) {
            weights = (params - vectors) * b.weights() + vectors * 4.0;
            wNumbers = Units.n(params - vectors) + " × " + Units.n(b.weights()) + " B"
                    + (vectors > 0 ? " + " + Units.n(vectors) + " × 4 B" : "");
        } else {
            DataType base = t.qlora() ? (t.doubleQuant() ? DataType.NF4_DQ : DataType.NF4) : t.dtype();
            double frozen = WeightMemory.weightBytes(m, base);
            weights = frozen + trainable * b.weights();
            wNumbers = Units.n(frozen) + " (" + base.name() + ") + " + Units.n(trainable) + " × " + Units.n(b.weights()) + " B";
        }
        weights = weights * mp / wDiv;
        e.step("train_weights", wNumbers + mpText + (wDiv > 1 ? " / " + wDiv : ""), "weights_bytes", weights, Unit.BYTES,
                t.byteModel().id());

        double grads = trainable * b.grads() * mp / gDiv;
        e.step("train_grads", Units.n(trainable) + " × " + Units.n(b.grads()) + " B" + mpText + (gDiv > 1 ? " / " + gDiv : ""),
                "gradients_bytes", grads, Unit.BYTES);

        double master = (trainable - vectors) * b.master() * mp / oDiv;
        e.step("train_master", Units.n(trainable - vectors) + " × " + Units.n(b.master()) + " B" + mpText + (oDiv > 1 ? " / " + oDiv : ""),
                "master_weights_bytes", master, Unit.BYTES);
        if (b.master() > 0) e.note("master_copy", Units.bytes(master));

        double optAll = optimizerBytes(trainable, b);
        double opt = (optAll + trainable * b.extra()) * mp / oDiv;
        String oNumbers = t.byteModel() == ByteModel.AUTO
                ? Units.n(optAll) + " (" + t.optimizer().id() + ")"
                : Units.n(trainable) + " × " + Units.n(b.optimizer() + b.extra()) + " B";
        e.step("train_optimizer", oNumbers + mpText + (oDiv > 1 ? " / " + oDiv : ""), "optimizer_bytes", opt, Unit.BYTES,
                t.optimizer().id());

        double states = weights + grads + master + opt;
        e.step("model_states", Units.n(weights) + " + " + Units.n(grads) + " + " + Units.n(master) + " + " + Units.n(opt),
                "model_states_bytes", states, Unit.BYTES, stage, dp);
        if (stage > 0 && dp == 1) e.note("zero_dp1", stage);

        // Offload: ZeRO-Offload moves the optimizer side (and, from stage 2, the gradients) to CPU memory;
        // ZeRO-Infinity's parameter offload moves the weights too.
        double cpu = 0;
        if (t.offloadOptimizer()) cpu += master + opt + (stage >= 2 ? grads : 0);
        if (t.offloadParams()) cpu += weights;
        double onGpu = states - cpu;
        if (cpu > 0) {
            e.step("cpu_offload", Units.n(cpu) + " × " + t.gpusPerNode(), "cpu_bytes", cpu * t.gpusPerNode(), Unit.BYTES,
                    t.gpusPerNode());
            e.step("gpu_states", Units.n(states) + " − " + Units.n(cpu), null, onGpu, Unit.BYTES);
        }

        // ZeRO-3 gathers each layer's weights (and produces its gradients) whole before use.
        double gather = 0;
        if (stage == 3) {
            long largest = t.largestLayerParams();
            // Full training gathers weights and produces gradients; a frozen LoRA base is only gathered.
            double perParam = t.lora() == null ? b.weights() + b.grads()
                    : (t.qlora() ? (t.doubleQuant() ? DataType.NF4_DQ : DataType.NF4) : t.dtype()).bytesPerElement();
            gather = largest * perParam;
            e.step("zero3_gather", Units.n(largest) + " × " + Units.n(perParam) + " B", "largest_layer_bytes", gather,
                    Unit.BYTES);
            double stage2 = weights * wDiv + (states - weights);
            if (gather + states > stage2 && dp > 1) e.warn("zero3_gather_exceeds", Units.bytes(gather));
        } else if (t.largestLayerParams() > 0) {
            e.step("largest_layer_train", Units.n(t.largestLayerParams()) + " × " + Units.n(b.weights()) + " B",
                    "largest_layer_bytes", t.largestLayerParams() * b.weights(), Unit.BYTES);
        }
        return new double[] {onGpu, gather};
    }

    /**
     * Parameters of the norm and bias vectors that stay fp32 under mixed precision (full training of a known shape
     * with the auto byte model and a 16-bit working copy), else 0.
     */
    private long fp32Vectors(Bytes b) {
        ModelSpec m = t.model();
        if (t.byteModel() != ByteModel.AUTO || t.lora() != null || !t.mixedPrecision() || b.master() == 0
                || !m.hasShape() || m.paramsOverridden()) {
            return 0;
        }
        long n = 0;
        for (ModelShape.Tensor x : m.shape().tensors()) if (x.kind() == ModelShape.Kind.VECTOR) n += x.elements();
        return n;
    }

    private double optimizerBytes(long trainable, Bytes b) {
        if (t.byteModel() != ByteModel.AUTO) return trainable * b.optimizer();
        ModelSpec m = t.model();
        if (t.lora() != null) {
            double s = 0;
            for (ModelShape.Tensor a : t.lora().adapters(m.shape())) s += a.count() * t.optimizer().stateBytes(a.rows(), a.cols());
            return s;
        }
        if (m.hasShape() && !m.paramsOverridden()) return t.optimizer().stateBytes(m.shape());
        return trainable * t.optimizer().bytesPerParam();
    }

    private Bytes bytes(Estimate e) {
        DataType d = t.dtype();
        double w = d.bytesPerElement();
        return switch (t.byteModel()) {
            case AUTO -> {
                if (t.lora() == null && d.isQuantized()) {
                    throw new IllegalArgumentException("full training needs a float --dtype (fp32, bf16, fp16), not "
                            + d.name() + "; train adapters over a quantized base with --lora-rank and --qlora");
                }
                double trainableW = t.lora() != null && d.isQuantized() ? 2 : w;
                double g = t.gradDtype() == null ? trainableW : t.gradDtype().bytesPerElement();
                boolean sixteen = trainableW == 2;
                double master = t.mixedPrecision() && sixteen ? 4 : 0;
                if (sixteen && !t.mixedPrecision()) e.warn("no_master_copy");
                yield new Bytes(trainableW, g, master, 0, 0);
            }
            case ZERO -> {
                if (t.optimizer() != Optimizer.ADAMW) e.warn("byte_model_fixes_optimizer", "zero", "adamw");
                yield new Bytes(2, 2, 4, 8, 0);
            }
            case MEGATRON -> {
                if (t.zero() > 1) {
                    throw new IllegalArgumentException("Megatron's distributed optimizer shards optimizer states only "
                            + "(ZeRO stage 1); use --zero 0 or 1 with --byte-model megatron, got --zero " + t.zero());
                }
                double pw = d.bits() >= 32 ? 4 : 2;
                double g = t.gradDtype() == null ? 4 : t.gradDtype().bytesPerElement();
                // fp32 weights need no master copy; 16-bit gradients are copied to fp32 "main grads" for the update.
                yield new Bytes(pw, g, pw == 2 ? 4 : 0, 8, g == 2 ? 4 : 0);
            }
            case ACCELERATE -> {
                if (t.zero() > 0 || t.gpus() > 1) {
                    throw new IllegalArgumentException("accelerate's estimate-memory models one device without ZeRO; "
                            + "use --byte-model zero or auto for --zero/--dp/--tp/--pp");
                }
                yield new Bytes(w, w, 0, 2 * w, 0);
            }
            case DEEPSPEED -> throw new IllegalStateException("deepspeed byte model is handled by DeepSpeedEstimator");
        };
    }
}
