package jllm.model;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import jllm.tensor.Tensor;

/**
 * The weights of a decoder of the LLaMA family (Touvron et al. 2023) or of the GPT-2 family (Radford et al. 2019),
 * whichever the {@link ModelConfig} chooses: views over a model file's tensor bytes, never copies (ARCHITECTURE
 * invariant 5), or over a trainer's float arrays; only the small norm vectors and biases are held as float arrays.
 * Matrices are stored as (rows = out features, cols = in features), GGML order ne = [in, out]. Fields a config
 * does not use are null.
 *
 * <pre>
 *   tokenEmbedding (vocab, dim)       positionEmbedding (contextLength, dim), LEARNED positions only
 *   output (vocab, dim), == tokenEmbedding when tied
 *   wq (qDim, dim)  wk, wv (kvDim, dim)  wo (dim, qDim)            bq (qDim)  bk, bv (kvDim)  bo (dim)
 *   wGate (ffnDim, dim) SwiGLU only   wUp (ffnDim, dim)   wDown (dim, ffnDim)   bGate, bUp (ffnDim)  bDown (dim)
 *   attnNorm, ffnNorm (nLayers)(dim)   outputNorm (dim)   and their biases for LayerNorm
 *   ropeFreqs (ropeDim/2) or null (Llama 3.1 frequency factors)
 * </pre>
 */
