package jllm.train;

/**
 * The settings of a training run (one field per {@code jllm train} flag).
 *
 * @param steps          optimizer steps in all (a resumed run continues to this count)
 * @param batch          sequences per micro-batch (B)
 * @param seq            tokens per sequence (T)
 * @param accum          micro-batches per step (gradient accumulation; each contributes 1/accum of the gradient)
 * @param optimizer      AdamW or SGD with momentum
 * @param schedule       learning rate schedule (peak lr, warm-up, cosine or constant, minimum)
 * @param weightDecay    AdamW's decoupled decay (SGD: L2), on matrices and embeddings only
 * @param gradClip       global gradient norm limit, 0 for none
 * @param shuffle        false: each step takes the next rows in file order
 * @param mixedPrecision bf16 weights and matmul operands, fp32 master weights, gradients and optimizer state; the
 *                       operands the backward reads are kept as bf16 (see jllm.model.LlamaModel.State)
 * @param recompute      keep only each block's input and recompute its activations in the backward
 */
public record TrainConfig(int steps, int batch, int seq, int accum, OptimizerKind optimizer, LrSchedule schedule,
                          double weightDecay, double beta1, double beta2, double eps, double momentum, double gradClip,
                          long seed, boolean shuffle, boolean mixedPrecision, boolean recompute, int threads) {
    public enum OptimizerKind { ADAMW, SGD }

    public TrainConfig {
        if (steps <= 0) throw new IllegalArgumentException("--steps must be positive, got " + steps);
        if (batch <= 0) throw new IllegalArgumentException("--batch must be positive, got " + batch);
        if (seq <= 0) throw new IllegalArgumentException("--seq must be positive, got " + seq);
        if (accum <= 0) throw new IllegalArgumentException("--accum must be positive, got " + accum);
        if (!(gradClip >= 0)) throw new IllegalArgumentException("--grad-clip must not be negative, got " + gradClip);
        if (threads <= 0) throw new IllegalArgumentException("threads must be positive, got " + threads);
    }

    /** Tokens per optimizer step. */
    public long tokensPerStep() {
        return (long) batch * seq * accum;
    }
}
