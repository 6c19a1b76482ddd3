package jllm.train;

import java.util.ArrayList;
import java.util.List;

import jllm.model.Linear;
import jllm.model.LlamaModel;
import jllm.model.LlamaWeights;
import jllm.model.LoRA;
import jllm.model.ModelConfig;
import jllm.model.Projection;
import jllm.sizes.Sizes;
import jllm.tensor.GGMLType;
import jllm.tensor.Tensor;

/**
 * The training step of a LoRA adapter (Hu et al. 2021) over a frozen base: the same loop as {@link Trainer} (for
 * each of {@code accum} micro-batches the model's one forward and backward, gradients weighted 1/accum; global-norm
 * clipping; the schedule's learning rate; one AdamW or SGD update, with PyTorch's semantics), but the backward is
 * asked for no base gradient (the model stops below the lowest adapted block) and the optimizer sees only the
 * adapter's A and B, with weight decay on both (they are matrices). The base weights are never written: they are
 * used as loaded (F32, F16 or BF16 views; quantized matrices the backward multiplies by are dequantized once to
 * F32, or with mixed precision every such matrix is rounded once to a BF16 copy), so they stay bit-identical.
 *
 * <p>Dropout masks are seeded by (run seed, step, micro-batch), so a resumed run draws the masks an uninterrupted
 * one would.
 */
public final class LoraTrainer implements AutoCloseable {
    private final TrainConfig cfg;
    private final LoRA lora;
    private final LlamaWeights base;
    private final Linear linear;
    private final LlamaModel model;
    private final LlamaModel.State state;
    private final Optimizer optimizer;
    private final List<Parameters.Entry> entries = new ArrayList<>();

    public LoraTrainer(LlamaWeights base, LoRA lora, TrainConfig cfg) {
        ModelConfig c = lora.config();
        if (!lora.trainable()) throw new IllegalArgumentException("the adapter was loaded to be applied; make a trainable copy");
        if (c.positions() == ModelConfig.Positions.LEARNED && cfg.seq() > c.contextLength()) {
            throw new IllegalArgumentException("--seq " + cfg.seq() + " exceeds the model's " + c.contextLength() + " learned positions");
        }
        this.cfg = cfg;
        this.lora = lora;
        this.base = frozen(c, base, cfg.mixedPrecision());
        this.linear = new Linear(cfg.threads());
        this.model = new LlamaModel(c, this.base, linear, lora);
        this.state = model.newTrainingState(cfg.batch(), cfg.seq(), cfg.recompute(), cfg.mixedPrecision());
        for (LoRA.Param p : lora.parameters()) entries.add(new Parameters.Entry(p.name(), p.value(), p.grad(), p.ne(), true));
        this.optimizer = switch (cfg.optimizer()) {
            case ADAMW -> new AdamW(entries, cfg.beta1(), cfg.beta2(), cfg.eps(), cfg.weightDecay(), linear);
            case SGD -> new SGD(entries, cfg.momentum(), cfg.weightDecay(), false, linear);
        };
    }

    /**
     * The base as the LoRA backward can use it: the matrices it multiplies gradients by (every block projection and
     * the output) must be F32, F16 or BF16, so quantized ones become F32 copies; with {@code bf16} every F32 one
     * becomes a BF16 copy (round to nearest even). Everything else is shared with {@code w}.
     */
    public static LlamaWeights frozen(ModelConfig c, LlamaWeights w, boolean bf16) {
        Tensor[][] m = new Tensor[Projection.values().length][];
        for (Projection p : Projection.values()) {
            if (!p.exists(c)) continue;
            Tensor[] a = new Tensor[c.nLayers()];
            for (int l = 0; l < a.length; l++) a[l] = usable(p.weight(w, l), bf16);
            m[p.ordinal()] = a;
        }
        Tensor out = usable(w.output(), bf16);
        return new LlamaWeights(w.tokenEmbedding(), w.positionEmbedding(), w.attnNorm(), w.attnNormBias(),
                m[Projection.Q.ordinal()], m[Projection.K.ordinal()], m[Projection.V.ordinal()], m[Projection.O.ordinal()],
                w.bq(), w.bk(), w.bv(), w.bo(), w.ffnNorm(), w.ffnNormBias(), m[Projection.GATE.ordinal()],
                m[Projection.UP.ordinal()], m[Projection.DOWN.ordinal()], w.bGate(), w.bUp(), w.bDown(),
                w.outputNorm(), w.outputNormBias(), out, w.ropeFreqs()).validate(c);
    }

