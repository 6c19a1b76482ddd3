package jllm.model;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The gradient of the loss with respect to every trainable tensor of a {@link LlamaWeights}, as float arrays in the
 * same layout (matrices (rows = out, cols = in), row-major). The backward adds into them (llm.c's convention), so
 * gradient accumulation over micro-batches is just several backward passes before {@link #zero}. With a tied
 * output, {@code output} is the same array as {@code tokenEmbedding}. Fields the config does not use are null.
 */
public final class Gradients {
    public final float[] tokenEmbedding, positionEmbedding, output, outputNorm, outputNormBias;
    public final float[][] attnNorm, attnNormBias, wq, wk, wv, wo, bq, bk, bv, bo;
    public final float[][] ffnNorm, ffnNormBias, wGate, wUp, wDown, bGate, bUp, bDown;
    private final Map<String, float[]> byName;

    /** Gradients over the given arrays, one per name of {@link LlamaWeights#parameters}. */
    public Gradients(ModelConfig c, Function<String, float[]> arrays) {
        byName = new LinkedHashMap<>();
        for (LlamaWeights.Param p : LlamaWeights.parameters(c)) {
            float[] a = arrays.apply(p.name());
            if (a == null || a.length != p.size()) {
                throw new IllegalArgumentException("gradient " + p.name() + " needs " + p.size() + " floats, got "
                        + (a == null ? "none" : a.length));
            }
            byName.put(p.name(), a);
        }
        int n = c.nLayers();
        tokenEmbedding = byName.get("token_embd.weight");
        positionEmbedding = byName.get("position_embd.weight");
        output = c.tiedOutput() ? tokenEmbedding : byName.get("output.weight");
        outputNorm = byName.get("output_norm.weight");
        outputNormBias = byName.get("output_norm.bias");
        attnNorm = layers(n, "attn_norm.weight");
        attnNormBias = layers(n, "attn_norm.bias");
        wq = layers(n, "attn_q.weight");
        wk = layers(n, "attn_k.weight");
        wv = layers(n, "attn_v.weight");
        wo = layers(n, "attn_output.weight");
        bq = layers(n, "attn_q.bias");
        bk = layers(n, "attn_k.bias");
        bv = layers(n, "attn_v.bias");
        bo = layers(n, "attn_output.bias");
        ffnNorm = layers(n, "ffn_norm.weight");
        ffnNormBias = layers(n, "ffn_norm.bias");
        wGate = layers(n, "ffn_gate.weight");
        wUp = layers(n, "ffn_up.weight");
        wDown = layers(n, "ffn_down.weight");
        bGate = layers(n, "ffn_gate.bias");
        bUp = layers(n, "ffn_up.bias");
        bDown = layers(n, "ffn_down.bias");
    }

    /** Newly allocated zero gradients for config c. */
    public static Gradients zeros(ModelConfig c) {
        return new Gradients(c, name -> {
            for (LlamaWeights.Param p : LlamaWeights.parameters(c)) {
                if (p.name().equals(name)) return new float[Math.toIntExact(p.size())];
            }
            return null;
        });
    }

    private float[][] layers(int n, String suffix) {
        if (!byName.containsKey("blk.0." + suffix)) return null;
        float[][] a = new float[n][];
        for (int l = 0; l < n; l++) a[l] = byName.get("blk." + l + "." + suffix);
        return a;
    }

    /** The gradient arrays by GGUF name, in {@link LlamaWeights#parameters} order (a view). */
    public Map<String, float[]> byName() {
        return java.util.Collections.unmodifiableMap(byName);
    }

    public void zero() {
        for (float[] a : byName.values()) java.util.Arrays.fill(a, 0f);
    }
}
