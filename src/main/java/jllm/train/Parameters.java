package jllm.train;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import jllm.model.Gradients;
import jllm.model.LlamaWeights;
import jllm.model.ModelConfig;
import jllm.tensor.GGMLType;
import jllm.tensor.Quantize;
import jllm.tensor.Tensor;

/**
 * The trainable weights of a model: one float32 array per tensor of {@link LlamaWeights#parameters} (the master
 * copy the optimizer updates), its gradient array, and the views the model computes with. In float32 training the
 * model's tensors are views over the master arrays (heap segments), so an optimizer step is seen at once. With mixed
 * precision the matrices and embeddings are also kept as bfloat16 tensors (2 bytes per element; round to nearest
 * even), refreshed from the master arrays by {@link #syncWorkingCopy} after each step; norms and biases stay float32.
 */
public final class Parameters {
    /** A parameter: name, master values, gradient, shape (GGML order), and whether weight decay applies (matrices). */
    public record Entry(String name, float[] value, float[] grad, long[] ne, boolean decay) {}

    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    private final ModelConfig config;
    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private final Map<String, MemorySegment> bf16 = new LinkedHashMap<>(); // mixed precision working copies
    private final boolean mixed;
    private final float[] ropeFreqs; // (ropeDim/2) fixed Llama 3.1 frequency factors, or null; not trained

    private Parameters(ModelConfig config, Map<String, float[]> values, float[] ropeFreqs, boolean mixed) {
        this.config = config;
        this.mixed = mixed;
        this.ropeFreqs = ropeFreqs;
        for (LlamaWeights.Param p : LlamaWeights.parameters(config)) {
            float[] v = values.get(p.name());
            if (v == null || v.length != p.size()) {
                throw new IllegalArgumentException("parameter " + p.name() + " needs " + p.size() + " floats, got "
                        + (v == null ? "none" : v.length));
            }
            entries.put(p.name(), new Entry(p.name(), v, new float[v.length], p.ne(), p.matrix()));
            if (mixed && p.matrix()) bf16.put(p.name(), Arena.ofAuto().allocate(2L * v.length, 64));
        }
        syncWorkingCopy();
    }

    /** Parameters holding the given arrays (used as the master copy, not copied). */
    public static Parameters of(ModelConfig config, Map<String, float[]> values, boolean mixedPrecision) {
        return new Parameters(config, values, null, mixedPrecision);
    }

    /** Float32 copies of a loaded model's weights (dequantized), for fine-tuning. */
    public static Parameters copyOf(ModelConfig config, LlamaWeights w, boolean mixedPrecision) {
        Map<String, float[]> v = new LinkedHashMap<>();
        v.put("token_embd.weight", w.tokenEmbedding().toFloatArray());
        if (w.positionEmbedding() != null) v.put("position_embd.weight", w.positionEmbedding().toFloatArray());
        for (int l = 0; l < config.nLayers(); l++) {
            String b = "blk." + l + ".";
            v.put(b + "attn_norm.weight", w.attnNorm()[l].clone());
            v.put(b + "attn_q.weight", w.wq()[l].toFloatArray());
            v.put(b + "attn_k.weight", w.wk()[l].toFloatArray());
            v.put(b + "attn_v.weight", w.wv()[l].toFloatArray());
            v.put(b + "attn_output.weight", w.wo()[l].toFloatArray());
            v.put(b + "ffn_norm.weight", w.ffnNorm()[l].clone());
            v.put(b + "ffn_up.weight", w.wUp()[l].toFloatArray());
            v.put(b + "ffn_down.weight", w.wDown()[l].toFloatArray());
            if (w.wGate() != null) v.put(b + "ffn_gate.weight", w.wGate()[l].toFloatArray());
            putClone(v, b + "attn_norm.bias", w.attnNormBias(), l);
            putClone(v, b + "ffn_norm.bias", w.ffnNormBias(), l);
            putClone(v, b + "attn_q.bias", w.bq(), l);
            putClone(v, b + "attn_k.bias", w.bk(), l);
            putClone(v, b + "attn_v.bias", w.bv(), l);
            putClone(v, b + "attn_output.bias", w.bo(), l);
            putClone(v, b + "ffn_gate.bias", w.bGate(), l);
            putClone(v, b + "ffn_up.bias", w.bUp(), l);
            putClone(v, b + "ffn_down.bias", w.bDown(), l);
        }
        v.put("output_norm.weight", w.outputNorm().clone());
        if (w.outputNormBias() != null) v.put("output_norm.bias", w.outputNormBias().clone());
        if (!config.tiedOutput()) v.put("output.weight", w.output().toFloatArray());
        return new Parameters(config, v, w.ropeFreqs() == null ? null : w.ropeFreqs().clone(), mixedPrecision);
    }

