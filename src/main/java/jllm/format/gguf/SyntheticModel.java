package jllm.format.gguf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.util.SplittableRandom;

import jllm.tensor.GGMLType;
import jllm.tensor.Quantize;

/**
 * Writes a LLaMA-family GGUF model with seeded random weights, for tests, cross-checks against llama.cpp and
 * benchmarks. Every tensor is drawn from its own generator (seed mixed with the tensor name), row chunk by row
 * chunk, and streamed to the writer, so a 1B-parameter file is written without holding it on the heap, and the
 * same spec always gives the same bytes.
 *
 * <p>Weights are N(0, 1/fan_in) so activations keep their scale through the layers; norms are 1 + N(0, 0.1^2);
 * the output matrix is multiplied by {@code outputScale} to make the next-token distribution peaked (no near
 * ties between the top logits). The tokenizer metadata is copied from {@code vocabFrom} (a GGUF file with a
 * real vocabulary) when given; otherwise the file has no tokenizer.
 */
public final class SyntheticModel {
    private SyntheticModel() {}

    /**
     * @param type        type of the 2-D weight matrices (norms and biases are F32)
     * @param embedType   type of token_embd.weight (and of output.weight when not tied)
     */
    public record Spec(String arch, int dim, int nLayers, int nHeads, int nKvHeads, int ffnDim, int vocab, int contextLength,
                       GGMLType type, GGMLType embedType, boolean tiedOutput, float outputScale, float ropeTheta, long seed,
                       boolean llama3RopeScaling) {
        public Spec {
            if (!arch.equals("llama") && !arch.equals("qwen2")) throw new IllegalArgumentException("architecture " + arch + " is not llama or qwen2");
            if (dim % nHeads != 0) throw new IllegalArgumentException("dim " + dim + " is not a multiple of heads " + nHeads);
        }

        public Spec withType(GGMLType t) {
            return new Spec(arch, dim, nLayers, nHeads, nKvHeads, ffnDim, vocab, contextLength, t, t, tiedOutput, outputScale, ropeTheta, seed, llama3RopeScaling);
        }
    }

    /** Writes the model to {@code out}; the vocabulary size is taken from {@code vocabFrom} when given. */
    public static void write(Spec s, GGUFFile vocabFrom, Path out) throws IOException {
        GGUFWriter w = new GGUFWriter();
        String a = s.arch() + ".";
        int vocab = s.vocab();
        w.put("general.architecture", GGUFValue.ofString(s.arch()));
        w.put("general.name", GGUFValue.ofString("jllm synthetic " + s.arch() + " seed " + s.seed()));
        w.put(a + "context_length", GGUFValue.ofUInt32(s.contextLength()));
        w.put(a + "embedding_length", GGUFValue.ofUInt32(s.dim()));
        w.put(a + "block_count", GGUFValue.ofUInt32(s.nLayers()));
        w.put(a + "feed_forward_length", GGUFValue.ofUInt32(s.ffnDim()));
        w.put(a + "rope.dimension_count", GGUFValue.ofUInt32(s.dim() / s.nHeads()));
        w.put(a + "attention.head_count", GGUFValue.ofUInt32(s.nHeads()));
        w.put(a + "attention.head_count_kv", GGUFValue.ofUInt32(s.nKvHeads()));
        w.put(a + "attention.layer_norm_rms_epsilon", GGUFValue.ofFloat32(1e-5f));
        w.put(a + "rope.freq_base", GGUFValue.ofFloat32(s.ropeTheta()));
        if (vocabFrom != null) {
            for (var e : vocabFrom.metadata().entrySet()) {
                if (e.getKey().startsWith("tokenizer.")) w.put(e.getKey(), e.getValue());
            }
            vocab = vocabFrom.getStringArray("tokenizer.ggml.tokens").length;
        }
        w.put(a + "vocab_size", GGUFValue.ofUInt32(vocab));
        int headDim = s.dim() / s.nHeads();
        int qDim = s.dim(), kvDim = s.nKvHeads() * headDim;
        w.tensor("token_embd.weight", s.embedType(), new long[]{s.dim(), vocab}, random(s, "token_embd.weight", s.embedType(), s.dim(), vocab, 1f, 0f));
        for (int l = 0; l < s.nLayers(); l++) {
            String b = "blk." + l + ".";
            w.tensor(b + "attn_norm.weight", GGMLType.F32, new long[]{s.dim()}, random(s, b + "attn_norm.weight", GGMLType.F32, s.dim(), 1, 0.1f, 1f));
            matrix(w, s, b + "attn_q.weight", s.dim(), qDim);
            matrix(w, s, b + "attn_k.weight", s.dim(), kvDim);
            matrix(w, s, b + "attn_v.weight", s.dim(), kvDim);
            if (s.arch().equals("qwen2")) {
                w.tensor(b + "attn_q.bias", GGMLType.F32, new long[]{qDim}, random(s, b + "attn_q.bias", GGMLType.F32, qDim, 1, 0.1f, 0f));
                w.tensor(b + "attn_k.bias", GGMLType.F32, new long[]{kvDim}, random(s, b + "attn_k.bias", GGMLType.F32, kvDim, 1, 0.1f, 0f));
                w.tensor(b + "attn_v.bias", GGMLType.F32, new long[]{kvDim}, random(s, b + "attn_v.bias", GGMLType.F32, kvDim, 1, 0.1f, 0f));
            }
            matrix(w, s, b + "attn_output.weight", qDim, s.dim());
            w.tensor(b + "ffn_norm.weight", GGMLType.F32, new long[]{s.dim()}, random(s, b + "ffn_norm.weight", GGMLType.F32, s.dim(), 1, 0.1f, 1f));
            matrix(w, s, b + "ffn_gate.weight", s.dim(), s.ffnDim());
            matrix(w, s, b + "ffn_up.weight", s.dim(), s.ffnDim());
            matrix(w, s, b + "ffn_down.weight", s.ffnDim(), s.dim());
        }
        w.tensor("output_norm.weight", GGMLType.F32, new long[]{s.dim()}, random(s, "output_norm.weight", GGMLType.F32, s.dim(), 1, 0.1f, 1f));
        if (!s.tiedOutput()) {
            w.tensor("output.weight", s.embedType(), new long[]{s.dim(), vocab},
                    random(s, "output.weight", s.embedType(), s.dim(), vocab, (float) (s.outputScale() / Math.sqrt(s.dim())), 0f));
        }
        if (s.llama3RopeScaling()) {
            float[] f = llama3RopeFactors(headDim, s.ropeTheta(), 8f, 1f, 4f, 8192);
            MemorySegment seg = Arena.ofAuto().allocate(4L * f.length);
            Quantize.quantize(GGMLType.F32, f, 0, f.length, seg, 0);
            w.tensor("rope_freqs.weight", GGMLType.F32, new long[]{f.length}, seg);
        }
        w.put("general.file_type", GGUFValue.ofUInt32(fileType(s.type())));
        w.write(out);
    }

