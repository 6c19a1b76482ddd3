package jllm.train;

/**
 * One micro-batch: B sequences of T input tokens (row b*T + t) and the token each position should predict, or
 * {@link jllm.model.CrossEntropy#IGNORE} where the loss is masked (padding, prompts).
 */
public record Batch(int[] tokens, int[] targets, int B, int T) {
    public Batch {
        if (tokens.length != B * T || targets.length != B * T) {
            throw new IllegalArgumentException("a batch of " + B + " x " + T + " needs " + B * T + " tokens and targets, got "
                    + tokens.length + " and " + targets.length);
        }
    }

    /** A source of micro-batches; {@link #position} and {@link #seek} let a resumed run read the same batches. */
    public interface Source {
        Batch next();

        /** Rows consumed so far. */
        long position();

        void seek(long position);
    }
}
