package jllm.model;

import jllm.tensor.Tensor;

/**
 * The weights of a LLaMA-family decoder (Touvron et al. 2023): views over a model file's tensor bytes, never
 * copies (ARCHITECTURE invariant 5); only the small norm vectors and biases are held as float arrays.
 * Matrices are stored as (rows = out features, cols = in features), GGML order ne = [in, out].
 *
 * <pre>
 *   tokenEmbedding (vocab, dim)                 output (vocab, dim), == tokenEmbedding when tied
 *   wq (qDim, dim)  wk, wv (kvDim, dim)  wo (dim, qDim)
 *   wGate, wUp (ffnDim, dim)  wDown (dim, ffnDim)
 *   attnNorm, ffnNorm (nLayers)(dim)   outputNorm (dim)   bq (qDim), bk, bv (kvDim) or null
 *   ropeFreqs (ropeDim/2) or null (Llama 3.1 frequency factors)
 * </pre>
 */
public record LlamaWeights(
        Tensor tokenEmbedding,
        float[][] attnNorm,
        Tensor[] wq, Tensor[] wk, Tensor[] wv, Tensor[] wo,
        float[][] bq, float[][] bk, float[][] bv,
        float[][] ffnNorm,
        Tensor[] wGate, Tensor[] wUp, Tensor[] wDown,
        float[] outputNorm,
        Tensor output,
        float[] ropeFreqs) {

    /** Checks every shape against the config; the message names the tensor and both shapes. */
    public LlamaWeights validate(ModelConfig c) {
        expect("token_embd.weight", tokenEmbedding, c.dim(), c.vocab());
        expect("output.weight", output, c.dim(), c.vocab());
        expectLen("output_norm.weight", outputNorm, c.dim());
        for (int l = 0; l < c.nLayers(); l++) {
            String p = "blk." + l + ".";
            expectLen(p + "attn_norm.weight", attnNorm[l], c.dim());
            expectLen(p + "ffn_norm.weight", ffnNorm[l], c.dim());
            expect(p + "attn_q.weight", wq[l], c.dim(), c.qDim());
            expect(p + "attn_k.weight", wk[l], c.dim(), c.kvDim());
            expect(p + "attn_v.weight", wv[l], c.dim(), c.kvDim());
            expect(p + "attn_output.weight", wo[l], c.qDim(), c.dim());
            expect(p + "ffn_gate.weight", wGate[l], c.dim(), c.ffnDim());
            expect(p + "ffn_up.weight", wUp[l], c.dim(), c.ffnDim());
            expect(p + "ffn_down.weight", wDown[l], c.ffnDim(), c.dim());
            if (c.qkvBias()) {
                expectLen(p + "attn_q.bias", bq[l], c.qDim());
                expectLen(p + "attn_k.bias", bk[l], c.kvDim());
                expectLen(p + "attn_v.bias", bv[l], c.kvDim());
            }
        }
        if (ropeFreqs != null) expectLen("rope_freqs.weight", ropeFreqs, c.ropeDim() / 2);
        return this;
    }

    private static void expect(String name, Tensor t, long ne0, long ne1) {
        if (t == null) throw new IllegalArgumentException("missing tensor " + name);
        long[] ne = t.ne();
        if (ne.length != 2 || ne[0] != ne0 || ne[1] != ne1) {
            throw new IllegalArgumentException("tensor " + name + " has shape " + java.util.Arrays.toString(ne)
                    + ", expected [" + ne0 + ", " + ne1 + "]");
        }
    }

    private static void expectLen(String name, float[] v, int n) {
        if (v == null) throw new IllegalArgumentException("missing tensor " + name);
        if (v.length != n) throw new IllegalArgumentException("tensor " + name + " has " + v.length + " elements, expected " + n);
    }
}
