package jllm.format.gguf;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BiFunction;

import jllm.model.LlamaWeights;
import jllm.model.LoRA;
import jllm.model.LoRALinear;
import jllm.model.ModelConfig;
import jllm.model.Projection;
import jllm.tensor.GGMLType;
import jllm.tensor.Tensor;

/**
 * A LoRA adapter merged into a GGUF model (Hu et al. 2021, Sec. 4.1: "we can explicitly compute and store
 * W = W0 + BA ... no additional inference latency"): every adapted weight of a writer that holds the base's tensors
 * under GGUF names is replaced by W' = W + scaling B A, computed in float from the base as the model runs it.
 * <ul>
 *   <li>Type: the base's when it is F32, F16 or BF16 (rounded to it); F32 for quantized bases, so merging adds no
 *   quantization error (quantize the result separately if wanted).</li>
 *   <li>GPT-2 files store Q, K and V fused as {@code blk.N.attn_qkv.weight} (rows Q, K, V): the merged parts are
 *   written back into the fused tensor.</li>
 *   <li>{@code toFileRows} maps the model's row order of a merged (l, projection) to the file's, for a writer built
 *   from a Hugging Face folder whose q/k rows the file stores permuted to GGUF's interleaved RoPE layout.</li>
 * </ul>
 */
public final class GGUFLoraMerge {
    private GGUFLoraMerge() {}

    /** The identity row order. */
    public static final BiFunction<Projection, float[], float[]> SAME_ROWS = (p, v) -> v;

    /**
     * Replaces the adapted weights in {@code w}.
     *
     * @param base       the base weights the adapter was attached to (the model's layout)
     * @param toFileRows the file's row order of a merged matrix (out, in), given its projection
     */
    public static void replaceMerged(GGUFWriter w, ModelConfig c, LlamaWeights base, LoRA lora,
                                     BiFunction<Projection, float[], float[]> toFileRows) {
        Map<String, GGUFTensorInfo> infos = new HashMap<>();
        for (GGUFTensorInfo t : w.tensorInfos()) infos.put(t.name(), t);
        for (int l = 0; l < c.nLayers(); l++) {
            String fused = "blk." + l + ".attn_qkv.weight";
            boolean qkvFused = infos.containsKey(fused) && !infos.containsKey(Projection.Q.weightName(l));
            for (Projection p : Projection.values()) {
                LoRALinear a = p.exists(c) ? lora.get(l, p) : null;
                if (a == null || qkvFused && (p == Projection.Q || p == Projection.K || p == Projection.V)) continue;
                String name = p.weightName(l);
                GGUFTensorInfo info = infos.get(name);
                if (info == null) throw new IllegalArgumentException("the model file has no " + name + " to merge the adapter into");
                Tensor t = p.weight(base, l);
                float[] v = toFileRows.apply(p, LoRA.mergedValues(t, a));
                replace(w, name, info.type(), info.ne(), v);
            }
            if (qkvFused && (lora.get(l, Projection.Q) != null || lora.get(l, Projection.K) != null || lora.get(l, Projection.V) != null)) {
                GGUFTensorInfo info = infos.get(fused);
                float[] all = new float[Math.toIntExact(info.elementCount())];
                int off = 0;
                for (Projection p : new Projection[] {Projection.Q, Projection.K, Projection.V}) {
                    Tensor t = p.weight(base, l);
                    LoRALinear a = lora.get(l, p);
                    float[] v = toFileRows.apply(p, a == null ? t.toFloatArray() : LoRA.mergedValues(t, a));
                    System.arraycopy(v, 0, all, off, v.length);
                    off += v.length;
                }
                if (off != all.length) throw new IllegalArgumentException(fused + " has " + all.length + " values, Q, K and V " + off);
                replace(w, fused, info.type(), info.ne(), all);
            }
        }
    }

    private static void replace(GGUFWriter w, String name, GGMLType baseType, long[] ne, float[] v) {
        GGMLType type = baseType == GGMLType.F16 || baseType == GGMLType.BF16 ? baseType : GGMLType.F32;
        Tensor t = type == GGMLType.F32 ? Tensor.ofFloats(name, v, ne) : Tensor.quantize(name, type, v, ne);
        MemorySegment data = t.data();
        w.replaceTensor(name, type, ne, data);
    }

    /** {@code general.name} of the merged file: the base's with the adapter's name. */
    public static String mergedName(String baseName, String adapterName) {
        return (baseName == null || baseName.isBlank() ? "model" : baseName) + " + LoRA " + adapterName;
    }
}
