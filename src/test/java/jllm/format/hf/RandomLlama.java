package jllm.format.hf;

import java.util.SplittableRandom;

import jllm.model.KvCache;
import jllm.model.Linear;
import jllm.model.LlamaModel;
import jllm.model.LlamaWeights;
import jllm.model.ModelConfig;
import jllm.tensor.GGMLType;
import jllm.tensor.Tensor;

/** A small LLaMA with seeded random weights in GGUF's layout (NORM rope), and a helper that runs a model. */
final class RandomLlama {
    private RandomLlama() {}

    static ModelConfig config(boolean qkvBias, boolean tied, ModelConfig.RopeType rope) {
        // dim 32, 2 layers, 4 query heads sharing 2 KV heads (GQA), head 8, ffn 48, vocab 40
        return new ModelConfig("llama", 32, 2, 4, 2, 8, 48, 40, 64, rope, 10000f, 8, 1f, 1e-5f, qkvBias, tied);
    }

    static float[] random(SplittableRandom r, int n, double std, double mean) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (mean + std * r.nextGaussian());
        return v;
    }

    /** Weights of {@code type} (F32, F16, BF16, or a quantized type) with rows (out) of length in: ne = [in, out]. */
    static LlamaWeights weights(ModelConfig c, GGMLType type, long seed, float[] ropeFreqs) {
        SplittableRandom r = new SplittableRandom(seed);
        int n = c.nLayers();
        Tensor[] wq = new Tensor[n], wk = new Tensor[n], wv = new Tensor[n], wo = new Tensor[n], wg = new Tensor[n], wu = new Tensor[n], wd = new Tensor[n];
        float[][] an = new float[n][], fn = new float[n][], bq = new float[n][], bk = new float[n][], bv = new float[n][];
        for (int l = 0; l < n; l++) {
            an[l] = random(r, c.dim(), 0.1, 1);
            fn[l] = random(r, c.dim(), 0.1, 1);
            wq[l] = matrix(r, type, "wq", c.dim(), c.qDim());
            wk[l] = matrix(r, type, "wk", c.dim(), c.kvDim());
            wv[l] = matrix(r, type, "wv", c.dim(), c.kvDim());
            wo[l] = matrix(r, type, "wo", c.qDim(), c.dim());
            wg[l] = matrix(r, type, "wg", c.dim(), c.ffnDim());
            wu[l] = matrix(r, type, "wu", c.dim(), c.ffnDim());
            wd[l] = matrix(r, type, "wd", c.ffnDim(), c.dim());
            bq[l] = random(r, c.qDim(), 0.2, 0);
            bk[l] = random(r, c.kvDim(), 0.2, 0);
            bv[l] = random(r, c.kvDim(), 0.2, 0);
        }
        Tensor embd = matrix(r, type, "embd", c.dim(), c.vocab());
        Tensor out = c.tiedOutput() ? embd : matrix(r, type, "out", c.dim(), c.vocab());
        return new LlamaWeights(embd, an, wq, wk, wv, wo, c.qkvBias() ? bq : null, c.qkvBias() ? bk : null, c.qkvBias() ? bv : null,
                fn, wg, wu, wd, random(r, c.dim(), 0.1, 1), out, ropeFreqs);
    }

    private static Tensor matrix(SplittableRandom r, GGMLType type, String name, int in, int out) {
        float[] v = random(r, in * out, 1.0 / Math.sqrt(in), 0);
        return type == GGMLType.F32 ? Tensor.ofFloats(name, v, in, out) : Tensor.quantize(name, type, v, in, out);
    }

    /** Logits of every position of {@code tokens}, run in one batch, single-threaded. */
    static float[] logits(ModelConfig c, LlamaWeights w, int[] tokens) {
        try (Linear linear = new Linear(1)) {
            LlamaModel m = new LlamaModel(c, w, linear);
            return m.forward(tokens, 0, tokens.length, 0, new KvCache(c, tokens.length), m.newState(tokens.length), true);
        }
    }

    static double maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) throw new AssertionError(a.length + " vs " + b.length + " values");
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }
}
