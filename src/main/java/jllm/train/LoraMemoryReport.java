package jllm.train;

import java.util.Locale;

/**
 * The bytes a LoRA training run holds, by category (Hu et al. 2021, Sec. 4.2: the frozen base has no gradients and
 * no optimizer state): measured from what the trainer allocated ({@link LoraTrainer#memory}) or predicted from the
 * shapes with {@link jllm.sizes.Sizes} ({@link LoraTrainer#predict}); {@code jllm estimate train --lora-rank R
 * --verify} compares the measured ones with the planner's.
 *
 * @param trainableParams the adapter's scalars: r (in + out) per adapted layer
 * @param baseWeights     the frozen base as the trainer holds it (stored types; quantized matrices dequantized for the
 *                        backward)
 * @param adapter         A and B, float32
 * @param gradients       A's and B's gradients, float32
 * @param optimizer       optimizer state for A and B (AdamW: two moments; SGD: one momentum buffer)
 * @param activations     activations kept for the backward, the backward's buffers, the logits and the LoRA paths'
 *                        buffers
 */
public record LoraMemoryReport(long trainableParams, long baseWeights, long adapter, long gradients, long optimizer, long activations) {
    public long total() {
        return baseWeights + adapter + gradients + optimizer + activations;
    }

    /** The same bytes in {@link MemoryReport}'s categories (weights = frozen base + adapter). */
    public MemoryReport asMemoryReport() {
        return new MemoryReport(baseWeights + adapter, gradients, optimizer, activations);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%,d trainable parameters; memory: frozen base %s, adapter %s, gradients %s, optimizer %s, "
                        + "activations %s, total %s", trainableParams, MemoryReport.mib(baseWeights), MemoryReport.mib(adapter),
                MemoryReport.mib(gradients), MemoryReport.mib(optimizer), MemoryReport.mib(activations), MemoryReport.mib(total()));
    }
}
