package jllm.train;

/**
 * The learning rate of each step: linear warm-up from lr/warmup to lr over the first {@code warmup} steps, then
 * constant, or a half-cosine decay from lr to minLr over the remaining steps (Loshchilov and Hutter 2017, "SGDR",
 * without restarts):
 * <pre>
 *   step &lt; warmup:  lr (step + 1) / warmup
 *   cosine:         minLr + (lr - minLr) (1 + cos(pi (step - warmup) / (steps - warmup))) / 2
 * </pre>
 * Steps count from 0.
 */
public record LrSchedule(Kind kind, double lr, int warmup, int steps, double minLr) {
    public enum Kind { CONSTANT, COSINE }

    public LrSchedule {
        if (!(lr > 0)) throw new IllegalArgumentException("learning rate must be positive, got " + lr);
        if (warmup < 0) throw new IllegalArgumentException("warm-up steps must not be negative, got " + warmup);
        if (steps <= 0) throw new IllegalArgumentException("steps must be positive, got " + steps);
        if (!(minLr >= 0) || minLr > lr) throw new IllegalArgumentException("minimum learning rate " + minLr + " must be in [0, " + lr + "]");
    }

    public double at(long step) {
        if (step < warmup) return lr * (step + 1) / warmup;
        if (kind == Kind.CONSTANT || steps <= warmup) return lr;
        double progress = Math.min(1.0, (double) (step - warmup) / (steps - warmup));
        return minLr + 0.5 * (1 + Math.cos(Math.PI * progress)) * (lr - minLr);
    }
}
