package jllm.train;

import jllm.model.CrossEntropy;
import jllm.model.LlamaModel;

/**
 * Mean next-token cross-entropy (nats) and perplexity of a model on a {@link Dataset}: the data's rows of up to
 * seq + 1 tokens (consecutive windows of plain or JSONL text share one token, so every token but the first is
 * predicted once, in a window of at most seq tokens; prompt/completion rows score the completion only) run B at a
 * time through the model's training forward, which returns the mean loss over the scored positions of a batch.
 * <pre>
 *   loss = sum over scored positions i of -log softmax(logits_i)[target_i] / (number of scored positions)
 *   perplexity = exp(loss)
 * </pre>
 * The forward keeps only each block's input (the recomputation state), since nothing runs backward; the last
 * batch is padded with masked rows. Batch losses are weighted by their scored positions and summed in double.
 */
public final class Evaluation {
    /** The evaluation of a dataset: mean loss in nats over {@code tokens} scored positions in {@code rows} rows. */
    public record Result(double loss, long tokens, int rows) {
        public double perplexity() { return Math.exp(loss); }
    }

    private Evaluation() {}

    /** Evaluates {@code model} on {@code data} in batches of {@code batch} rows of {@code data.seq()} positions. */
    public static Result run(LlamaModel model, Dataset data, int batch) {
        if (batch <= 0) throw new IllegalArgumentException("--batch must be positive, got " + batch);
        int T = data.seq(), B = Math.min(batch, data.size());
        LlamaModel.State state = model.newTrainingState(B, T, true);
        int[] tokens = new int[B * T], targets = new int[B * T];
        double sum = 0;
        long count = 0;
        for (int first = 0; first < data.size(); first += B) {
            for (int b = 0; b < B; b++) {
                if (first + b < data.size()) {
                    data.fill(tokens, targets, b, T, data.row(first + b));
                } else {
                    java.util.Arrays.fill(tokens, b * T, (b + 1) * T, 0);
                    java.util.Arrays.fill(targets, b * T, (b + 1) * T, CrossEntropy.IGNORE);
                }
            }
            int n = CrossEntropy.count(targets, B * T);
            if (n == 0) continue;
            sum += model.forward(tokens, targets, state) * n;
            count += n;
        }
        if (count == 0) throw new IllegalArgumentException("the data has no scored tokens");
        return new Result(sum / count, count, data.size());
    }
}