    /**
     * Llama 3.1's RoPE frequency factors (Meta's reference {@code apply_scaling}, stored by llama.cpp's converter as
     * {@code rope_freqs.weight}): wavelengths shorter than origCtx/highFreqFactor keep their frequency, longer than
     * origCtx/lowFreqFactor are slowed by {@code factor}, and those between are interpolated smoothly.
     */
    public static float[] llama3RopeFactors(int headDim, float base, float factor, float lowFreqFactor, float highFreqFactor, int origCtx) {
        float[] out = new float[headDim / 2];
        double lowWavelen = origCtx / lowFreqFactor, highWavelen = origCtx / highFreqFactor;
        for (int i = 0; i < out.length; i++) {
            double freq = 1.0 / Math.pow(base, 2.0 * i / headDim);
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen) out[i] = 1f;
            else if (wavelen > lowWavelen) out[i] = factor;
            else {
                double smooth = (origCtx / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                out[i] = (float) (1 / ((1 - smooth) / factor + smooth));
            }
        }
        return out;
    }

    private static void matrix(GGUFWriter w, Spec s, String name, int in, int out) {
        w.tensor(name, s.type(), new long[]{in, out}, random(s, name, s.type(), in, out, (float) (1.0 / Math.sqrt(in)), 0f));
    }

    /** llama.cpp's LLAMA_FTYPE for a file whose matrices are mostly of {@code t}. */
    static int fileType(GGMLType t) {
        return switch (t) {
            case F32 -> 0; case F16 -> 1; case Q4_0 -> 2; case Q4_1 -> 3; case Q8_0 -> 7;
            case Q4_K -> 15; case Q5_K -> 17; case Q6_K -> 18; case BF16 -> 32;
            case Q4_K_R, Q4_0_R, Q8_0_R, Q4_K_R16 -> throw new IllegalArgumentException(t + " is jllm's in-memory layout, not a file type");
        };
    }

    /** Streams rows of mean + std * N(0,1), quantized to {@code type}, from a generator seeded by the tensor name. */
    private static GGUFWriter.TensorSource random(Spec s, String name, GGMLType type, int cols, int rows, float std, float mean) {
        return (WritableByteChannel ch) -> {
            SplittableRandom r = new SplittableRandom(s.seed() * 0x9E3779B97F4A7C15L ^ name.hashCode());
            int chunkRows = Math.max(1, Math.min(rows, (1 << 20) / cols));
            float[] buf = new float[chunkRows * cols];
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment seg = arena.allocate(type.bytes((long) chunkRows * cols));
                for (int r0 = 0; r0 < rows; r0 += chunkRows) {
                    int n = Math.min(chunkRows, rows - r0);
                    for (int i = 0; i < n * cols; i++) buf[i] = (float) (mean + std * r.nextGaussian());
                    long bytes = type.bytes((long) n * cols);
                    Quantize.quantize(type, buf, 0, n * cols, seg, 0);
                    ByteBuffer bb = seg.asSlice(0, bytes).asByteBuffer();
                    while (bb.hasRemaining()) ch.write(bb);
                }
            }
        };
    }
}
