package jllm.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

import jllm.tensor.Tensor;

/**
 * A LoRA adapter attached to a model (Hu et al. 2021): a {@link LoRALinear} for some of the projections of some
 * blocks, applied by {@link LlamaModel}'s one forward right after each adapted projection's base product, and trained
 * by its backward while the base weights stay frozen.
 *
 * <p>The adapter is made of modules, each one adapted layer of the original checkpoint with one A (r, in) and one B
 * (out, r): usually one projection ({@code blk.N.attn_q}), but GPT-2's fused {@code c_attn} is one module whose B
 * rows are the Q, K and V projections' outputs in that order ({@code blk.N.attn_qkv}); its parts share A.
 * <pre>
 *   module  name (GGUF role of the adapted weight, without ".weight"), layer, parts (projections, rows stacked in B)
 *   A       (r, in)  named name + ".lora_a"         B part p  (out_p, r)  named "blk.N." + role_p + ".lora_b"
 *   scaling = alpha / r (or alpha / sqrt(r), rsLoRA)    dropout p on the input of every module, in training
 * </pre>
 */
public final class LoRA {
    /** One adapted layer of the checkpoint: its name, its block, and the projections whose rows its B stacks. */
    public record Module(String name, int layer, List<Projection> parts) {
        public Module {
            Objects.requireNonNull(name);
            parts = List.copyOf(parts);
            if (parts.isEmpty()) throw new IllegalArgumentException("module " + name + " adapts no projection");
        }

        /** A module adapting one projection, named by its GGUF role: {@code blk.N.attn_q}. */
        public static Module of(int layer, Projection p) {
            return new Module("blk." + layer + "." + p.ggufRole(), layer, List.of(p));
        }

        /** Input features (the parts share their input). */
        public int in(ModelConfig c) {
            int in = parts.get(0).in(c);
            for (Projection p : parts) {
                if (p.in(c) != in) throw new IllegalArgumentException("module " + name + " stacks projections of different inputs: " + parts);
            }
            return in;
        }

        /** Output features: the parts' outputs stacked. */
        public int out(ModelConfig c) {
            int n = 0;
            for (Projection p : parts) n += p.out(c);
            return n;
        }
    }

    /** A trainable array: its name, values, gradient and shape (GGML order: ne[0] columns). */
    public record Param(String name, float[] value, float[] grad, long[] ne) {}

    private final ModelConfig config;
    private final int rank;
    private final double scaling, dropout;
    private final List<Module> modules;
    private final Map<String, LoRALinear[]> byModule = new LinkedHashMap<>();
    private final LoRALinear[][] byLayer; // [layer][projection ordinal], null where not adapted
    private final boolean trainable;
    private long dropoutSeed;

    /**
     * An adapter with the given matrices.
     *
     * @param a         per module name, A (r, in) row-major (kept, not copied)
     * @param b         per module name, B (out, r) row-major, parts stacked (copied into one array per part)
     * @param trainable whether to allocate gradients (a trained adapter) or not (an applied one)
     */
    public LoRA(ModelConfig config, List<Module> modules, int rank, double scaling, double dropout,
                Map<String, float[]> a, Map<String, float[]> b, boolean trainable) {
        this.config = Objects.requireNonNull(config);
        if (rank <= 0) throw new IllegalArgumentException("LoRA rank " + rank + " must be positive");
        if (modules.isEmpty()) throw new IllegalArgumentException("a LoRA adapter needs at least one module");
        this.rank = rank;
        this.scaling = scaling;
        this.dropout = dropout;
        this.modules = List.copyOf(modules);
        this.trainable = trainable;
        this.byLayer = new LoRALinear[config.nLayers()][Projection.values().length];
        for (Module m : this.modules) {
            if (m.layer() < 0 || m.layer() >= config.nLayers()) {
                throw new IllegalArgumentException("module " + m.name() + ": layer " + m.layer() + " is not in [0, " + config.nLayers() + ")");
            }
            if (byModule.containsKey(m.name())) throw new IllegalArgumentException("module " + m.name() + " is given twice");
            int in = m.in(config), out = m.out(config);
            float[] am = a.get(m.name()), bm = b.get(m.name());
            if (am == null || bm == null) throw new IllegalArgumentException("module " + m.name() + " has no A or no B");
            if (am.length != (long) rank * in) {
                throw new IllegalArgumentException(m.name() + ": A has " + am.length + " values, expected r x in = " + rank + " x " + in);
            }
            if (bm.length != (long) out * rank) {
                throw new IllegalArgumentException(m.name() + ": B has " + bm.length + " values, expected out x r = " + out + " x " + rank);
            }
            float[] gradA = trainable ? new float[am.length] : null;
            LoRALinear[] parts = new LoRALinear[m.parts().size()];
            int row = 0;
            for (int i = 0; i < parts.length; i++) {
                Projection p = m.parts().get(i);
                if (!p.exists(config)) throw new IllegalArgumentException("module " + m.name() + ": blocks of this model have no " + p.ggufRole());
                if (byLayer[m.layer()][p.ordinal()] != null) {
                    throw new IllegalArgumentException("blk." + m.layer() + "." + p.ggufRole() + " is adapted by two modules");
                }
                int rows = p.out(config);
                float[] bp = java.util.Arrays.copyOfRange(bm, row * rank, (row + rows) * rank);
                row += rows;
                parts[i] = new LoRALinear(m.layer(), p, rank, in, rows, m.name() + ".lora_a", am, gradA,
                        "blk." + m.layer() + "." + p.ggufRole() + ".lora_b", bp, trainable ? new float[bp.length] : null, scaling, dropout);
                byLayer[m.layer()][p.ordinal()] = parts[i];
            }
            byModule.put(m.name(), parts);
        }
    }

