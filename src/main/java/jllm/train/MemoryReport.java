package jllm.train;

import java.util.Locale;

/**
 * The bytes a training run holds, by category: measured from the arrays the trainer allocated
 * ({@link Trainer#memory}) or predicted from the shapes with {@link jllm.sizes.Sizes} ({@link Trainer#predict}); the
 * two agree to the byte, and {@code jllm estimate train --verify} compares the measured ones with the planner's.
 *
 * @param weights     float32 master weights (+ the bf16 working copy with mixed precision)
 * @param gradients   float32 gradients
 * @param optimizer   optimizer state (AdamW: two moments; SGD: one momentum buffer)
 * @param activations activations kept for the backward (bf16 copies of the matmul and attention operands under
 *                    mixed precision), the backward's buffers and the logits
 */
public record MemoryReport(long weights, long gradients, long optimizer, long activations) {
    public long total() {
        return weights + gradients + optimizer + activations;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "memory: weights %s, gradients %s, optimizer %s, activations %s, total %s",
                mib(weights), mib(gradients), mib(optimizer), mib(activations), mib(total()));
    }

    static String mib(long b) {
        return String.format(Locale.ROOT, "%.1f MiB", b / 1048576.0);
    }
}
