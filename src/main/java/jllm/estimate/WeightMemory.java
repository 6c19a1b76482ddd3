package jllm.estimate;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jllm.estimate.Estimate.Unit;

/**
 * Parameter counts and weight bytes, shared by the inference and training planners. Counts come from the
 * shape's tensor list ({@link ModelShape#tensors()}); bytes from {@link DataType#bytes}, which for GGUF block
 * types calls the engine's {@code Sizes.weightBytes}.
 */
final class WeightMemory {
    private WeightMemory() {}

    /** Adds the parameter-count step (with the embeddings / blocks / rest breakdown) and returns the count. */
    static long params(Estimate e, ModelSpec m) {
        if (!m.hasShape()) {
            e.step("params_given", Units.n(m.params()), "params", m.params(), Unit.COUNT);
            return m.params();
        }
        ModelShape s = m.shape();
        long emb = 0, rest = 0, out = 0;
        Map<String, long[]> blocks = new LinkedHashMap<>(); // prefix -> {layers, params of all layers}
        for (ModelShape.Tensor t : s.tensors()) {
            int star = t.name().indexOf(".*.");
            if (star >= 0) {
                String prefix = t.name().substring(0, star);
                long[] b = blocks.computeIfAbsent(prefix, k -> new long[2]);
                b[0] = prefix.equals("dec") ? s.decoderLayers() : s.layers();
                b[1] += t.elements();
            } else if (t.kind() == ModelShape.Kind.EMBEDDING) {
                emb += t.elements();
            } else if (t.kind() == ModelShape.Kind.OUTPUT) {
                out += t.elements();
            } else {
                rest += t.elements();
            }
        }
        List<String> parts = new ArrayList<>();
        parts.add(Units.n(emb));
        for (long[] b : blocks.values()) parts.add(b[0] + " × " + Units.n(b[1] / b[0]));
        parts.add(Units.n(rest));
        parts.add(Units.n(out));
        String numbers = String.join(" + ", parts);
        if (m.paramsOverridden()) {
            e.step("params_shape", numbers, null, s.params(), Unit.COUNT);
            e.step("params_given", Units.n(m.params()), "params", m.params(), Unit.COUNT);
            e.warn("params_override", Units.count(m.params()), Units.count(s.params()));
        } else {
            e.step("params", numbers, "params", s.params(), Unit.COUNT,
                    s.tiedEmbeddings() ? "tied" : "untied");
        }
        if (s.isMoE()) {
            e.step("active_params", Units.n(s.activeParams()), null, s.activeParams(), Unit.COUNT,
                    s.activeExperts(), s.experts());
            e.note("moe_resident", s.experts(), s.activeExperts());
        }
        return m.params();
    }

    /** Bytes of all weights in {@code type} (null: as the file stores them), whole model, not yet divided across GPUs. */
    static long weightBytes(ModelSpec m, DataType type) {
        if (type == null) {
            if (m.stored() == null) throw new IllegalArgumentException("give --dtype: the model has no stored weights");
            return m.stored().bytes();
        }
        if (m.hasShape() && !m.paramsOverridden()) return type.bytes(m.shape());
        return (long) Math.ceil(m.params() * type.bits() / 8.0);
    }

    /** Adds the weights step for storage in {@code type}, divided over {@code shards} GPUs, and returns per-GPU bytes. */
    static long weights(Estimate e, ModelSpec m, DataType type, int shards, String key) {
        long all = weightBytes(m, type);
        if (type == null) {
            long per = ceilDiv(all, shards);
            e.step("weights_stored", Units.n(all) + (shards > 1 ? " / " + shards : ""), key, per, Unit.BYTES,
                    m.stored().types());
            return per;
        }
        String how;
        if (type.policy() == DataType.Policy.FLAT || !m.hasShape() || m.paramsOverridden()) {
            how = Units.n(m.params()) + " × " + Units.n(type.bits() / 8) + " B";
        } else {
            long mat = 0, vec = 0;
            for (ModelShape.Tensor t : m.shape().tensors()) {
                boolean quantized = type.policy() == DataType.Policy.GGML
                        ? t.kind() != ModelShape.Kind.VECTOR : t.kind() == ModelShape.Kind.MATRIX;
                if (quantized) mat += t.elements();
                else vec += t.elements();
            }
            String other = type.policy() == DataType.Policy.GGML ? "4 B (f32)" : "2 B (16-bit)";
            how = Units.n(mat) + " × " + Units.n(type.bits()) + "/8 B + " + Units.n(vec) + " × " + other;
        }
        long per = ceilDiv(all, shards);
        if (shards > 1) how = "(" + how + ") / " + shards;
        e.step("weights", how, key, per, Unit.BYTES, type.name(), Units.n(type.bits()));
        return per;
    }

    /** Elements of the largest tensor (the model's largest layer), or 0 when the shape is unknown. */
    static long largestLayerParams(ModelSpec m) {
        return m.hasShape() ? m.shape().largestTensorParams() : 0;
    }

    static long ceilDiv(long a, long b) {
        return Math.floorDiv(a + b - 1, b);
    }
}