    private static void putClone(Map<String, float[]> v, String name, float[][] a, int l) {
        if (a != null && a[l] != null) v.put(name, a[l].clone());
    }

    /**
     * Seeded random initialisation as GPT-2 does it: matrices and embeddings N(0, 0.02^2), the output projections of
     * attention and MLP scaled by 1/sqrt(2 nLayers) (residual scaling), norm weights 1, biases and norm biases 0.
     */
    public static Parameters init(ModelConfig config, long seed, boolean mixedPrecision) {
        Map<String, float[]> v = new LinkedHashMap<>();
        double residual = 0.02 / Math.sqrt(2.0 * config.nLayers());
        for (LlamaWeights.Param p : LlamaWeights.parameters(config)) {
            float[] a = new float[Math.toIntExact(p.size())];
            SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L ^ p.name().hashCode());
            if (p.matrix()) {
                double std = p.name().endsWith("attn_output.weight") || p.name().endsWith("ffn_down.weight") ? residual : 0.02;
                for (int i = 0; i < a.length; i++) a[i] = (float) (std * r.nextGaussian());
            } else if (p.name().endsWith("norm.weight")) {
                java.util.Arrays.fill(a, 1f);
            }
            v.put(p.name(), a);
        }
        return new Parameters(config, v, null, mixedPrecision);
    }

    public ModelConfig config() { return config; }
    public boolean mixedPrecision() { return mixed; }

    /** The entries in {@link LlamaWeights#parameters} order. */
    public List<Entry> entries() {
        return Collections.unmodifiableList(new ArrayList<>(entries.values()));
    }

    public Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) throw new IllegalArgumentException("no parameter " + name);
        return e;
    }

    /** Number of trainable scalars. */
    public long count() {
        long n = 0;
        for (Entry e : entries.values()) n += e.value().length;
        return n;
    }

    /** The weights the model computes with: views of the master arrays, or of the bf16 working copies. */
    public LlamaWeights weights() {
        return LlamaWeights.assemble(config, name -> {
            Entry e = entry(name);
            MemorySegment h = bf16.get(name);
            return h != null ? Tensor.of(name, GGMLType.BF16, h, e.ne()) : Tensor.of(name, GGMLType.F32, MemorySegment.ofArray(e.value()), e.ne());
        }, name -> entry(name).value(), ropeFreqs);
    }

    /**
     * A float32 copy of the master weights in native memory (what is saved, whatever the precision of the working
     * copy; writers that map segments onto byte buffers cannot take the heap arrays' views).
     */
    public LlamaWeights masterCopy() {
        return LlamaWeights.assemble(config, name -> Tensor.ofFloats(name, entry(name).value(), entry(name).ne()),
                name -> entry(name).value().clone(), ropeFreqs);
    }

    /** Llama 3.1's fixed rope frequency factors of the model, or null. */
    public float[] ropeFreqs() { return ropeFreqs; }

    /** Gradients over the gradient arrays. */
    public Gradients gradients() {
        return new Gradients(config, name -> entry(name).grad());
    }

    public void zeroGrad() {
        for (Entry e : entries.values()) java.util.Arrays.fill(e.grad(), 0f);
    }

    /** Zeroes the gradients on the pool's threads. */
    public void zeroGrad(jllm.model.Linear pool) {
        for (Entry e : entries.values()) {
            float[] g = e.grad();
            pool.parallelRange(g.length, (from, to, worker) -> java.util.Arrays.fill(g, from, to, 0f));
        }
    }

    /** Rounds the master matrices into the bf16 working copies (mixed precision; nothing otherwise). */
    public void syncWorkingCopy() {
        for (var e : bf16.entrySet()) {
            float[] v = entries.get(e.getKey()).value();
            MemorySegment s = e.getValue();
            for (int i = 0; i < v.length; i++) s.set(LE_SHORT, 2L * i, Quantize.floatToBf16(v[i]));
        }
    }

    /** Bytes of the master weight arrays, of the bf16 working copies, and of the gradient arrays, as allocated. */
    public long masterBytes() {
        long n = 0;
        for (Entry e : entries.values()) n += (long) e.value().length * Float.BYTES;
        return n;
    }

    public long workingCopyBytes() {
        long n = 0;
        for (MemorySegment s : bf16.values()) n += s.byteSize();
        return n;
    }

    public long gradientBytes() {
        long n = 0;
        for (Entry e : entries.values()) n += (long) e.grad().length * Float.BYTES;
        return n;
    }
}
