package jllm.tensor;

/**
 * Activations of +-1 (quantized to +-127) for the paired-product kernels' edge tests: within each 32-element block,
 * elements j and j + 16 (one pair) have equal or opposite signs, so that the products of a pair add up or cancel.
 */
public final class SignPatterns {
    private SignPatterns() {}

    /** How many patterns {@link #of} knows. */
    public static final int COUNT = 4;

    /** Pattern {@code p} over {@code n} elements: all +1, all -1, then +1/-1 and -1/+1 for the first/second half of each block. */
    public static float[] of(int n, int p) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            boolean second = i % 32 >= 16;
            x[i] = switch (p) {
                case 0 -> 1f;
                case 1 -> -1f;
                case 2 -> second ? -1f : 1f;
                default -> second ? 1f : -1f;
            };
        }
        return x;
    }
}
