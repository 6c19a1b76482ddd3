package jllm.model;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every layer's backward against central finite differences of its forward, for f = sum(out * R) with a random R
 * (so dy = R). Step h = 1e-2 on O(1) inputs (measured errors about 1e-5); tolerance 1e-3 of the tensor's largest gradient (float rounding of f
 * over h, and the h^2 term, bound what a float forward can show; the measured errors are printed).
 */
class LayerBackwardTest {
    static final float H = 1e-2f;
    static final double TOL = 1e-3;

    @Test
    void rmsNorm() {
        SplittableRandom r = new SplittableRandom(1);
        int rows = 3, n = 16;
        float[] x = GradCheck.gaussian(r, rows * n, 1), w = GradCheck.gaussian(r, n, 1), R = GradCheck.gaussian(r, rows * n, 1);
        float[] out = new float[rows * n], rstd = new float[rows];
        GradCheck.Fn f = () -> {
            for (int t = 0; t < rows; t++) rstd[t] = RMSNorm.forward(out, t * n, x, t * n, w, 1e-5f, n);
            return GradCheck.dot(out, R);
        };
        f.eval();
        float[] dx = new float[rows * n], dw = new float[n];
        for (int t = 0; t < rows; t++) RMSNorm.backward(dx, t * n, R, x, w, rstd[t], n);
        RMSNorm.weightBackward(dw, R, x, rstd, rows, n, 0, n);
        GradCheck.check("RMSNorm dx", x, dx, f, H, TOL);
        GradCheck.check("RMSNorm dw", w, dw, f, H, TOL);
    }

    @Test
    void layerNorm() {
        SplittableRandom r = new SplittableRandom(2);
        int rows = 3, n = 16;
        float[] x = GradCheck.gaussian(r, rows * n, 1), w = GradCheck.gaussian(r, n, 1), b = GradCheck.gaussian(r, n, 1);
        float[] R = GradCheck.gaussian(r, rows * n, 1);
        float[] out = new float[rows * n], mean = new float[rows], rstd = new float[rows];
        GradCheck.Fn f = () -> {
            for (int t = 0; t < rows; t++) LayerNorm.forward(out, t * n, x, t * n, w, b, 1e-5f, n, mean, rstd, t);
            return GradCheck.dot(out, R);
        };
        f.eval();
        float[] dx = new float[rows * n], dw = new float[n], db = new float[n];
        for (int t = 0; t < rows; t++) LayerNorm.backward(dx, t * n, R, x, w, mean[t], rstd[t], n);
        LayerNorm.weightBackward(dw, db, R, x, mean, rstd, rows, n, 0, n);
        GradCheck.check("LayerNorm dx", x, dx, f, H, TOL);
        GradCheck.check("LayerNorm dw", w, dw, f, H, TOL);
        GradCheck.check("LayerNorm db", b, db, f, H, TOL);
    }

    @Test
    void swigluAndGelu() {
        SplittableRandom r = new SplittableRandom(3);
        int n = 64;
        float[] g = GradCheck.gaussian(r, n, 2), u = GradCheck.gaussian(r, n, 2), R = GradCheck.gaussian(r, n, 1);
        float[] out = new float[n];
        GradCheck.Fn swiglu = () -> {
            SwiGLU.forward(out, g, u, 0, n);
            return GradCheck.dot(out, R);
        };
        float[] dg = new float[n], du = new float[n];
        SwiGLU.backward(dg, du, R, g, u, 0, n);
        GradCheck.check("SwiGLU dgate", g, dg, swiglu, H, TOL);
        GradCheck.check("SwiGLU dup", u, du, swiglu, H, TOL);
        GradCheck.Fn gelu = () -> {
            GELU.forward(out, g, 0, n);
            return GradCheck.dot(out, R);
        };
        float[] dx = new float[n];
        GELU.backward(dx, R, g, 0, n);
        GradCheck.check("GELU dx", g, dx, gelu, H, TOL);
    }

    @Test
    void crossEntropyWithMask() {
        SplittableRandom r = new SplittableRandom(4);
        int rows = 4, vocab = 10;
        float[] z = GradCheck.gaussian(r, rows * vocab, 2);
        int[] targets = {3, CrossEntropy.IGNORE, 0, 9};
        float[] loss = new float[rows], lse = new float[rows];
        int count = CrossEntropy.count(targets, rows);
        GradCheck.Fn f = () -> {
            double s = 0;
            for (int t = 0; t < rows; t++) {
                CrossEntropy.forwardRow(loss, lse, z, targets, t, vocab);
                s += loss[t];
            }
            return s / count;
        };
        f.eval();
        float[] dz = z.clone();
        for (int t = 0; t < rows; t++) CrossEntropy.backwardRow(dz, lse, targets, t, vocab, 1f / count);
        GradCheck.check("CrossEntropy dlogits (masked row 1)", z, dz, f, H, TOL);
        for (int i = vocab; i < 2 * vocab; i++) org.assertj.core.api.Assertions.assertThat(dz[i]).isZero();
    }

