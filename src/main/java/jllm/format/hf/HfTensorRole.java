package jllm.format.hf;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Where one tensor of a Hugging Face checkpoint goes in jllm: its role, named as GGUF names the same weight
 * (llama.cpp's tensor-name table, e.g. {@code blk.0.attn_q.weight}), its expected row-major shape, and how its
 * layout differs from jllm's. Built per architecture by {@link HfLlamaMapping} and {@link HfGpt2Mapping}.
 *
 * @param hfName    the checkpoint's name, e.g. {@code model.layers.0.self_attn.q_proj.weight}
 * @param role      the GGUF name of the same weight, e.g. {@code blk.0.attn_q.weight}
 * @param shape     the expected shape in the checkpoint, row-major (PyTorch order)
 * @param layout    what converting to jllm's (out, in) rows or to GGUF's layout takes
 * @param ropeHeads for {@link Layout#ROPE_HALF_SPLIT}: the heads of {@link RopePermutation} (query or key/value heads); else 0
 */
public record HfTensorRole(String hfName, String role, long[] shape, Layout layout, int ropeHeads) {

    /** How a checkpoint tensor's layout relates to jllm's. */
    public enum Layout {
        /** Stored as jllm stores it: (out, in) matrices, vectors; used as a view. */
        AS_IS,
        /**
         * GPT-2's {@code Conv1D} stores weights as (in, out), the transpose of {@code nn.Linear}; jllm needs (out, in)
         * rows, so the loader makes a transposed F32 copy (the only copy of a weight matrix the loaders make).
         */
        CONV1D_TRANSPOSED,
        /**
         * Rows of a LLaMA q or k projection (or bias) in Hugging Face's half-split RoPE layout: jllm uses them as they
         * are with {@link jllm.model.ModelConfig.RopeType#NEOX}; GGUF's interleaved layout is {@link RopePermutation}.
         */
        ROPE_HALF_SPLIT
    }

    public HfTensorRole {
        Objects.requireNonNull(hfName);
        Objects.requireNonNull(role);
        Objects.requireNonNull(layout);
        shape = shape.clone();
    }

    /**
     * Checks that {@code store} holds every role's tensor with the role's shape and returns the names the roles account
     * for (a loader adds the tensors it tolerates besides, then refuses the rest).
     *
     * @throws HfFormatException naming the file and the missing or misshapen tensor
     */
    static Set<String> requireAll(List<HfTensorRole> roles, SafetensorsStore store) {
        String file = store.path().getFileName().toString();
        Set<String> known = new HashSet<>();
        for (HfTensorRole r : roles) {
            known.add(r.hfName());
            SafetensorsTensorInfo t = store.tensors().get(r.hfName());
            if (t == null) {
                throw new HfFormatException(file + ": missing tensor '" + r.hfName() + "'"
                        + (r.role().equals("output.weight") ? " (tie_word_embeddings is false)" : ""));
            }
            if (!Arrays.equals(t.shape(), r.shape())) {
                throw new HfFormatException(file + ": tensor '" + r.hfName() + "' has shape " + Arrays.toString(t.shape())
                        + ", config.json implies " + Arrays.toString(r.shape()));
            }
        }
        return known;
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HfTensorRole r && hfName.equals(r.hfName) && role.equals(r.role) && Arrays.equals(shape, r.shape)
                && layout == r.layout && ropeHeads == r.ropeHeads;
    }

    @Override
    public int hashCode() {
        return Objects.hash(hfName, role, Arrays.hashCode(shape), layout, ropeHeads);
    }

    @Override
    public String toString() {
        return hfName + " -> " + role + " " + Arrays.toString(shape) + " " + layout + (ropeHeads > 0 ? " (" + ropeHeads + " heads)" : "");
    }
}
