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
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The load-time repacking of Q4_K matrices ({@link Repacking}) against the file's layout on a small random Llama
 * (dim 256, FFN 512, 2 layers, Q4_K matrices quantized by ggml's reference quantizer). A prompt of 6 tokens takes the
 * float path, which dequantizes to the same floats from either layout; single tokens take the int8 path, whose integer
 * sums are the same and whose float sums are ordered differently. Both must agree to float rounding (1e-5 of the
 * largest logit): not bit for bit, because the vector lane reductions' order differs between the JIT's tiers, so even
 * one model run twice in a process differs in the last bits.
 */
class RepackingTest {
    @TempDir Path tmp;

    static LlamaWeights q4K(ModelConfig c, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return LlamaWeights.assemble(c, name -> {
            long[] ne = null;
            for (LlamaWeights.Param p : LlamaWeights.parameters(c)) if (p.name().equals(name)) ne = p.ne();
            float[] v = new float[Math.toIntExact(ne[0] * ne[1])];
            double sigma = name.contains("embd") ? 1.0 : 1.0 / Math.sqrt(ne[0]);
            for (int i = 0; i < v.length; i++) v[i] = (float) (sigma * r.nextGaussian());
            return Tensor.quantize(name, GGMLType.Q4_K, v, ne);
        }, name -> {
            float[] v = new float[c.dim()];
            for (int i = 0; i < v.length; i++) v[i] = (float) (1 + 0.1 * r.nextGaussian());
            return v;
        }, null);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aRepackedModelComputesWhatTheFileLayoutComputes(boolean tied) {
        ModelConfig c = ModelConfig.llama(256, 2, 4, 2, 512, 300, 32).withTiedOutput(tied);
        LlamaWeights w = q4K(c, 11);
        int[] tokens = {5, 17, 250, 3, 99, 42, 7, 120, 64, 1};
        try (Linear linear = new Linear(2); Arena arena = Arena.ofShared()) {
            LlamaWeights r = Repacking.apply(w, linear, arena);
            for (Tensor[] layer : new Tensor[][] {r.wq(), r.wk(), r.wv(), r.wo(), r.wGate(), r.wUp(), r.wDown()}) {
                for (Tensor t : layer) assertThat(t.type()).isEqualTo(GGMLType.Q4_K_R);
            }
            assertThat(r.output().type()).isEqualTo(GGMLType.Q4_K_R);
            if (tied) assertThat(r.tokenEmbedding()).isSameAs(r.output());
            else assertThat(r.tokenEmbedding()).isSameAs(w.tokenEmbedding());   // looked up a row at a time: kept
            assertThat(r.storedBytes()).isEqualTo(w.storedBytes());             // counted in the file's types

            LlamaModel a = new LlamaModel(c, w, linear), b = new LlamaModel(c, r, linear);
            KvCache ca = new KvCache(c, tokens.length), cb = new KvCache(c, tokens.length);
            LlamaModel.State sa = a.newState(6), sb = b.newState(6);
            float[] pa = a.forward(tokens, 0, 6, 0, ca, sa, true).clone(), pb = b.forward(tokens, 0, 6, 0, cb, sb, true).clone();
            double prompt = relativeDiff(pa, pb), worst = 0;
            assertThat(prompt).as("prompt logits (float path)").isLessThanOrEqualTo(1e-5);
            for (int i = 6; i < tokens.length; i++) {
                double d = relativeDiff(a.forward(tokens, i, 1, i, ca, sa, false).clone(), b.forward(tokens, i, 1, i, cb, sb, false).clone());
                assertThat(d).as("token %d, int8 path", i).isLessThanOrEqualTo(1e-5);
                worst = Math.max(worst, d);
            }
            System.out.printf("repacked Q4_K, tied %b: max |diff| / max |logit|: prompt %.3g, decode %.3g%n", tied, prompt, worst);
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

    @Test
    void aMappedMatrixIsRepackedAndTheFileStillReadsAfterItsPagesAreDropped() throws Exception {
        float[] v = new float[512 * 64];
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        Tensor q = Tensor.quantize("m", GGMLType.Q4_K, v, 512, 64);
        Path file = tmp.resolve("m.gguf");
        new GGUFWriter().tensor("m", GGMLType.Q4_K, q.ne(), q.data()).write(file);
        float[] want = q.toFloatArray();
        try (GGUFFile f = GGUFFile.open(file); Linear linear = new Linear(2); Arena arena = Arena.ofShared()) {
            Tensor mapped = Tensor.of("m", GGMLType.Q4_K, f.tensorData("m"), 512, 64);
            assertThat(mapped.data().isMapped()).isTrue();
            Tensor packed = Repacking.q4K(mapped, linear, arena);
            assertThat(packed.type()).isEqualTo(GGMLType.Q4_K_R);
            assertThat(packed.toFloatArray()).containsExactly(want);
            assertThat(mapped.toFloatArray()).as("the file after unload").containsExactly(want);
        }
    }
}
