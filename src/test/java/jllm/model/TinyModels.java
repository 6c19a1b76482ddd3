package jllm.model;

import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import jllm.tensor.GGMLType;
import jllm.tensor.Tensor;

/** Tiny models with seeded random float weights held in heap arrays (F32 views), for gradient checks. */
final class TinyModels {
    private TinyModels() {}

    /** The named config variants the model tests run. */
    static ModelConfig config(String name) {
        ModelConfig llama = ModelConfig.llama(8, 2, 4, 2, 12, 11, 16);
        ModelConfig gpt2 = ModelConfig.gpt2(8, 2, 2, 16, 11, 16);
        return switch (name) {
            case "llama" -> llama;
            case "llama-neox-tied" -> llama.withRopeType(ModelConfig.RopeType.NEOX).withTiedOutput(true);
            case "llama-mqa-alibi" -> new ModelConfig("llama", 8, 2, 4, 1, 2, 12, 11, 16, ModelConfig.RopeType.NORM, 10000f, 2,
                    1f, 1e-5f, false, false).withPositions(ModelConfig.Positions.ALIBI);
            case "qwen2-bias" -> new ModelConfig("qwen2", 8, 2, 4, 2, 2, 12, 11, 16, ModelConfig.RopeType.NEOX, 10000f, 2, 1f,
                    1e-5f, true, false);
            case "gpt2" -> gpt2;
            case "gpt2-sinusoidal" -> gpt2.withPositions(ModelConfig.Positions.SINUSOIDAL);
            case "gpt2-rope-gqa" -> new ModelConfig("gpt2", 8, 2, 4, 2, 2, 16, 11, 16, ModelConfig.Norm.LAYER,
                    ModelConfig.Mlp.GELU, ModelConfig.Positions.ROPE, ModelConfig.Biases.ALL, ModelConfig.RopeType.NEOX, 10000f,
                    2, 1f, 1e-5f, true);
            default -> throw new IllegalArgumentException(name);
        };
    }

    /** Random arrays for every parameter: matrices N(0, 1/fan_in) (embeddings N(0, 1)), norms 1 + N(0, 0.1), biases N(0, 0.1). */
    static Map<String, float[]> randomArrays(ModelConfig c, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Map<String, float[]> m = new LinkedHashMap<>();
        for (LlamaWeights.Param p : LlamaWeights.parameters(c)) {
            float[] a = new float[Math.toIntExact(p.size())];
            boolean embedding = p.name().contains("embd");
            boolean norm = p.name().contains("norm.weight");
            double sigma = p.matrix() ? (embedding ? 1.0 : 1.0 / Math.sqrt(p.ne()[0])) : 0.1;
            for (int i = 0; i < a.length; i++) a[i] = (float) ((norm ? 1 : 0) + sigma * r.nextGaussian());
            m.put(p.name(), a);
        }
        return m;
    }

    static LlamaWeights weights(ModelConfig c, Map<String, float[]> arrays) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (LlamaWeights.Param p : LlamaWeights.parameters(c)) shapes.put(p.name(), p.ne());
        return LlamaWeights.assemble(c,
                name -> Tensor.of(name, GGMLType.F32, MemorySegment.ofArray(arrays.get(name)), shapes.get(name)),
                arrays::get, null);
    }
}
