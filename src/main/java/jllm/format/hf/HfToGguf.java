package jllm.format.hf;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.Map;

import jllm.format.gguf.GGUFValue;
import jllm.format.gguf.GGUFWriter;
import jllm.model.ModelConfig;
import jllm.tensor.GGMLType;
import jllm.tensor.Tensor;

/**
 * A Hugging Face {@code llama} folder as a GGUF {@code llama} file, as llama.cpp's convert_hf_to_gguf.py writes it
 * (without quantizing): the LLM metadata keys of ggml docs/gguf.md, the tokenizer as {@code tokenizer.ggml.*}
 * ({@link HfTokenizer#metadata}), the tensors under GGUF names ({@link HfLlamaMapping#roles}) in their stored type
 * with norms as F32, the rows of q and k (and their biases) permuted to GGUF's interleaved RoPE layout
 * ({@link RopePermutation}), and Llama 3.1's frequency factors as {@code rope_freqs.weight}. The result reads back
 * with {@link jllm.format.gguf.GGUFLlamaMapping} (RopeType NORM) and gives the folder's logits.
 */
public final class HfToGguf {
    private HfToGguf() {}

    /** A writer holding the GGUF version of {@code folder} (weights stream from the mapped files when written). */
    public static GGUFWriter llama(HfFolder folder) throws IOException {
        HfLlamaMapping.Loaded loaded = folder.llama();
        ModelConfig c = loaded.config().model();
        GGUFWriter w = new GGUFWriter();
        String a = "llama.";
        w.put("general.architecture", GGUFValue.ofString("llama"));
        w.put("general.name", GGUFValue.ofString(folder.dir().toAbsolutePath().getFileName().toString()));
        w.put(a + "context_length", GGUFValue.ofUInt32(c.contextLength()));
        w.put(a + "embedding_length", GGUFValue.ofUInt32(c.dim()));
        w.put(a + "block_count", GGUFValue.ofUInt32(c.nLayers()));
        w.put(a + "feed_forward_length", GGUFValue.ofUInt32(c.ffnDim()));
        w.put(a + "rope.dimension_count", GGUFValue.ofUInt32(c.ropeDim()));
        w.put(a + "attention.head_count", GGUFValue.ofUInt32(c.nHeads()));
        w.put(a + "attention.head_count_kv", GGUFValue.ofUInt32(c.nKvHeads()));
        if (c.headDim() != c.dim() / c.nHeads()) {
            w.put(a + "attention.key_length", GGUFValue.ofUInt32(c.headDim()));
            w.put(a + "attention.value_length", GGUFValue.ofUInt32(c.headDim()));
        }
        w.put(a + "attention.layer_norm_rms_epsilon", GGUFValue.ofFloat32(c.normEps()));
        w.put(a + "rope.freq_base", GGUFValue.ofFloat32(c.ropeTheta()));
        HfLlamaMapping.RopeScaling s = loaded.config().ropeScaling();
        if (s != null && s.type().equals("linear")) {
            w.put(a + "rope.scaling.type", GGUFValue.ofString("linear"));
            w.put(a + "rope.scaling.factor", GGUFValue.ofFloat32((float) s.factor()));
        }
        w.put(a + "vocab_size", GGUFValue.ofUInt32(c.vocab()));
        w.put("general.file_type", GGUFValue.ofUInt32(fileType(loaded.weights().wq()[0].type())));
        if (folder.hasTokenizer()) {
            Map<String, GGUFValue> md = folder.tokenizerMetadata();
            w.putAll(md);
        }

        SafetensorsStore store = folder.weights();
        for (HfTensorRole r : HfLlamaMapping.roles(c)) {
            if (r.shape().length == 1) {
                float[] v = store.floats(r.hfName());
                if (r.layout() == HfTensorRole.Layout.ROPE_HALF_SPLIT) v = RopePermutation.hfToGguf(v, 1, r.ropeHeads());
                w.tensor(r.role(), GGMLType.F32, new long[] {v.length}, floats(v));
            } else {
                Tensor t = store.tensor(r.hfName());
                if (r.layout() == HfTensorRole.Layout.ROPE_HALF_SPLIT) t = RopePermutation.hfToGguf(t, r.ropeHeads());
                w.tensor(r.role(), t.type(), t.ne(), t.data());
            }
        }
        float[] freqs = loaded.config().ropeFreqs();
        if (freqs != null) w.tensor("rope_freqs.weight", GGMLType.F32, new long[] {freqs.length}, floats(freqs));
        return w;
    }

    private static MemorySegment floats(float[] v) {
        MemorySegment seg = MemorySegment.ofArray(new byte[v.length * 4]);
        MemorySegment.copy(v, 0, seg, LittleEndian.F32, 0, v.length);
        return seg;
    }

    /** llama.cpp's LLAMA_FTYPE of a file whose matrices are of {@code t}. */
    private static int fileType(GGMLType t) {
        return switch (t) {
            case F16 -> 1;
            case BF16 -> 32;
            default -> 0;
        };
    }
}
