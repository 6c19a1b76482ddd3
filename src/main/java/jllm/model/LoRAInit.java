package jllm.model;

import java.util.SplittableRandom;

/**
 * How a new LoRA's A (r, in) is drawn; B always starts at zero, so a new adapter leaves the model unchanged (Hu et
 * al. 2021, Sec. 4.1). The two choices are PEFT's ({@code LoraLayer.reset_lora_parameters}):
 * <pre>
 *   KAIMING   init_lora_weights = true (the default): torch.nn.init.kaiming_uniform_(A, a = sqrt(5)), as nn.Linear
 *             initialises its weight: gain sqrt(2 / (1 + 5)), bound gain * sqrt(3 / fan_in) = 1 / sqrt(in),
 *             so A ~ U(-1/sqrt(in), 1/sqrt(in))
 *   GAUSSIAN  init_lora_weights = "gaussian": torch.nn.init.normal_(A, std = 1 / r)
 * </pre>
 * Draws come from a seeded {@link SplittableRandom}, not PyTorch's generator, so the distribution is PEFT's but not
 * its exact numbers.
 */
public enum LoRAInit {
    KAIMING, GAUSSIAN;

    /** A new A (r, in), row-major. */
    public float[] a(int r, int in, SplittableRandom rng) {
        float[] a = new float[Math.multiplyExact(r, in)];
        if (this == KAIMING) {
            double bound = 1.0 / Math.sqrt(in);
            for (int i = 0; i < a.length; i++) a[i] = (float) (bound * (2 * rng.nextDouble() - 1));
        } else {
            double std = 1.0 / r;
            for (int i = 0; i < a.length; i++) a[i] = (float) (std * rng.nextGaussian());
        }
        return a;
    }

    /** Parses {@code kaiming} or {@code gaussian}. */
    public static LoRAInit parse(String s) {
        return switch (s.toLowerCase(java.util.Locale.ROOT)) {
            case "kaiming" -> KAIMING;
            case "gaussian" -> GAUSSIAN;
            default -> throw new IllegalArgumentException("LoRA init '" + s + "' is not kaiming or gaussian");
        };
    }
}
