package jllm.train;

import java.util.Locale;

/**
 * The bytes a training run holds, by category, computed with {@link jllm.sizes.Sizes} (the functions the planner,
 * {@code jllm estimate train}, uses) and checked against what the trainer actually allocated.
 *
 * @param weights     float32 master weights (+ the bf16 working copy with mixed precision)
 * @param gradients   float32 gradients
 * @param optimizer   optimizer state (AdamW: two moments; SGD: one momentum buffer)
 * @param activations activations kept for the backward, the backward's buffers and the logits
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
