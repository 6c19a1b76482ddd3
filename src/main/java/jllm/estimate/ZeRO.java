package jllm.estimate;

/**
 * Partitioning of model states over data-parallel ranks, after Rajbhandari et al. 2020, "ZeRO: Memory
 * Optimizations Toward Training Trillion Parameter Models", Sec. 5 and Figure 1. With Nd ranks:
 * <pre>
 *   stage 0 (plain data parallelism)   every rank holds weights, gradients and optimizer states
 *   stage 1 (P_os)                     optimizer states (and the fp32 master copy) / Nd
 *   stage 2 (P_os+g)                   ... and gradients / Nd
 *   stage 3 (P_os+g+p)                 ... and weights / Nd; each layer's weights are gathered when used
 * </pre>
 * For Psi = 7.5B, K = 12 and Nd = 64 this gives Figure 1's 120 GB, 31.4 GB, 16.6 GB and 1.9 GB.
 */
public final class ZeRO {
    private ZeRO() {}

    /** Validates a stage number. */
    public static int stage(int s) {
        if (s < 0 || s > 3) throw new IllegalArgumentException("--zero must be 0, 1, 2 or 3, got " + s);
        return s;
    }

    /** Ranks the weights are split over at {@code stage}. */
    public static int weightsDivisor(int stage, int dp) {
        return stage >= 3 ? dp : 1;
    }

    /** Ranks the gradients are split over at {@code stage}. */
    public static int gradientsDivisor(int stage, int dp) {
        return stage >= 2 ? dp : 1;
    }

    /** Ranks the optimizer states and master weights are split over at {@code stage}. */
    public static int optimizerDivisor(int stage, int dp) {
        return stage >= 1 ? dp : 1;
    }
}
