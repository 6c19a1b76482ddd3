package jllm.format.hf;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A LoRA adapter (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models") as PEFT stores it: its
 * config, and per adapted module the two low-rank matrices, so that the module computes
 * {@code W x + scaling * B (A x)} with {@code scaling = config.scaling()}.
 *
 * <p>Modules are named by their path in the base Hugging Face model, e.g. {@code model.layers.0.self_attn.q_proj}
 * (LLaMA) or {@code transformer.h.0.attn.c_attn} (GPT-2); the checkpoint keys are
 * {@code base_model.model.<module>.lora_A.weight} and {@code .lora_B.weight} ({@link #keyA}, {@link #keyB}).
 * In and out are the base layer's features: for {@code nn.Linear} its (out, in) weight's columns and rows; for
 * GPT-2's Conv1D, whose weight is (in, out), PEFT takes {@code in, out = weight.shape} and sets fan_in_fan_out, and
 * the update of the (in, out) weight is the transpose of B A. In jllm's (out, in) row layout the update is
 * {@code scaling * B A} either way ({@link Target#delta}). For LLaMA's q_proj and k_proj, B's rows are in Hugging
 * Face's half-split RoPE layout; a GGUF-layout base needs them permuted with {@link RopePermutation}.
 */
public record LoraAdapter(PeftLoraConfig config, Map<String, Target> targets) {

    /**
     * The LoRA matrices of one module.
     *
     * @param a (r, in) row-major: PEFT's lora_A.weight
     * @param b (out, r) row-major: PEFT's lora_B.weight
     */
    public record Target(String module, int r, int in, int out, float[] a, float[] b) {
        public Target {
            Objects.requireNonNull(module);
            if (r <= 0 || in <= 0 || out <= 0) throw new IllegalArgumentException(module + ": r " + r + ", in " + in + ", out " + out + " must be positive");
            if (a.length != (long) r * in) throw new IllegalArgumentException(module + ": lora_A has " + a.length + " values, expected r x in = " + r + " x " + in);
            if (b.length != (long) out * r) throw new IllegalArgumentException(module + ": lora_B has " + b.length + " values, expected out x r = " + out + " x " + r);
        }

        /** scaling * B A: the (out, in) row-major update of the module's weight in jllm's layout. */
        public float[] delta(double scaling) {
            float[] d = new float[Math.multiplyExact(out, in)];
            for (int o = 0; o < out; o++) {
                for (int i = 0; i < in; i++) {
                    double s = 0;
                    for (int k = 0; k < r; k++) s += (double) b[o * r + k] * a[k * in + i];
                    d[o * in + i] = (float) (scaling * s);
                }
            }
            return d;
        }
    }

    public LoraAdapter {
        Objects.requireNonNull(config);
        Map<String, Target> copy = new LinkedHashMap<>();
        for (Map.Entry<String, Target> e : targets.entrySet()) {
            if (!e.getKey().equals(e.getValue().module())) {
                throw new IllegalArgumentException("target '" + e.getKey() + "' holds the matrices of '" + e.getValue().module() + "'");
            }
            if (e.getValue().r() != config.r()) {
                throw new IllegalArgumentException(e.getKey() + ": rank " + e.getValue().r() + " differs from the config's r " + config.r());
            }
            copy.put(e.getKey(), e.getValue());
        }
        targets = Collections.unmodifiableMap(copy);
    }

    /** PEFT's key prefix: the LoRA model wraps the base model, which the PeftModel wraps. */
    public static final String PREFIX = "base_model.model.";

    /** {@code base_model.model.<module>.lora_A.weight}. */
    public static String keyA(String module) {
        return PREFIX + module + ".lora_A.weight";
    }

    /** {@code base_model.model.<module>.lora_B.weight}. */
    public static String keyB(String module) {
        return PREFIX + module + ".lora_B.weight";
    }

    public Target target(String module) {
        Target t = targets.get(module);
        if (t == null) throw new IllegalArgumentException("the adapter has no matrices for module '" + module + "'");
        return t;
    }
}
