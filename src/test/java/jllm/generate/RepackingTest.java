package jllm.generate;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.SplittableRandom;

import jllm.format.gguf.GGUFFile;
import jllm.format.gguf.GGUFWriter;
import jllm.model.KvCache;
import jllm.model.Linear;
import jllm.model.LlamaModel;
import jllm.model.LlamaWeights;
import jllm.model.ModelConfig;
import jllm.tensor.GGMLType;
import jllm.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The load-time repacking of Q4_K and Q4_0 matrices ({@link Repacking}) against the file's layout on small random Llamas
 * (dim 256 or 512, FFN twice that, 2 layers, matrices quantized by ggml's reference quantizers; at dim 256 only the
 * Q4_0 matrices with 512 columns are repacked). A prompt of 6 tokens takes the
 * float path, which dequantizes to the same floats from either layout; single tokens take the int8 path, whose integer
 * sums are the same and whose float sums are ordered differently. Both must agree to float rounding (1e-5 of the
 * largest logit): not bit for bit, because the vector lane reductions' order differs between the JIT's tiers, so even
 * one model run twice in a process differs in the last bits.
 */
class RepackingTest {
    @TempDir Path tmp;

    static LlamaWeights quantized(ModelConfig c, GGMLType type, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return LlamaWeights.assemble(c, name -> {
            long[] ne = null;
            for (LlamaWeights.Param p : LlamaWeights.parameters(c)) if (p.name().equals(name)) ne = p.ne();
            float[] v = new float[Math.toIntExact(ne[0] * ne[1])];
            double sigma = name.contains("embd") ? 1.0 : 1.0 / Math.sqrt(ne[0]);
            for (int i = 0; i < v.length; i++) v[i] = (float) (sigma * r.nextGaussian());
            return Tensor.quantize(name, type, v, ne);
        }, name -> {
            float[] v = new float[c.dim()];
            for (int i = 0; i < v.length; i++) v[i] = (float) (1 + 0.1 * r.nextGaussian());
            return v;
        }, null);
    }

    /** The type a matrix of {@code type} with {@code cols} columns is held in after repacking. */
    static GGMLType repacked(GGMLType type, int cols) {
        if (type == GGMLType.Q4_K) return cols % 512 == 0 ? GGMLType.Q4_K_R16 : GGMLType.Q4_K_R;
        if (type == GGMLType.F16) return type;   // copied onto the heap as it is
        return cols % 512 != 0 ? type : type == GGMLType.Q4_0 ? GGMLType.Q4_0_R : GGMLType.Q8_0_R;   // groups of 512 weights of a row
    }

    @ParameterizedTest
    @CsvSource({"Q4_K, 256, false", "Q4_K, 256, true", "Q4_K, 512, false", "Q4_K, 512, true", "Q4_0, 512, false", "Q4_0, 512, true", "Q4_0, 256, false",
            "Q8_0, 512, false", "Q8_0, 512, true", "Q8_0, 256, false", "F16, 256, false", "F16, 256, true"})
    void aRepackedModelComputesWhatTheFileLayoutComputes(GGMLType type, int dim, boolean tied) {
        ModelConfig c = ModelConfig.llama(dim, 2, 4, 2, 2 * dim, 300, 32).withTiedOutput(tied);
        LlamaWeights w = quantized(c, type, 11);
        int[] tokens = {5, 17, 250, 3, 99, 42, 7, 120, 64, 1};
        try (Linear linear = new Linear(2); Arena arena = Arena.ofShared()) {
            LlamaWeights r = Repacking.apply(w, linear, arena);
            for (Tensor[] layer : new Tensor[][] {r.wq(), r.wk(), r.wv(), r.wo(), r.wGate(), r.wUp(), r.wDown()}) {
                for (Tensor t : layer) {
                    assertThat(t.type()).as(t.name()).isEqualTo(repacked(type, t.cols()));
                    if (t.type().isInterleaved() || t.type() == GGMLType.F16) assertThat(t.data().isNative()).as(t.name() + " on the heap").isFalse();
                }
            }
            assertThat(r.output().type()).isEqualTo(repacked(type, dim));
            if (tied) assertThat(r.tokenEmbedding()).isSameAs(r.output());
            else assertThat(r.tokenEmbedding()).isSameAs(w.tokenEmbedding());   // looked up a row at a time: kept
            assertThat(r.storedBytes()).isEqualTo(w.storedBytes());             // counted in the file's types

            LlamaModel a = new LlamaModel(c, w, linear), b = new LlamaModel(c, r, linear);
            KvCache ca = new KvCache(c, tokens.length), cb = new KvCache(c, tokens.length);
            LlamaModel.State sa = a.newState(6), sb = b.newState(6);
            float[] pa = a.forward(tokens, 0, 6, 0, ca, sa, true).clone(), pb = b.forward(tokens, 0, 6, 0, cb, sb, true).clone();
            double prompt = relativeDiff(pa, pb), worst = 0;
            // F16 runs the float path throughout, whose results move by up to ~2e-4 of the largest logit in this small
            // random model when C2 replaces interpreted or C1 code between the two models' calls (seen with the same
            // weights in both models, at 256-bit vectors); the quantized types' int8 sums are exact
            double tolerance = type == GGMLType.F16 ? 1e-3 : 1e-5;
            assertThat(prompt).as("prompt logits (float path)").isLessThanOrEqualTo(tolerance);
            for (int i = 6; i < tokens.length; i++) {
                double d = relativeDiff(a.forward(tokens, i, 1, i, ca, sa, false).clone(), b.forward(tokens, i, 1, i, cb, sb, false).clone());
                assertThat(d).as("token %d, int8 path", i).isLessThanOrEqualTo(tolerance);
                worst = Math.max(worst, d);
            }
            System.out.printf("repacked %s, dim %d, tied %b: max |diff| / max |logit|: prompt %.3g, decode %.3g%n", type, dim, tied, prompt, worst);
            if (type == GGMLType.F16) {   // the same bytes: the copies equal the file's matrices byte for byte
                for (int l = 0; l < c.nLayers(); l++) {
                    assertThat(r.wq()[l].data().mismatch(w.wq()[l].data())).isEqualTo(-1L);
                    assertThat(r.wDown()[l].data().mismatch(w.wDown()[l].data())).isEqualTo(-1L);
                }
            }
        }
    }