    @Test
    void embeddingAndLearnedPositions() {
        SplittableRandom r = new SplittableRandom(5);
        int vocab = 7, dim = 6, ctx = 5, B = 2, T = 3;
        float[] table = GradCheck.gaussian(r, vocab * dim, 1), pos = GradCheck.gaussian(r, ctx * dim, 1);
        var tTable = jllm.tensor.Tensor.of("e", jllm.tensor.GGMLType.F32, java.lang.foreign.MemorySegment.ofArray(table), dim, vocab);
        var tPos = jllm.tensor.Tensor.of("p", jllm.tensor.GGMLType.F32, java.lang.foreign.MemorySegment.ofArray(pos), dim, ctx);
        int[] tokens = {1, 4, 1, 6, 0, 4};
        int startPos = 1;
        float[] R = GradCheck.gaussian(r, B * T * dim, 1), out = new float[B * T * dim], row = new float[dim];
        GradCheck.Fn f = () -> {
            for (int i = 0; i < B * T; i++) {
                Embedding.forward(out, i * dim, tTable, tokens[i]);
                AbsolutePositions.addLearned(out, i * dim, tPos, startPos + i % T, row, dim);
            }
            return GradCheck.dot(out, R);
        };
        float[] dTable = new float[vocab * dim], dPos = new float[ctx * dim];
        Embedding.backward(dTable, R, tokens, 0, B * T, dim);
        AbsolutePositions.learnedBackward(dPos, R, B, T, startPos, dim);
        GradCheck.check("Embedding dtable (repeated tokens)", table, dTable, f, H, TOL);
        GradCheck.check("learned positions dtable", pos, dPos, f, H, TOL);
    }

    @Test
    void linearWithBias() {
        SplittableRandom r = new SplittableRandom(6);
        int T = 5, in = 9, out = 7;
        float[] x = GradCheck.gaussian(r, T * in, 1), w = GradCheck.gaussian(r, out * in, 1), b = GradCheck.gaussian(r, out, 1);
        float[] R = GradCheck.gaussian(r, T * out, 1), y = new float[T * out];
        var wt = jllm.tensor.Tensor.of("w", jllm.tensor.GGMLType.F32, java.lang.foreign.MemorySegment.ofArray(w), in, out);
        try (Linear lin = new Linear(2)) {
            GradCheck.Fn f = () -> {
                lin.apply(y, wt, b, x, T);
                return GradCheck.dot(y, R);
            };
            float[] dx = new float[T * in], dw = new float[out * in], db = new float[out];
            lin.backward(dx, dw, db, wt, R, x, T);
            GradCheck.check("Linear dx", x, dx, f, H, TOL);
            GradCheck.check("Linear dW", w, dw, f, H, TOL);
            GradCheck.check("Linear db", b, db, f, H, TOL);
        }
    }

    @ParameterizedTest(name = "{0}: heads {1}/{2}, headDim {3}, B {4}, T {5}")
    @CsvSource({
            "MHA,   4, 4, 8, 2, 5",
            "GQA,   4, 2, 8, 1, 19",
            "MQA,   3, 1, 4, 2, 7",
            "ALIBI, 4, 2, 8, 2, 6",
            "ALIBI, 6, 6, 4, 1, 70"})   // > one key tile, 6 heads (slopes of a non-power of two)
    void attention(String kind, int nHeads, int nKv, int headDim, int B, int T) {
        ModelConfig c = new ModelConfig("llama", nHeads * headDim, 1, nHeads, nKv, headDim, 8, 16, 4096,
                ModelConfig.RopeType.NORM, 10000f, headDim, 1f, 1e-5f, false, false);
        float[] slopes = kind.equals("ALIBI") ? ALiBi.slopes(nHeads) : null;
        SplittableRandom r = new SplittableRandom(nHeads * 100L + T);
        int N = B * T;
        float[] q = GradCheck.gaussian(r, N * c.qDim(), 1), k = GradCheck.gaussian(r, N * c.kvDim(), 1);
        float[] v = GradCheck.gaussian(r, N * c.kvDim(), 1), R = GradCheck.gaussian(r, N * c.qDim(), 1);
        float[] out = new float[N * c.qDim()], lse = new float[N * nHeads];
        Attention.Scratch w = new Attention.Scratch(headDim);
        GradCheck.Fn f = () -> {
            for (int b = 0; b < B; b++) {
                for (int h = 0; h < nHeads; h++) {
                    Attention.head(out, q, k, v, b * T, b * T, 0, 0, T, h, c, slopes == null ? 0f : slopes[h], lse, w);
                }
            }
            return GradCheck.dot(out, R);
        };
        f.eval();
        float[] dq = new float[q.length], dk = new float[k.length], dv = new float[v.length];
        for (int b = 0; b < B; b++) {
            for (int g = 0; g < nKv; g++) Attention.backward(dq, dk, dv, R, out, q, k, v, lse, b * T, T, g, c, slopes);
        }
        GradCheck.check("attention " + kind + " dq", q, dq, f, H, TOL);
        GradCheck.check("attention " + kind + " dk", k, dk, f, H, TOL);
        GradCheck.check("attention " + kind + " dv", v, dv, f, H, TOL);
    }

    @ParameterizedTest(name = "RoPE {0}")
    @CsvSource({"NORM", "NEOX"})
    void ropeBackwardIsTheTransposeRotation(ModelConfig.RopeType type) {
        int headDim = 8, nHeads = 2;
        ModelConfig c = new ModelConfig("llama", headDim * nHeads, 1, nHeads, nHeads, headDim, 8, 16, 4096, type, 10000f,
                headDim, 1f, 1e-5f, false, false);
        RoPE rope = new RoPE(c, null);
        SplittableRandom r = new SplittableRandom(8);
        float[] x = GradCheck.gaussian(r, headDim * nHeads, 1), R = GradCheck.gaussian(r, headDim * nHeads, 1);
        float[] cos = new float[headDim / 2], sin = new float[headDim / 2];
        rope.angles(cos, sin, 37);
        float[] y = new float[x.length];
        GradCheck.Fn f = () -> {
            System.arraycopy(x, 0, y, 0, x.length);
            rope.rotate(y, 0, nHeads, headDim, cos, sin);
            return GradCheck.dot(y, R);
        };
        float[] dx = R.clone();
        rope.rotateBackward(dx, 0, nHeads, headDim, cos, sin);
        GradCheck.check("RoPE " + type + " dx", x, dx, f, H, TOL);
    }
}
