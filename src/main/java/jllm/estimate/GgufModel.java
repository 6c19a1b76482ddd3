package jllm.estimate;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

import jllm.estimate.ModelShape.Arch;
import jllm.estimate.ModelShape.Norm;
import jllm.format.gguf.GGUFFile;
import jllm.format.gguf.GGUFLlamaMapping;
import jllm.format.gguf.GGUFTensorInfo;
import jllm.model.ModelConfig;
import jllm.sizes.Sizes;

/**
 * A model shape and its stored weights from a GGUF file (ggml docs/gguf.md). For the architectures the engine
 * runs ({@code llama}, {@code qwen2}) the shape comes from {@link GGUFLlamaMapping#config}, the same mapping the
 * engine loads with; other decoder architectures are read from the same {@code {arch}.*} keys, with
 * {@code {arch}.expert_count} and {@code {arch}.expert_used_count} for mixtures of experts. The weights are
 * taken tensor by tensor, each in its stored type, through {@link Sizes#weightBytes}.
 */
public final class GgufModel {
    private GgufModel() {}

    /** Reads {@code path}. */
    public static ModelSpec read(Path path) throws IOException {
        try (GGUFFile f = GGUFFile.open(path)) {
            return read(f);
        }
    }

    /** Reads an opened file. */
    public static ModelSpec read(GGUFFile f) {
        String name = f.path().getFileName().toString();
        ModelShape shape = shape(f, name);
        long params = 0, bytes = 0, largest = 0;
        Map<String, Integer> types = new TreeMap<>();
        for (GGUFTensorInfo t : f.tensors().values()) {
            params = Math.addExact(params, t.elementCount());
            long b = Sizes.weightBytes(t.type(), t.elementCount());
            bytes = Math.addExact(bytes, b);
            largest = Math.max(largest, b);
            types.merge(t.type().name(), 1, Integer::sum);
        }
        StringBuilder summary = new StringBuilder();
        for (Map.Entry<String, Integer> e : types.entrySet()) {
            if (!summary.isEmpty()) summary.append(", ");
            summary.append(e.getKey()).append(" × ").append(e.getValue());
        }
        return new ModelSpec(name, shape, params, Math.min(params, params - shape.params() + shape.activeParams()),
                new ModelSpec.StoredWeights(bytes, largest, summary.toString()));
    }

    static ModelShape shape(GGUFFile f, String name) {
        String arch = f.getString("general.architecture");
        if (GGUFLlamaMapping.supports(arch)) {
            ModelConfig c = GGUFLlamaMapping.config(f);
            return new ModelShape(name, Arch.DECODER, c.nLayers(), 0, c.dim(), c.nHeads(), c.nKvHeads(), c.headDim(),
                    c.ffnDim(), c.vocab(), c.contextLength(), 0, 0, 0, c.tiedOutput(), true, Norm.RMS_NORM, false,
                    c.qkvBias(), 0, false, 0, 0);
        }
        String p = arch + ".";
        int dim = f.getInt(p + "embedding_length");
        int heads = f.getInt(p + "attention.head_count");
        int kv = f.getInt(p + "attention.head_count_kv", heads);
        int headDim = f.getInt(p + "attention.key_length", dim / Math.max(1, heads));
        int vocab = f.has(p + "vocab_size") ? f.getInt(p + "vocab_size") : (int) f.tensor("token_embd.weight").ne()[1];
        int experts = f.getInt(p + "expert_count", 0);
        boolean gated = f.findTensor("blk.0.ffn_gate.weight").isPresent() || f.findTensor("blk.0.ffn_gate_exps.weight").isPresent();
        boolean layerNorm = f.findTensor("blk.0.attn_norm.bias").isPresent();
        boolean bias = f.findTensor("blk.0.attn_output.bias").isPresent();
        boolean qkvBias = !bias && f.findTensor("blk.0.attn_q.bias").isPresent();
        int positions = f.findTensor("position_embd.weight").map(t -> (int) t.ne()[1]).orElse(0);
        return new ModelShape(name, Arch.DECODER, f.getInt(p + "block_count"), 0, dim, heads, kv, headDim,
                f.getInt(p + "feed_forward_length"), vocab, f.getLong(p + "context_length", 0), positions, experts,
                f.getInt(p + "expert_used_count", experts > 0 ? 2 : 0), f.findTensor("output.weight").isEmpty(), gated,
                layerNorm ? Norm.LAYER_NORM : Norm.RMS_NORM, bias, qkvBias, 0, false, 0,
                f.getInt(p + "attention.sliding_window", 0));
    }
}