    /** max |a - b| / max |a|. */
    static double relativeDiff(float[] a, float[] b) {
        double max = 0, diff = 0;
        for (int j = 0; j < a.length; j++) {
            max = Math.max(max, Math.abs(a[j]));
            diff = Math.max(diff, Math.abs(a[j] - b[j]));
        }
        return diff / max;
    }

    /** A (rows, cols) matrix of {@code type} quantized from N(0, 1) values. */
    static Tensor randomMatrix(GGMLType type, int cols, int rows, long seed) {
        float[] v = new float[cols * rows];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        return Tensor.quantize("m", type, v, cols, rows);
    }

    /** {@code q} written as tensor "m" of a GGUF file in the temporary folder. */
    Path written(Tensor q) throws Exception {
        Path file = tmp.resolve(q.type() + ".gguf");
        new GGUFWriter().tensor("m", q.type(), q.ne(), q.data()).write(file);
        return file;
    }

    @Test
    void aMappedMatrixIsRepackedAndTheFileStillReadsAfterItsPagesAreDropped() throws Exception {
        Tensor q = randomMatrix(GGMLType.Q4_K, 512, 64, 3);
        float[] want = q.toFloatArray();
        try (GGUFFile f = GGUFFile.open(written(q)); Linear linear = new Linear(2); Arena arena = Arena.ofShared()) {
            Tensor mapped = Tensor.of("m", GGMLType.Q4_K, f.tensorData("m"), 512, 64);
            assertThat(mapped.data().isMapped()).isTrue();
            Tensor packed = Repacking.q4K(mapped, linear, arena);
            assertThat(packed.type()).isEqualTo(GGMLType.Q4_K_R);
            assertThat(packed.toFloatArray()).containsExactly(want);
            assertThat(mapped.toFloatArray()).as("the file after unload").containsExactly(want);
        }
    }

    @ParameterizedTest
    @CsvSource({"Q4_0, Q4_0_R", "Q8_0, Q8_0_R", "Q4_K, Q4_K_R16", "F16, F16"})
    void aMappedMatrixIsInterleavedOnAHeapArray(GGMLType type, GGMLType interleaved) throws Exception {
        Tensor q = randomMatrix(type, 1024, 32, 4);
        float[] want = q.toFloatArray();
        try (GGUFFile f = GGUFFile.open(written(q))) {
            Tensor mapped = Tensor.of("m", type, f.tensorData("m"), 1024, 32);
            Tensor packed = Repacking.onHeap(mapped);
            assertThat(packed.type()).isEqualTo(interleaved);
            assertThat(packed.data().isNative()).as("on the heap").isFalse();
            assertThat(packed.toFloatArray()).containsExactly(want);
            assertThat(mapped.toFloatArray()).as("the file after unload").containsExactly(want);
            // a block scale of NaN: a Q4_0 or Q8_0 matrix keeps the file's layout
            Tensor nan = randomMatrix(type, 1024, 32, 4);
            nan.data().set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, type.typeSize * 40L, Float.floatToFloat16(Float.NaN));
            if (type == GGMLType.Q4_K || type == GGMLType.F16) {   // float scales or values: a NaN stays a NaN, as in the file
                assertThat(Repacking.onHeap(nan).toFloatArray()).containsExactly(nan.toFloatArray());
            } else {
                assertThat(Repacking.onHeap(nan)).isSameAs(nan);
            }
        }
    }

    /**
     * What Repacking leaves free for the session: the KV cache at the default context and 128 MiB; asked to keep the
     * whole heap free, it copies nothing.
     */
    @Test
    void theHeadroomIsKeptFree() {
        ModelConfig c = ModelConfig.llama(512, 2, 4, 2, 1024, 300, 32);
        assertThat(Repacking.headroom(c)).isEqualTo(jllm.model.KvCache.bytes(c, 32) + (128L << 20));   // trained context 32
        LlamaWeights w = quantized(c, GGMLType.Q8_0, 5);
        try (Linear linear = new Linear(2); Arena arena = Arena.ofShared()) {
            LlamaWeights kept = Repacking.apply(w, linear, arena, Repacking.heapRoom());
            for (Tensor t : kept.wUp()) assertThat(t.type()).isEqualTo(GGMLType.Q8_0);
            LlamaWeights copied = Repacking.apply(w, linear, arena, Repacking.headroom(c));
            for (Tensor t : copied.wUp()) assertThat(t.type()).isEqualTo(GGMLType.Q8_0_R);
        }
    }
}