public record LlamaWeights(
        Tensor tokenEmbedding,
        Tensor positionEmbedding,
        float[][] attnNorm, float[][] attnNormBias,
        Tensor[] wq, Tensor[] wk, Tensor[] wv, Tensor[] wo,
        float[][] bq, float[][] bk, float[][] bv, float[][] bo,
        float[][] ffnNorm, float[][] ffnNormBias,
        Tensor[] wGate, Tensor[] wUp, Tensor[] wDown,
        float[][] bGate, float[][] bUp, float[][] bDown,
        float[] outputNorm, float[] outputNormBias,
        Tensor output,
        float[] ropeFreqs) {

    /** The weights of a LLaMA-family model (RMSNorm, SwiGLU, RoPE; Q/K/V biases for Qwen2). */
    public LlamaWeights(Tensor tokenEmbedding, float[][] attnNorm, Tensor[] wq, Tensor[] wk, Tensor[] wv, Tensor[] wo,
                        float[][] bq, float[][] bk, float[][] bv, float[][] ffnNorm, Tensor[] wGate, Tensor[] wUp,
                        Tensor[] wDown, float[] outputNorm, Tensor output, float[] ropeFreqs) {
        this(tokenEmbedding, null, attnNorm, null, wq, wk, wv, wo, bq, bk, bv, null, ffnNorm, null, wGate, wUp, wDown,
                null, null, null, outputNorm, null, output, ropeFreqs);
    }

    /** A trainable tensor: its GGUF name, shape (GGML order) and whether it is a matrix (else a norm or bias vector). */
    public record Param(String name, long[] ne, boolean matrix) {
        public long size() {
            long n = 1;
            for (long d : ne) n *= d;
            return n;
        }
    }

    /**
     * Every tensor of a model of config c under its GGUF name, in file order: the single list the loader, the
     * trainer, the optimizer state and the checkpoint share. The output matrix is absent when tied.
     */
    public static List<Param> parameters(ModelConfig c) {
        List<Param> p = new ArrayList<>();
        p.add(new Param("token_embd.weight", new long[] {c.dim(), c.vocab()}, true));
        if (c.positions() == ModelConfig.Positions.LEARNED) {
            p.add(new Param("position_embd.weight", new long[] {c.dim(), c.contextLength()}, true));
        }
        for (int l = 0; l < c.nLayers(); l++) {
            String b = "blk." + l + ".";
            p.add(new Param(b + "attn_norm.weight", new long[] {c.dim()}, false));
            if (c.normBias()) p.add(new Param(b + "attn_norm.bias", new long[] {c.dim()}, false));
            p.add(new Param(b + "attn_q.weight", new long[] {c.dim(), c.qDim()}, true));
            if (c.qkvBias()) p.add(new Param(b + "attn_q.bias", new long[] {c.qDim()}, false));
            p.add(new Param(b + "attn_k.weight", new long[] {c.dim(), c.kvDim()}, true));
            if (c.qkvBias()) p.add(new Param(b + "attn_k.bias", new long[] {c.kvDim()}, false));
            p.add(new Param(b + "attn_v.weight", new long[] {c.dim(), c.kvDim()}, true));
            if (c.qkvBias()) p.add(new Param(b + "attn_v.bias", new long[] {c.kvDim()}, false));
            p.add(new Param(b + "attn_output.weight", new long[] {c.qDim(), c.dim()}, true));
            if (c.allBiases()) p.add(new Param(b + "attn_output.bias", new long[] {c.dim()}, false));
            p.add(new Param(b + "ffn_norm.weight", new long[] {c.dim()}, false));
            if (c.normBias()) p.add(new Param(b + "ffn_norm.bias", new long[] {c.dim()}, false));
            if (c.mlp() == ModelConfig.Mlp.SWIGLU) {
                p.add(new Param(b + "ffn_gate.weight", new long[] {c.dim(), c.ffnDim()}, true));
                if (c.allBiases()) p.add(new Param(b + "ffn_gate.bias", new long[] {c.ffnDim()}, false));
            }
            p.add(new Param(b + "ffn_up.weight", new long[] {c.dim(), c.ffnDim()}, true));
            if (c.allBiases()) p.add(new Param(b + "ffn_up.bias", new long[] {c.ffnDim()}, false));
            p.add(new Param(b + "ffn_down.weight", new long[] {c.ffnDim(), c.dim()}, true));
            if (c.allBiases()) p.add(new Param(b + "ffn_down.bias", new long[] {c.dim()}, false));
        }
        p.add(new Param("output_norm.weight", new long[] {c.dim()}, false));
        if (c.normBias()) p.add(new Param("output_norm.bias", new long[] {c.dim()}, false));
        if (!c.tiedOutput()) p.add(new Param("output.weight", new long[] {c.dim(), c.vocab()}, true));
        return p;
    }

    /**
     * Weights of config c assembled by name (the names of {@link #parameters}): {@code matrix} gives the matrices
     * and embeddings, {@code vector} the norm weights and biases; tensors the config does not use are not asked for.
     */
    public static LlamaWeights assemble(ModelConfig c, Function<String, Tensor> matrix, Function<String, float[]> vector,
                                        float[] ropeFreqs) {
        int n = c.nLayers();
        boolean swiglu = c.mlp() == ModelConfig.Mlp.SWIGLU;
        Tensor[] wq = new Tensor[n], wk = new Tensor[n], wv = new Tensor[n], wo = new Tensor[n];
        Tensor[] wg = swiglu ? new Tensor[n] : null, wu = new Tensor[n], wd = new Tensor[n];
        float[][] an = new float[n][], fn = new float[n][];
        float[][] anb = c.normBias() ? new float[n][] : null, fnb = c.normBias() ? new float[n][] : null;
        float[][] bq = c.qkvBias() ? new float[n][] : null, bk = c.qkvBias() ? new float[n][] : null;
        float[][] bv = c.qkvBias() ? new float[n][] : null;
        float[][] bo = c.allBiases() ? new float[n][] : null, bu = c.allBiases() ? new float[n][] : null;
        float[][] bd = c.allBiases() ? new float[n][] : null, bg = c.allBiases() && swiglu ? new float[n][] : null;
        for (int l = 0; l < n; l++) {
            String b = "blk." + l + ".";
            an[l] = vector.apply(b + "attn_norm.weight");
            fn[l] = vector.apply(b + "ffn_norm.weight");
            if (c.normBias()) {
                anb[l] = vector.apply(b + "attn_norm.bias");
                fnb[l] = vector.apply(b + "ffn_norm.bias");
            }
            wq[l] = matrix.apply(b + "attn_q.weight");
            wk[l] = matrix.apply(b + "attn_k.weight");
            wv[l] = matrix.apply(b + "attn_v.weight");
            wo[l] = matrix.apply(b + "attn_output.weight");
            if (swiglu) wg[l] = matrix.apply(b + "ffn_gate.weight");
            wu[l] = matrix.apply(b + "ffn_up.weight");
            wd[l] = matrix.apply(b + "ffn_down.weight");
            if (c.qkvBias()) {
                bq[l] = vector.apply(b + "attn_q.bias");
                bk[l] = vector.apply(b + "attn_k.bias");
                bv[l] = vector.apply(b + "attn_v.bias");
            }
            if (c.allBiases()) {
                bo[l] = vector.apply(b + "attn_output.bias");
                if (swiglu) bg[l] = vector.apply(b + "ffn_gate.bias");
                bu[l] = vector.apply(b + "ffn_up.bias");
                bd[l] = vector.apply(b + "ffn_down.bias");
            }
        }
        Tensor embd = matrix.apply("token_embd.weight");
        Tensor pos = c.positions() == ModelConfig.Positions.LEARNED ? matrix.apply("position_embd.weight") : null;
        Tensor out = c.tiedOutput() ? embd : matrix.apply("output.weight");
        return new LlamaWeights(embd, pos, an, anb, wq, wk, wv, wo, bq, bk, bv, bo, fn, fnb, wg, wu, wd, bg, bu, bd,
                vector.apply("output_norm.weight"), c.normBias() ? vector.apply("output_norm.bias") : null, out,
                ropeFreqs).validate(c);
    }

    /** Checks every shape against the config; the message names the tensor and both shapes. */
    public LlamaWeights validate(ModelConfig c) {
        expect("token_embd.weight", tokenEmbedding, c.dim(), c.vocab());
        expect("output.weight", output, c.dim(), c.vocab());
        if (c.positions() == ModelConfig.Positions.LEARNED) {
            expect("position_embd.weight", positionEmbedding, c.dim(), c.contextLength());
        }
        expectLen("output_norm.weight", outputNorm, c.dim());
        if (c.normBias()) expectLen("output_norm.bias", outputNormBias, c.dim());
        for (int l = 0; l < c.nLayers(); l++) {
            String p = "blk." + l + ".";
            expectLen(p + "attn_norm.weight", at(attnNorm, l), c.dim());
            expectLen(p + "ffn_norm.weight", at(ffnNorm, l), c.dim());
            if (c.normBias()) {
                expectLen(p + "attn_norm.bias", at(attnNormBias, l), c.dim());
                expectLen(p + "ffn_norm.bias", at(ffnNormBias, l), c.dim());
            }
            expect(p + "attn_q.weight", at(wq, l), c.dim(), c.qDim());
            expect(p + "attn_k.weight", at(wk, l), c.dim(), c.kvDim());
            expect(p + "attn_v.weight", at(wv, l), c.dim(), c.kvDim());
            expect(p + "attn_output.weight", at(wo, l), c.qDim(), c.dim());
            if (c.mlp() == ModelConfig.Mlp.SWIGLU) expect(p + "ffn_gate.weight", at(wGate, l), c.dim(), c.ffnDim());
            expect(p + "ffn_up.weight", at(wUp, l), c.dim(), c.ffnDim());
            expect(p + "ffn_down.weight", at(wDown, l), c.ffnDim(), c.dim());
            if (c.qkvBias()) {
                expectLen(p + "attn_q.bias", at(bq, l), c.qDim());
                expectLen(p + "attn_k.bias", at(bk, l), c.kvDim());
                expectLen(p + "attn_v.bias", at(bv, l), c.kvDim());
            }
            if (c.allBiases()) {
                expectLen(p + "attn_output.bias", at(bo, l), c.dim());
                if (c.mlp() == ModelConfig.Mlp.SWIGLU) expectLen(p + "ffn_gate.bias", at(bGate, l), c.ffnDim());
                expectLen(p + "ffn_up.bias", at(bUp, l), c.ffnDim());
                expectLen(p + "ffn_down.bias", at(bDown, l), c.dim());
            }
        }
        if (ropeFreqs != null) expectLen("rope_freqs.weight", ropeFreqs, c.ropeDim() / 2);
        return this;
    }

    private static <T> T at(T[] a, int l) {
        return a == null || l >= a.length ? null : a[l];
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

    /**
     * These weights with every projection matrix and the output matrix replaced by {@code f} of it (a tied token
     * embedding with the output, so it stays tied); an untied token embedding, the norms and biases are kept.
     */
    public LlamaWeights withMatrices(java.util.function.UnaryOperator<Tensor> f) {
        java.util.Map<Tensor, Tensor> done = new java.util.IdentityHashMap<>();
        Function<Tensor, Tensor> g = t -> t == null ? null : done.computeIfAbsent(t, f);
        Function<Tensor[], Tensor[]> all = a -> {
            if (a == null) return null;
            Tensor[] r = new Tensor[a.length];
            for (int i = 0; i < a.length; i++) r[i] = g.apply(a[i]);
            return r;
        };
        Tensor out = g.apply(output);
        Tensor embd = tokenEmbedding == output ? out : tokenEmbedding;
        return new LlamaWeights(embd, positionEmbedding, attnNorm, attnNormBias, all.apply(wq), all.apply(wk), all.apply(wv),
                all.apply(wo), bq, bk, bv, bo, ffnNorm, ffnNormBias, all.apply(wGate), all.apply(wUp), all.apply(wDown),
                bGate, bUp, bDown, outputNorm, outputNormBias, out, ropeFreqs);
    }

    /**
     * Bytes of the weights this model holds: every distinct tensor view (the tied output counted once) in its stored
     * (file) type, a matrix repacked at load time counted as the type it was read as ({@link Tensor#fileBytes}), plus the norm and bias vectors and RoPE factors as float32 (as GGUF stores them), so that the planner's
     * {@code estimate infer --verify} can compare its prediction with what the engine actually references.
     */
    public long storedBytes() {
        return bytes(Tensor::fileBytes);
    }

    /**
     * Bytes of the weights as this model holds them in memory: as {@link #storedBytes} but each tensor in its own
     * type, so matrices repacked at load time count at their repacked size (192 bytes per 256 Q4_K weights, not 144).
     */
    public long heldBytes() {
        return bytes(t -> t.data().byteSize());
    }

    private long bytes(java.util.function.ToLongFunction<Tensor> tensorBytes) {
        java.util.Set<Tensor> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        long bytes = 0;
        java.util.List<Tensor> all = new ArrayList<>();
        all.add(tokenEmbedding);
        all.add(positionEmbedding);
        all.add(output);
        for (Tensor[] group : new Tensor[][] {wq, wk, wv, wo, wGate, wUp, wDown}) {
            if (group != null) all.addAll(java.util.Arrays.asList(group));
        }
        for (Tensor t : all) if (t != null && seen.add(t)) bytes += tensorBytes.applyAsLong(t);
        for (float[][] group : new float[][][] {attnNorm, attnNormBias, bq, bk, bv, bo, ffnNorm, ffnNormBias, bGate, bUp, bDown}) {
            if (group != null) for (float[] v : group) if (v != null) bytes += 4L * v.length;
        }
        for (float[] v : new float[][] {outputNorm, outputNormBias, ropeFreqs}) if (v != null) bytes += 4L * v.length;
        return bytes;
    }
}