    private static Tensor usable(Tensor t, boolean bf16) {
        GGMLType type = t.type();
        if (bf16 && type != GGMLType.BF16 && type != GGMLType.F16) return Tensor.quantize(t.name(), GGMLType.BF16, t.toFloatArray(), t.ne());
        if (type.isQuantized()) return Tensor.ofFloats(t.name(), t.toFloatArray(), t.ne());
        return t;
    }

    public TrainConfig config() { return cfg; }
    public LoRA lora() { return lora; }
    public Optimizer optimizer() { return optimizer; }
    public LlamaModel model() { return model; }
    /** The trainable entries (A and B of every module, a shared A once), in optimizer order. */
    public List<Parameters.Entry> entries() { return entries; }

    /** Steps taken so far (restored by a resume). */
    public long step() { return optimizer.steps(); }

    /** One optimizer step of the adapter on {@code accum} micro-batches from {@code data}. */
    public Trainer.StepResult step(Batch.Source data) {
        long t0 = System.nanoTime();
        for (Parameters.Entry e : entries) java.util.Arrays.fill(e.grad(), 0f);
        long step = optimizer.steps();
        double lossSum = 0;
        float scale = 1f / cfg.accum();
        for (int a = 0; a < cfg.accum(); a++) {
            Batch b = data.next();
            if (b.B() != cfg.batch() || b.T() != cfg.seq()) {
                throw new IllegalArgumentException("batch of " + b.B() + " x " + b.T() + " does not match --batch " + cfg.batch() + " --seq " + cfg.seq());
            }
            lora.dropoutSeed(dropoutSeed(cfg.seed(), step * cfg.accum() + a));
            lossSum += model.forward(b.tokens(), b.targets(), state);
            model.backward(b.tokens(), b.targets(), state, null, scale);
        }
        double norm = GradientClipping.clip(entries, cfg.gradClip());
        double lr = cfg.schedule().at(step);
        optimizer.step(lr);
        return new Trainer.StepResult(step, lossSum / cfg.accum(), lr, norm, cfg.tokensPerStep(), System.nanoTime() - t0);
    }

    static long dropoutSeed(long seed, long microBatch) {
        long z = seed * 0x9E3779B97F4A7C15L + microBatch;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The bytes this run holds, as allocated: the base as held, the adapter's arrays, the optimizer state, the state. */
    public LoraMemoryReport memory() {
        long values = 0, grads = 0;
        for (Parameters.Entry e : entries) {
            values += 4L * e.value().length;
            grads += 4L * e.grad().length;
        }
        return new LoraMemoryReport(lora.parameterCount(), base.storedBytes(), values, grads, optimizer.stateBytes(), state.bytes());
    }

    /** The planner's prediction of {@link #memory()} from shapes, with {@link Sizes} (the base bytes as held). */
    public LoraMemoryReport predict() {
        ModelConfig c = lora.config();
        long p = lora.parameterCount();
        int states = switch (cfg.optimizer()) {
            case ADAMW -> 2;
            case SGD -> cfg.momentum() > 0 ? 1 : 0;
        };
        long[] s = Sizes.trainingStateBytes(p, 0, states, false);
        long act = Sizes.trainingActivationBytes(c.nLayers(), c.dim(), c.qDim(), c.kvDim(), c.nHeads(), c.headDim(),
                c.ffnDim(), c.mlp() == ModelConfig.Mlp.SWIGLU, c.vocab(), c.ropeDim(), cfg.batch(), cfg.seq(),
                cfg.recompute(), cfg.mixedPrecision(), cfg.threads())
                + Sizes.loraScratchBytes((long) cfg.batch() * cfg.seq(), lora.maxIn(), lora.maxOut(), lora.rank(), true, lora.dropout() > 0);
        return new LoraMemoryReport(p, base.storedBytes(), s[0], s[1], s[2], act);
    }

    @Override
    public void close() {
        linear.close();
    }
}
