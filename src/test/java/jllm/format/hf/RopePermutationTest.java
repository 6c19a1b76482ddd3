package jllm.format.hf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import jllm.model.LlamaWeights;
import jllm.model.ModelConfig;
import jllm.tensor.GGMLType;
import jllm.tensor.Tensor;

/**
 * RopePermutation against llama.cpp's {@code permute} (numpy reshape/swapaxes, literal outputs below), its
 * inverse, and the reason it exists: a GGUF-layout model run with NORM rope and its Hugging Face-layout conversion
 * run with NEOX rope give the same logits.
 */
class RopePermutationTest {

    /** GGUF row g holds HF row perm[g], where perm is permute() applied to the row indices. */
    private static int[] perm(int rows, int heads) {
        int[] p = new int[rows];
        for (int g = 0; g < rows; g++) p[g] = RopePermutation.ggufToHfRow(g, rows, heads);
        return p;
    }

    @Test
    void matchesNumpyReshapeSwapaxes() {
        // python3 -c "import numpy as np; print(np.arange(8).reshape(2,2,2).swapaxes(1,2).reshape(8).tolist())"
        assertThat(perm(8, 2)).containsExactly(0, 2, 1, 3, 4, 6, 5, 7);
        // python3 -c "import numpy as np; print(np.arange(24).reshape(3,2,4).swapaxes(1,2).reshape(24).tolist())"
        assertThat(perm(24, 3)).containsExactly(0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15, 16, 20, 17, 21, 18, 22, 19, 23);
        // the same as a float matrix: permute() moves whole rows
        float[] m = new float[24 * 2];
        for (int i = 0; i < m.length; i++) m[i] = i;
        float[] g = RopePermutation.hfToGguf(m, 2, 3);
        int[] p = perm(24, 3);
        for (int row = 0; row < 24; row++) {
            assertThat(g[2 * row]).isEqualTo(2 * p[row]);
            assertThat(g[2 * row + 1]).isEqualTo(2 * p[row] + 1);
        }
    }

    @Test
    void rowMapsAreInverseBijections() {
        for (int[] rh : new int[][] {{8, 1}, {8, 2}, {24, 3}, {64, 4}, {128, 8}, {4096, 32}, {1024, 8}}) {
            int rows = rh[0], heads = rh[1];
            boolean[] seen = new boolean[rows];
            for (int r = 0; r < rows; r++) {
                int g = RopePermutation.hfToGgufRow(r, rows, heads);
                assertThat(seen[g]).isFalse();
                seen[g] = true;
                assertThat(RopePermutation.ggufToHfRow(g, rows, heads)).isEqualTo(r);
            }
        }
        assertThatThrownBy(() -> RopePermutation.hfToGgufRow(0, 12, 4)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("12 rows are not 4 heads of an even width");
    }

    /** permute then its inverse is the identity, byte for byte, for float and block-quantized rows alike. */
    @Test
    void permuteThenInverseIsIdentity() {
        SplittableRandom r = new SplittableRandom(5);
        for (GGMLType type : new GGMLType[] {GGMLType.F32, GGMLType.F16, GGMLType.BF16, GGMLType.Q8_0, GGMLType.Q4_K}) {
            int cols = type.blockSize == 256 ? 256 : 64;
            float[] v = RandomLlama.random(r, cols * 48, 1, 0);
            Tensor t = type == GGMLType.F32 ? Tensor.ofFloats("w", v, cols, 48) : Tensor.quantize("w", type, v, cols, 48);
            Tensor g = RopePermutation.hfToGguf(t, 6);
            assertThat(g.type()).isEqualTo(type);
            assertThat(g.ne()).containsExactly(cols, 48);
            assertThat(g.data().toArray(ValueLayout.JAVA_BYTE)).isNotEqualTo(t.data().toArray(ValueLayout.JAVA_BYTE));
            assertThat(RopePermutation.ggufToHf(g, 6).data().toArray(ValueLayout.JAVA_BYTE)).isEqualTo(t.data().toArray(ValueLayout.JAVA_BYTE));
            assertThat(RopePermutation.hfToGguf(RopePermutation.ggufToHf(t, 6), 6).data().toArray(ValueLayout.JAVA_BYTE))
                    .isEqualTo(t.data().toArray(ValueLayout.JAVA_BYTE));
            // row g of the GGUF tensor is row ggufToHfRow(g) of the HF tensor
            assertThat(g.row(5).toFloatArray()).containsExactly(t.row(RopePermutation.ggufToHfRow(5, 48, 6)).toFloatArray());
        }
        float[] b = RandomLlama.random(r, 32, 1, 0);
        assertThat(RopePermutation.ggufToHf(RopePermutation.hfToGguf(b, 1, 4), 1, 4)).containsExactly(b);
    }

    /**
     * The reason for the permutation: GGUF-layout weights with NORM rope and their HF-layout conversion (q and k rows,
     * and q and k biases, through ggufToHf) with NEOX rope give the same logits. q and k are the same numbers in a
     * different order, so only the order of the sums in q.k differs: tolerance 1e-5 on logits of size ~1.
     */
    @Test
    void ggufLayoutWithNormEqualsHfLayoutWithNeox() {
        int[] tokens = {3, 17, 0, 39, 22, 22, 8, 1, 30, 12};
        for (boolean bias : new boolean[] {false, true}) {
            ModelConfig norm = RandomLlama.config(bias, false, ModelConfig.RopeType.NORM);
            ModelConfig neox = RandomLlama.config(bias, false, ModelConfig.RopeType.NEOX);
            LlamaWeights g = RandomLlama.weights(norm, GGMLType.F32, 11, null);
            LlamaWeights h = toHf(norm, g);
            float[] a = RandomLlama.logits(norm, g, tokens);
            float[] b = RandomLlama.logits(neox, h, tokens);
            double d = RandomLlama.maxAbsDiff(a, b);
            System.out.printf("GGUF layout + NORM vs HF layout + NEOX (bias %s): max |logit diff| = %.3g%n", bias, d);
            assertThat(d).as("max |logit difference|, bias %s", bias).isLessThan(1e-5);
            // and the permutation matters: HF-layout weights run with NORM rope give different logits
            assertThat(RandomLlama.maxAbsDiff(a, RandomLlama.logits(norm, h, tokens))).isGreaterThan(1e-2);
        }
    }

    static LlamaWeights toHf(ModelConfig c, LlamaWeights g) {
        int n = c.nLayers();
        Tensor[] wq = new Tensor[n], wk = new Tensor[n];
        float[][] bq = g.bq() == null ? null : new float[n][], bk = g.bk() == null ? null : new float[n][];
        for (int l = 0; l < n; l++) {
            wq[l] = RopePermutation.ggufToHf(g.wq()[l], c.nHeads());
            wk[l] = RopePermutation.ggufToHf(g.wk()[l], c.nKvHeads());
            if (bq != null) {
                bq[l] = RopePermutation.ggufToHf(g.bq()[l], 1, c.nHeads());
                bk[l] = RopePermutation.ggufToHf(g.bk()[l], 1, c.nKvHeads());
            }
        }
        return new LlamaWeights(g.tokenEmbedding(), g.attnNorm(), wq, wk, g.wv(), g.wo(), bq, bk, g.bv(), g.ffnNorm(),
                g.wGate(), g.wUp(), g.wDown(), g.outputNorm(), g.output(), g.ropeFreqs());
    }
}