    /** A new trainable adapter: each module's A drawn by {@code init} (seeded by seed and the module name), B zero. */
    public static LoRA init(ModelConfig c, List<Module> modules, int rank, double scaling, double dropout, LoRAInit init, long seed) {
        Map<String, float[]> a = new LinkedHashMap<>(), b = new LinkedHashMap<>();
        for (Module m : modules) {
            SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L ^ m.name().hashCode());
            a.put(m.name(), init.a(rank, m.in(c), rng));
            b.put(m.name(), new float[Math.multiplyExact(m.out(c), rank)]);
        }
        return new LoRA(c, modules, rank, scaling, dropout, a, b, true);
    }

    /** A trainable copy of this adapter's values (for --init-adapter). */
    public LoRA trainableCopy() {
        Map<String, float[]> a = new LinkedHashMap<>(), b = new LinkedHashMap<>();
        for (Module m : modules) {
            a.put(m.name(), a(m.name()).clone());
            b.put(m.name(), b(m.name()));
        }
        return new LoRA(config, modules, rank, scaling, dropout, a, b, true);
    }

    public ModelConfig config() { return config; }
    public int rank() { return rank; }
    public double scaling() { return scaling; }
    public double dropout() { return dropout; }
    public List<Module> modules() { return modules; }
    public boolean trainable() { return trainable; }

    /** The LoRA of layer l's projection p, or null. */
    public LoRALinear get(int l, Projection p) {
        return byLayer[l][p.ordinal()];
    }

    /** Every adapted projection, module by module. */
    public List<LoRALinear> linears() {
        List<LoRALinear> all = new ArrayList<>();
        for (LoRALinear[] parts : byModule.values()) Collections.addAll(all, parts);
        return all;
    }

    /** The lowest adapted layer: a backward with a frozen base need not go below it. */
    public int lowestLayer() {
        int low = Integer.MAX_VALUE;
        for (Module m : modules) low = Math.min(low, m.layer());
        return low;
    }

    /** Module {@code name}'s A (r, in), the live array. */
    public float[] a(String module) {
        return parts(module)[0].a();
    }

    /** Module {@code name}'s B (out, r) with its parts' rows stacked (a copy). */
    public float[] b(String module) {
        return stack(parts(module), false);
    }

    /** Module {@code name}'s dL/dA (r, in), the live array (trainable adapters only). */
    public float[] gradA(String module) {
        if (!trainable) throw new IllegalStateException("this adapter was loaded to be applied, not trained");
        return parts(module)[0].gradA();
    }

    /** Module {@code name}'s dL/dB (out, r), its parts' rows stacked (a copy; trainable adapters only). */
    public float[] gradB(String module) {
        if (!trainable) throw new IllegalStateException("this adapter was loaded to be applied, not trained");
        return stack(parts(module), true);
    }

    private static float[] stack(LoRALinear[] parts, boolean grad) {
        int n = 0;
        for (LoRALinear p : parts) n += p.b().length;
        float[] b = new float[n];
        int off = 0;
        for (LoRALinear p : parts) {
            float[] src = grad ? p.gradB() : p.b();
            System.arraycopy(src, 0, b, off, src.length);
            off += src.length;
        }
        return b;
    }

    private LoRALinear[] parts(String module) {
        LoRALinear[] p = byModule.get(module);
        if (p == null) throw new IllegalArgumentException("the adapter has no module " + module);
        return p;
    }

    /** The trainable arrays, each once (a shared A once), module by module: A, then the B of each part. */
    public List<Param> parameters() {
        if (!trainable) throw new IllegalStateException("this adapter was loaded to be applied, not trained");
        List<Param> out = new ArrayList<>();
        Map<float[], Boolean> seen = new IdentityHashMap<>();
        for (LoRALinear l : linears()) {
            if (seen.put(l.a(), Boolean.TRUE) == null) out.add(new Param(l.nameA(), l.a(), l.gradA(), new long[] {l.in(), l.rank()}));
            out.add(new Param(l.nameB(), l.b(), l.gradB(), new long[] {l.rank(), l.out()}));
        }
        return out;
    }

    /** Trainable scalars: r (in + out) per module. */
    public long parameterCount() {
        long n = 0;
        for (Module m : modules) n += jllm.sizes.Sizes.loraParams(rank, m.in(config), m.out(config));
        return n;
    }

    public void zeroGrad() {
        for (Param p : parameters()) java.util.Arrays.fill(p.grad(), 0f);
    }

    /** The seed of the dropout masks of the next forward and its backward (one per micro-batch). */
    public void dropoutSeed(long seed) {
        this.dropoutSeed = seed;
    }

    public long dropoutSeed() { return dropoutSeed; }

    /** Working buffers for {@code rows} rows at once (training: also the backward's, and dropout's when trained). */
    public LoRALinear.Scratch newScratch(int rows, boolean training) {
        return new LoRALinear.Scratch(rows, maxIn(), maxOut(), rank, training, trainable && dropout > 0);
    }

    /** The widest input of an adapted projection. */
    public int maxIn() {
        int n = 0;
        for (LoRALinear l : linears()) n = Math.max(n, l.in());
        return n;
    }

    /** The widest output of an adapted projection (one part of a fused module). */
    public int maxOut() {
        int n = 0;
        for (LoRALinear l : linears()) n = Math.max(n, l.out());
        return n;
    }

    /**
     * The merged weights W' = W + scaling B A for every adapted projection (float32 copies; the base's other
     * tensors are shared, not copied). The base is not changed.
     */
    public LlamaWeights merge(LlamaWeights w) {
        w.validate(config);
        return new LlamaWeights(w.tokenEmbedding(), w.positionEmbedding(), w.attnNorm(), w.attnNormBias(),
                merged(w, Projection.Q), merged(w, Projection.K), merged(w, Projection.V), merged(w, Projection.O),
                w.bq(), w.bk(), w.bv(), w.bo(), w.ffnNorm(), w.ffnNormBias(),
                w.wGate() == null ? null : merged(w, Projection.GATE), merged(w, Projection.UP), merged(w, Projection.DOWN),
                w.bGate(), w.bUp(), w.bDown(), w.outputNorm(), w.outputNormBias(), w.output(), w.ropeFreqs());
    }

    private Tensor[] merged(LlamaWeights w, Projection p) {
        Tensor[] out = new Tensor[config.nLayers()];
        for (int l = 0; l < out.length; l++) {
            Tensor base = p.weight(w, l);
            LoRALinear lora = get(l, p);
            out[l] = lora == null ? base : Tensor.ofFloats(base.name(), mergedValues(base, lora), base.ne());
        }
        return out;
    }

    /** W + scaling B A as floats (W dequantized), in (out, in) row-major order. */
    public static float[] mergedValues(Tensor base, LoRALinear lora) {
        if (base.rows() != lora.out() || base.cols() != lora.in()) {
            throw new IllegalArgumentException(base.name() + " is " + base.rows() + " x " + base.cols() + " but its LoRA is "
                    + lora.out() + " x " + lora.in());
        }
        float[] v = base.toFloatArray();
        float[] d = lora.delta();
        for (int i = 0; i < v.length; i++) v[i] += d[i];
        return v;
    }

    /** Bytes of the adapter's values and (when trainable) gradients. */
    public long bytes() {
        long n = 0;
        Map<float[], Boolean> seen = new IdentityHashMap<>();
        for (LoRALinear l : linears()) {
            for (float[] x : new float[][] {l.a(), l.b(), l.gradA(), l.gradB()}) {
                if (x != null && seen.put(x, Boolean.TRUE) == null) n += x.length;
            }
        }
        return n * Float.BYTES;
    }
}
