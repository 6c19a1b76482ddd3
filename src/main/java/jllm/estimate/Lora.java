package jllm.estimate;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Low-rank adapters (Hu et al. 2021, "LoRA", Sec. 4.1): a frozen weight W (rows x cols) gains a trainable
 * product B A with A (r x cols) and B (rows x r), so each adapted matrix adds r * (rows + cols) trainable
 * parameters. For GPT-3 175B with only Wq adapted at r = 8 that is 96 * 8 * (12288 + 12288) = 18.9M (the
 * paper's Table 5, "18M").
 *
 * @param rank    r
 * @param targets matrices to adapt, from {@code q k v o gate up down}
 */
public record Lora(int rank, Set<String> targets) {

    public static final List<String> ALL_TARGETS = List.of("q", "k", "v", "o", "gate", "up", "down");

    public Lora {
        if (rank < 1) throw new IllegalArgumentException("--lora-rank must be at least 1, got " + rank);
        if (targets.isEmpty()) throw new IllegalArgumentException("--lora-targets must name at least one matrix");
        for (String t : targets) {
            if (!ALL_TARGETS.contains(t)) {
                throw new IllegalArgumentException("unknown LoRA target '" + t + "' (q, k, v, o, gate, up, down)");
            }
        }
        targets = Set.copyOf(targets);
    }

    /** Parses a comma-separated list such as {@code q,v} or {@code all}. */
    public static Set<String> parseTargets(String s) {
        Set<String> out = new LinkedHashSet<>();
        for (String p : s.split(",")) {
            String t = p.trim().toLowerCase(Locale.ROOT);
            if (t.isEmpty()) continue;
            if (t.equals("all")) out.addAll(ALL_TARGETS);
            else out.add(t.replace("_proj", ""));
        }
        return out;
    }

    /** The adapter tensors (A and B for every adapted matrix) of {@code shape}. */
    public List<ModelShape.Tensor> adapters(ModelShape shape) {
        List<ModelShape.Tensor> out = new ArrayList<>();
        Set<String> present = new LinkedHashSet<>();
        for (ModelShape.Tensor t : shape.tensors()) {
            if (t.target() == null) continue;
            present.add(t.target());
            if (!targets.contains(t.target())) continue;
            out.add(new ModelShape.Tensor(t.name() + ".lora_a", ModelShape.Kind.MATRIX, rank, t.cols(), t.count(), null, t.expert()));
            out.add(new ModelShape.Tensor(t.name() + ".lora_b", ModelShape.Kind.MATRIX, t.rows(), rank, t.count(), null, t.expert()));
        }
        for (String t : targets) {
            if (!present.contains(t)) {
                throw new IllegalArgumentException("LoRA target '" + t + "' does not exist in " + shape.name()
                        + " (it has: " + String.join(", ", present) + ")");
            }
        }
        return out;
    }

    /** Trainable parameters the adapters add to {@code shape}. */
    public long trainableParams(ModelShape shape) {
        long s = 0;
        for (ModelShape.Tensor t : adapters(shape)) s += t.elements();
        return s;
    }
}
