package jllm.format.gguf;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

import jllm.model.LlamaWeights;
import jllm.model.ModelConfig;
import jllm.model.ModelConfig.Biases;
import jllm.model.ModelConfig.Mlp;
import jllm.model.ModelConfig.Norm;
import jllm.model.ModelConfig.Positions;
import jllm.model.ModelConfig.RopeType;
import jllm.tensor.GGMLType;
import jllm.tensor.Tensor;

/**
 * The one place where GGUF metadata keys and tensor names of decoder-only models are mapped to jllm's config record
 * and weight fields, in both directions (architectures {@code llama}: Llama 2/3/3.1/3.2, Mistral, TinyLlama,
 * SmolLM; {@code qwen2}; {@code gpt2}). Spec: ggml docs/gguf.md "LLM" key conventions and llama.cpp's tensor name
 * table.
 *
 * <pre>
 *   {arch}.embedding_length -> dim          {arch}.block_count -> nLayers     {arch}.feed_forward_length -> ffnDim
 *   {arch}.attention.head_count[_kv]        {arch}.attention.key_length -> headDim (default dim / heads)
 *   {arch}.rope.freq_base (10000)           {arch}.rope.dimension_count (headDim)
 *   {arch}.rope.scaling.type = linear, {arch}.rope.scaling.factor f -> freqScale 1/f
 *   {arch}.attention.layer_norm_rms_epsilon (RMSNorm) or {arch}.attention.layer_norm_epsilon (LayerNorm)
 *   {arch}.context_length
 *   token_embd, position_embd (gpt2), output_norm[.bias], output (absent: tied to token_embd), rope_freqs (Llama 3.1)
 *   blk.N.{attn_norm, attn_q, attn_k, attn_v, attn_output, ffn_norm, ffn_gate, ffn_up, ffn_down}.{weight,bias}
 *   gpt2: blk.N.attn_qkv.{weight,bias}, Q, K and V stacked along the output rows (in that order)
 * </pre>
 * GGUF {@code llama} files store Q and K rows permuted by the converter so that RoPE rotates adjacent pairs
 * (NORM); {@code qwen2} keeps Hugging Face's half-split layout (NEOX). Defaults per architecture: llama and qwen2
 * are RMSNorm + SwiGLU + RoPE (qwen2 with Q/K/V biases); gpt2 is LayerNorm + GELU + learned positions + all
 * biases. A model jllm trained with other choices (e.g. ALiBi) records them under {@code jllm.*} keys, which
 * override the defaults: {@code jllm.norm} (rms, layer), {@code jllm.mlp} (swiglu, gelu), {@code jllm.positions}
 * (rope, alibi, learned, sinusoidal), {@code jllm.biases} (none, qkv, all), {@code jllm.rope_type} (norm, neox).
 * llama.cpp does not read these keys, so such a model runs only in jllm.
 */
public final class GGUFLlamaMapping {
    private GGUFLlamaMapping() {}

    public record Loaded(ModelConfig config, LlamaWeights weights) {}

    public static boolean supports(String arch) {
        return arch.equals("llama") || arch.equals("qwen2") || arch.equals("gpt2");
    }

    public static ModelConfig config(GGUFFile f) {
        String arch = f.getString("general.architecture");
        if (!supports(arch)) {
            throw new GGUFFormatException(f.path().getFileName() + ": architecture '" + arch
                    + "' is not supported (jllm runs llama, qwen2 and gpt2)");
        }
        String p = arch + ".";
        boolean gpt2 = arch.equals("gpt2");
        int dim = f.getInt(p + "embedding_length");
        int nHeads = f.getInt(p + "attention.head_count");
        int nKv = f.getInt(p + "attention.head_count_kv", nHeads);
        if (nHeads <= 0 || dim <= 0) throw new GGUFFormatException(f.path().getFileName() + ": embedding_length " + dim + " / head_count " + nHeads + " must be positive");
        int headDim = f.getInt(p + "attention.key_length", dim / nHeads);
        int vocab;
        if (f.has(p + "vocab_size")) vocab = f.getInt(p + "vocab_size");
        else vocab = (int) f.tensor("token_embd.weight").ne()[1];
        float scale = 1f;
        String scalingType = f.getString(p + "rope.scaling.type", "none");
        if (scalingType.equals("linear")) {
            float factor = f.getFloat(p + "rope.scaling.factor", 1f);
            if (!(factor > 0)) throw new GGUFFormatException(p + "rope.scaling.factor " + factor + " must be positive");
            scale = 1f / factor;
        } else if (!scalingType.equals("none")) {
            throw new GGUFFormatException(f.path().getFileName() + ": rope scaling type '" + scalingType + "' is not supported (none, linear)");
        }
        boolean tied = f.findTensor("output.weight").isEmpty();
        try {
            Norm norm = choice(f, "jllm.norm", Norm.class, gpt2 ? Norm.LAYER : Norm.RMS);
            Mlp mlp = choice(f, "jllm.mlp", Mlp.class, gpt2 ? Mlp.GELU : Mlp.SWIGLU);
            Positions pos = choice(f, "jllm.positions", Positions.class, gpt2 ? Positions.LEARNED : Positions.ROPE);
            Biases dflt = gpt2 ? Biases.ALL : arch.equals("qwen2") || f.findTensor("blk.0.attn_q.bias").isPresent() ? Biases.QKV : Biases.NONE;
            Biases biases = choice(f, "jllm.biases", Biases.class, dflt);
            RopeType ropeType = choice(f, "jllm.rope_type", RopeType.class, arch.equals("llama") ? RopeType.NORM : RopeType.NEOX);
            String epsKey = norm == Norm.RMS ? "attention.layer_norm_rms_epsilon" : "attention.layer_norm_epsilon";
            return new ModelConfig(arch, dim, f.getInt(p + "block_count"), nHeads, nKv, headDim,
                    f.getInt(p + "feed_forward_length"), vocab, f.getInt(p + "context_length", 2048), norm, mlp, pos,
                    biases, ropeType, f.getFloat(p + "rope.freq_base", 10000f), f.getInt(p + "rope.dimension_count", headDim),
                    scale, f.getFloat(p + epsKey, 1e-5f), tied);
        } catch (IllegalArgumentException e) {
            throw new GGUFFormatException(f.path().getFileName() + ": " + e.getMessage(), e);
        }
    }

