package jllm.estimate;

import java.util.Locale;

/**
 * Optimizer state bytes, per tensor, for the optimizers the planner knows.
 * <pre>
 *   adamw      two fp32 moments m and v: 8 B per parameter (Kingma &amp; Ba 2015; Loshchilov &amp; Hutter 2019)
 *   adam8bit   two 8-bit block-quantized moments: 2 B per parameter plus one fp32 absmax per 2,048-element
 *              block and state (Dettmers et al. 2022, "8-bit Optimizers via Block-wise Quantization");
 *              bitsandbytes keeps 32-bit states for tensors under 4,096 elements (min_8bit_size)
 *   sgd        momentum buffer in fp32: 4 B per parameter
 *   adafactor  factored second moment (Shazeer &amp; Stern 2018, Sec. 3): a matrix of r x c keeps r + c fp32
 *              accumulators instead of r*c; vectors keep one per element; no first moment (beta1 = 0)
 * </pre>
 */
public enum Optimizer {
    ADAMW, ADAM8BIT, SGD, ADAFACTOR;

    /** bitsandbytes' block size for block-wise 8-bit states. */
    public static final int BNB_BLOCK = 2048;
    /** bitsandbytes' min_8bit_size: smaller tensors keep 32-bit states. */
    public static final int BNB_MIN_8BIT = 4096;

    /** Parses {@code adamw}, {@code adam} (same states), {@code adam8bit}, {@code sgd}, {@code adafactor}. */
    public static Optimizer parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT).replace("-", "").replace("_", "")) {
            case "adamw", "adam" -> ADAMW;
            case "adam8bit", "adamw8bit", "8bitadam", "bnb8bit" -> ADAM8BIT;
            case "sgd", "sgdm", "momentum" -> SGD;
            case "adafactor" -> ADAFACTOR;
            default -> throw new IllegalArgumentException("unknown optimizer '" + s + "' (adamw, adam8bit, sgd, adafactor)");
        };
    }

    /** State bytes for one tensor of {@code rows} x {@code cols} ({@code rows} = 1 for a vector). */
    public double stateBytes(long rows, long cols) {
        double n = (double) rows * cols;
        return switch (this) {
            case ADAMW -> 8 * n;
            case SGD -> 4 * n;
            case ADAM8BIT -> n < BNB_MIN_8BIT ? 8 * n : 2 * (n + 4 * Math.ceil(n / BNB_BLOCK));
            case ADAFACTOR -> rows > 1 && cols > 1 ? 4.0 * (rows + cols) : 4 * n;
        };
    }

    /** State bytes per parameter for a large tensor (used when only a parameter count is known). */
    public double bytesPerParam() {
        return switch (this) {
            case ADAMW -> 8;
            case SGD -> 4;
            case ADAM8BIT -> 2 + 8.0 / BNB_BLOCK;
            case ADAFACTOR -> throw new IllegalArgumentException(
                    "Adafactor's state depends on each matrix's shape: give the model shape, not only --params");
        };
    }

    /** State bytes of every tensor of {@code shape}. */
    public double stateBytes(ModelShape shape) {
        double s = 0;
        for (ModelShape.Tensor t : shape.tensors()) s += t.count() * stateBytes(t.rows(), t.cols());
        return s;
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
