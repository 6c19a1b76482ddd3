package jllm.train;

import java.util.List;

import jllm.model.Gradients;
import jllm.model.Linear;
import jllm.model.LlamaModel;
import jllm.model.ModelConfig;
import jllm.sizes.Sizes;

/**
 * The training loop's step: for each of {@code accum} micro-batches a forward and a backward of the model (the one
 * the inference path runs), gradients summed with weight 1/accum; then global-norm clipping, the learning rate of
 * the schedule, one optimizer update of the float32 master weights, and (mixed precision) a refresh of the bf16
 * working copy; under mixed precision the activations the backward reads of the matrix products and attention are
 * kept as bf16 (LlamaModel.State). A step's reported loss is the mean micro-batch loss before its update.
 * Deterministic: the same parameters, optimizer state, step count and batches give the same bits whatever the thread
 * count.
 */
public final class Trainer implements AutoCloseable {
    /** What one step did. */
    public record StepResult(long step, double loss, double lr, double gradNorm, long tokens, long nanos) {
        public double tokensPerSecond() {
            return tokens / (nanos / 1e9);
        }
    }

    private final TrainConfig cfg;
    private final Parameters params;
    private final Linear linear;
    private final LlamaModel model;
    private final LlamaModel.State state;
    private final Gradients grads;
    private final Optimizer optimizer;
    private final List<Parameters.Entry> entries;

    public Trainer(Parameters params, TrainConfig cfg) {
        ModelConfig c = params.config();
        if (params.mixedPrecision() != cfg.mixedPrecision()) {
            throw new IllegalArgumentException("parameters were made " + (params.mixedPrecision() ? "with" : "without")
                    + " mixed precision but the run asks " + (cfg.mixedPrecision() ? "for" : "against") + " it");
        }
        if (c.positions() == ModelConfig.Positions.LEARNED && cfg.seq() > c.contextLength()) {
            throw new IllegalArgumentException("--seq " + cfg.seq() + " exceeds the model's " + c.contextLength() + " learned positions");
        }
        this.cfg = cfg;
        this.params = params;
        this.entries = params.entries();
        this.linear = new Linear(cfg.threads());
        this.model = new LlamaModel(c, params.weights(), linear);
        this.state = model.newTrainingState(cfg.batch(), cfg.seq(), cfg.recompute(), cfg.mixedPrecision());
        this.grads = params.gradients();
        this.optimizer = switch (cfg.optimizer()) {
            case ADAMW -> new AdamW(entries, cfg.beta1(), cfg.beta2(), cfg.eps(), cfg.weightDecay(), linear);
            case SGD -> new SGD(entries, cfg.momentum(), cfg.weightDecay(), false, linear);
        };
    }

    public TrainConfig config() { return cfg; }
    public Parameters parameters() { return params; }
    public Optimizer optimizer() { return optimizer; }
    public LlamaModel model() { return model; }

    /** Steps taken so far (restored by a resume). */
    public long step() { return optimizer.steps(); }

    /** One optimizer step on {@code accum} micro-batches from {@code data}. */
    public StepResult step(Batch.Source data) {
        long t0 = System.nanoTime();
        params.zeroGrad(linear);
        double lossSum = 0;
        float scale = 1f / cfg.accum();
        for (int a = 0; a < cfg.accum(); a++) {
            Batch b = data.next();
            if (b.B() != cfg.batch() || b.T() != cfg.seq()) {
                throw new IllegalArgumentException("batch of " + b.B() + " x " + b.T() + " does not match --batch " + cfg.batch() + " --seq " + cfg.seq());
            }
            lossSum += model.forward(b.tokens(), b.targets(), state);
            model.backward(b.tokens(), b.targets(), state, grads, scale);
        }
        long step = optimizer.steps();
        double norm = GradientClipping.clip(entries, cfg.gradClip(), linear);
        double lr = cfg.schedule().at(step);
        optimizer.step(lr);
        params.syncWorkingCopy();
        return new StepResult(step, lossSum / cfg.accum(), lr, norm, cfg.tokensPerStep(), System.nanoTime() - t0);
    }

    /** The mean loss of a batch without updating anything (for evaluation and tests). */
    public double loss(Batch b) {
        return model.forward(b.tokens(), b.targets(), state);
    }

    /**
     * The bytes this run holds, by category, measured from what it allocated: the master weight arrays and the bf16
     * working copies, the gradient arrays, the optimizer's state arrays, and the activation buffers of the state.
     */
    public MemoryReport memory() {
        return new MemoryReport(params.masterBytes() + params.workingCopyBytes(), params.gradientBytes(),
                optimizer.stateBytes(), state.bytes());
    }

    /** The planner's prediction of {@link #memory()} from the shapes alone (the same size functions). */
    public static MemoryReport predict(ModelConfig c, TrainConfig cfg) {
        long n = 0, matrices = 0;
        for (var p : jllm.model.LlamaWeights.parameters(c)) {
            n += p.size();
            if (p.matrix()) matrices += p.size();
        }
        long act = Sizes.trainingActivationBytes(c.nLayers(), c.dim(), c.qDim(), c.kvDim(), c.nHeads(), c.headDim(),
                c.ffnDim(), c.mlp() == ModelConfig.Mlp.SWIGLU, c.vocab(), c.ropeDim(), cfg.batch(), cfg.seq(),
                cfg.recompute(), cfg.mixedPrecision(), cfg.threads());
        int states = switch (cfg.optimizer()) {
            case ADAMW -> 2;
            case SGD -> cfg.momentum() > 0 ? 1 : 0;
        };
        long[] s = Sizes.trainingStateBytes(n, matrices, states, cfg.mixedPrecision());
        return new MemoryReport(s[0], s[1], s[2], act);
    }

    @Override
    public void close() {
        linear.close();
    }
}