    private static <E extends Enum<E>> E choice(GGUFFile f, String key, Class<E> type, E dflt) {
        if (!f.has(key)) return dflt;
        String v = f.getString(key);
        try {
            return Enum.valueOf(type, v.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new GGUFFormatException(f.path().getFileName() + ": " + key + " = '" + v + "' is not one of "
                    + java.util.Arrays.toString(type.getEnumConstants()).toLowerCase(Locale.ROOT));
        }
    }

    public static Loaded load(GGUFFile f) {
        ModelConfig c = config(f);
        float[] ropeFreqs = f.findTensor("rope_freqs.weight").isPresent() ? floats(f, "rope_freqs.weight") : null;
        try {
            LlamaWeights w = LlamaWeights.assemble(c, name -> matrix(f, c, name), name -> vector(f, c, name), ropeFreqs);
            return new Loaded(c, w);
        } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
            throw new GGUFFormatException(f.path().getFileName() + ": " + e.getMessage(), e);
        }
    }

    /** A matrix by jllm name; Q, K and V of a fused {@code attn_qkv} are row slices of it (views). */
    private static Tensor matrix(GGUFFile f, ModelConfig c, String name) {
        if (f.findTensor(name).isPresent()) return tensor(f, name);
        int part = qkvPart(name);
        if (part >= 0) {
            String fused = name.substring(0, name.indexOf("attn_")) + "attn_qkv.weight";
            if (f.findTensor(fused).isPresent()) {
                int[] off = qkvOffsets(c);
                return tensor(f, fused).sliceRows(off[part], off[part + 1] - off[part]);
            }
        }
        return tensor(f, name); // names the missing tensor
    }

    private static float[] vector(GGUFFile f, ModelConfig c, String name) {
        if (f.findTensor(name).isPresent()) return floats(f, name);
        int part = qkvPart(name);
        if (part >= 0) {
            String fused = name.substring(0, name.indexOf("attn_")) + "attn_qkv.bias";
            if (f.findTensor(fused).isPresent()) {
                int[] off = qkvOffsets(c);
                return java.util.Arrays.copyOfRange(floats(f, fused), off[part], off[part + 1]);
            }
        }
        return floats(f, name);
    }

    /** 0, 1, 2 for attn_q, attn_k, attn_v; -1 otherwise. */
    private static int qkvPart(String name) {
        if (name.contains(".attn_q.")) return 0;
        if (name.contains(".attn_k.")) return 1;
        if (name.contains(".attn_v.")) return 2;
        return -1;
    }

    private static int[] qkvOffsets(ModelConfig c) {
        return new int[] {0, c.qDim(), c.qDim() + c.kvDim(), c.qDim() + 2 * c.kvDim()};
    }

    static Tensor tensor(GGUFFile f, String name) {
        GGUFTensorInfo info = f.tensor(name);
        return Tensor.of(name, info.type(), f.tensorData(info), info.ne());
    }

    static float[] floats(GGUFFile f, String name) {
        return tensor(f, name).toFloatArray();
    }

    /**
     * A writer holding config c's metadata and the given float tensors (the names of
     * {@link LlamaWeights#parameters}) as F32, in the layout {@link #load} reads back: gpt2 files get a fused
     * {@code attn_qkv} as llama.cpp expects, and choices the architecture does not imply get {@code jllm.*} keys.
     * Callers add tokenizer metadata and write it.
     */
    public static GGUFWriter writer(ModelConfig c, Function<String, float[]> arrays, String name) {
        return writer(c, arrays, null, name);
    }

    /** As {@link #writer(ModelConfig, Function, String)}, with Llama 3.1's rope frequency factors (or null). */
    public static GGUFWriter writer(ModelConfig c, Function<String, float[]> arrays, float[] ropeFreqs, String name) {
        String arch = c.architecture();
        if (!supports(arch)) throw new IllegalArgumentException("architecture '" + arch + "' cannot be written (llama, qwen2, gpt2)");
        boolean gpt2 = arch.equals("gpt2");
        GGUFWriter w = new GGUFWriter();
        String p = arch + ".";
        w.put("general.architecture", GGUFValue.ofString(arch));
        w.put("general.name", GGUFValue.ofString(name));
        w.put("general.file_type", GGUFValue.ofUInt32(0)); // all F32
        w.put(p + "context_length", GGUFValue.ofUInt32(c.contextLength()));
        w.put(p + "embedding_length", GGUFValue.ofUInt32(c.dim()));
        w.put(p + "block_count", GGUFValue.ofUInt32(c.nLayers()));
        w.put(p + "feed_forward_length", GGUFValue.ofUInt32(c.ffnDim()));
        w.put(p + "attention.head_count", GGUFValue.ofUInt32(c.nHeads()));
        w.put(p + "attention.head_count_kv", GGUFValue.ofUInt32(c.nKvHeads()));
        if (c.headDim() != c.dim() / c.nHeads()) {
            w.put(p + "attention.key_length", GGUFValue.ofUInt32(c.headDim()));
            w.put(p + "attention.value_length", GGUFValue.ofUInt32(c.headDim()));
        }
        w.put(p + (c.norm() == Norm.RMS ? "attention.layer_norm_rms_epsilon" : "attention.layer_norm_epsilon"),
                GGUFValue.ofFloat32(c.normEps()));
        if (c.positions() == Positions.ROPE) {
            w.put(p + "rope.dimension_count", GGUFValue.ofUInt32(c.ropeDim()));
            w.put(p + "rope.freq_base", GGUFValue.ofFloat32(c.ropeTheta()));
            if (c.ropeFreqScale() != 1f) {
                w.put(p + "rope.scaling.type", GGUFValue.ofString("linear"));
                w.put(p + "rope.scaling.factor", GGUFValue.ofFloat32(1f / c.ropeFreqScale()));
            }
        }
        w.put(p + "vocab_size", GGUFValue.ofUInt32(c.vocab()));
        putIfNot(w, "jllm.norm", c.norm(), gpt2 ? Norm.LAYER : Norm.RMS);
        putIfNot(w, "jllm.mlp", c.mlp(), gpt2 ? Mlp.GELU : Mlp.SWIGLU);
        putIfNot(w, "jllm.positions", c.positions(), gpt2 ? Positions.LEARNED : Positions.ROPE);
        putIfNot(w, "jllm.biases", c.biases(), gpt2 ? Biases.ALL : arch.equals("qwen2") ? Biases.QKV : c.biases() == Biases.QKV ? Biases.QKV : Biases.NONE);
        if (c.positions() == Positions.ROPE) putIfNot(w, "jllm.rope_type", c.ropeType(), arch.equals("llama") ? RopeType.NORM : RopeType.NEOX);

        Map<String, long[]> shapes = new java.util.LinkedHashMap<>();
        for (LlamaWeights.Param prm : LlamaWeights.parameters(c)) shapes.put(prm.name(), prm.ne());
        for (var e : shapes.entrySet()) {
            String n = e.getKey();
            int part = qkvPart(n);
            if (gpt2 && part > 0) continue;  // written with Q
            if (gpt2 && part == 0) {
                String prefix = n.substring(0, n.indexOf("attn_q."));
                String kind = n.endsWith(".weight") ? "weight" : "bias";
                float[][] parts = {arrays.apply(n), arrays.apply(prefix + "attn_k." + kind), arrays.apply(prefix + "attn_v." + kind)};
                long rows = c.qDim() + 2L * c.kvDim();
                long[] ne = kind.equals("weight") ? new long[] {c.dim(), rows} : new long[] {rows};
                w.tensor(prefix + "attn_qkv." + kind, GGMLType.F32, ne, concat(parts));
                continue;
            }
            w.tensor(n, GGMLType.F32, e.getValue(), MemorySegment.ofArray(arrays.apply(n)));
        }
        if (ropeFreqs != null) {
            if (ropeFreqs.length != c.ropeDim() / 2) throw new IllegalArgumentException("rope_freqs has " + ropeFreqs.length + " entries, expected " + c.ropeDim() / 2);
            w.tensor("rope_freqs.weight", GGMLType.F32, new long[] {ropeFreqs.length}, MemorySegment.ofArray(ropeFreqs));
        }
        return w;
    }

    private static <E extends Enum<E>> void putIfNot(GGUFWriter w, String key, E value, E implied) {
        if (value != implied) w.put(key, GGUFValue.ofString(value.name().toLowerCase(Locale.ROOT)));
    }

    private static GGUFWriter.TensorSource concat(float[][] parts) {
        return (WritableByteChannel ch) -> {
            for (float[] a : parts) {
                ByteBuffer bb = ByteBuffer.allocate(a.length * Float.BYTES).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                bb.asFloatBuffer().put(a);
                while (bb.hasRemaining()) ch.write(bb);
            }
        };
    }
}
