package jllm.format.hf;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import jllm.model.LoRA;
import jllm.model.LoRAInit;
import jllm.model.ModelConfig;
import jllm.model.Projection;

/**
 * The one place where PEFT's LoRA module names (paths in the Hugging Face model) are mapped to jllm's adapted
 * projections ({@link LoRA.Module}), in both directions, with every layout change written here.
 * <pre>
 *   LLaMA / Qwen2 (LlamaForCausalLM, Qwen2ForCausalLM)     GPT-2 (GPT2LMHeadModel; "transformer." optional on reading)
 *   model.layers.N.self_attn.q_proj -> blk.N.attn_q         transformer.h.N.attn.c_attn  -> blk.N.attn_qkv = Q, K, V rows
 *   model.layers.N.self_attn.k_proj -> blk.N.attn_k         transformer.h.N.attn.c_proj  -> blk.N.attn_output
 *   model.layers.N.self_attn.v_proj -> blk.N.attn_v         transformer.h.N.mlp.c_fc     -> blk.N.ffn_up
 *   model.layers.N.self_attn.o_proj -> blk.N.attn_output    transformer.h.N.mlp.c_proj   -> blk.N.ffn_down
 *   model.layers.N.mlp.gate_proj    -> blk.N.ffn_gate
 *   model.layers.N.mlp.up_proj      -> blk.N.ffn_up
 *   model.layers.N.mlp.down_proj    -> blk.N.ffn_down
 * </pre>
 * Layouts: PEFT's lora_A is (r, in) and lora_B (out, r) for nn.Linear and for GPT-2's Conv1D alike (PEFT takes
 * in, out = the Conv1D weight's shape and sets fan_in_fan_out), so in jllm's (out, in) rows the update is
 * scaling B A either way; c_attn's B stacks the Q, K and V rows (its output order). B's rows of q_proj and k_proj
 * are in Hugging Face's half-split RoPE layout; a model running GGUF's interleaved layout
 * ({@link ModelConfig.RopeType#NORM}, GGUF {@code llama} files) gets them permuted with {@link RopePermutation}, and
 * back when saved.
 *
 * <p>Which modules a config's {@code target_modules} adapts follows PEFT's {@code check_target_module_exists}
 * (peft/tuners/tuners_utils.py): a list entry matches a module path equal to it or ending in "." + it (so
 * {@code c_proj} adapts both of GPT-2's); a single string is a regular expression the whole path must match.
 */
public final class PeftLoraMapping {
    private PeftLoraMapping() {}

    /** The GPT-2 checkpoint prefix of GPT2LMHeadModel (a bare GPT2Model has none). */
    static final String GPT2_PREFIX = "transformer.";

    /** Every module of config c that LoRA can adapt, by PEFT module path, in layer order. */
    public static Map<String, LoRA.Module> modules(ModelConfig c) {
        Map<String, LoRA.Module> m = new LinkedHashMap<>();
        boolean gpt2 = c.architecture().equals("gpt2");
        for (int l = 0; l < c.nLayers(); l++) {
            if (gpt2) {
                String h = GPT2_PREFIX + "h." + l + ".";
                m.put(h + "attn.c_attn", new LoRA.Module("blk." + l + ".attn_qkv", l, List.of(Projection.Q, Projection.K, Projection.V)));
                m.put(h + "attn.c_proj", LoRA.Module.of(l, Projection.O));
                m.put(h + "mlp.c_fc", LoRA.Module.of(l, Projection.UP));
                m.put(h + "mlp.c_proj", LoRA.Module.of(l, Projection.DOWN));
            } else {
                String h = "model.layers." + l + ".";
                m.put(h + "self_attn.q_proj", LoRA.Module.of(l, Projection.Q));
                m.put(h + "self_attn.k_proj", LoRA.Module.of(l, Projection.K));
                m.put(h + "self_attn.v_proj", LoRA.Module.of(l, Projection.V));
                m.put(h + "self_attn.o_proj", LoRA.Module.of(l, Projection.O));
                if (Projection.GATE.exists(c)) m.put(h + "mlp.gate_proj", LoRA.Module.of(l, Projection.GATE));
                m.put(h + "mlp.up_proj", LoRA.Module.of(l, Projection.UP));
                m.put(h + "mlp.down_proj", LoRA.Module.of(l, Projection.DOWN));
            }
        }
        return m;
    }

    /** The names target_modules can use for config c's architecture (the last part of each module path). */
    public static List<String> targetNames(ModelConfig c) {
        List<String> names = new ArrayList<>();
        for (String path : modules(c).keySet()) {
            String n = path.substring(path.lastIndexOf('.') + 1);
            if (!names.contains(n)) names.add(n);
        }
        return names;
    }

    /**
     * The module paths PEFT adapts for {@code cfg}'s target_modules, in layer order; a listed name that matches no
     * module, or a regex that matches none, is an error naming the names this architecture has.
     */
    public static List<String> select(ModelConfig c, PeftLoraConfig cfg) {
        Map<String, LoRA.Module> all = modules(c);
        List<String> out = new ArrayList<>();
        if (cfg.targetModulesIsRegex()) {
            Pattern p = Pattern.compile(cfg.targetModules().get(0));
            for (String path : all.keySet()) if (p.matcher(path).matches()) out.add(path);
            if (out.isEmpty()) throw new IllegalArgumentException("target_modules regex '" + p + "' matches no module of this "
                    + c.architecture() + " model (e.g. " + all.keySet().iterator().next() + ")");
            return out;
        }
        for (String t : cfg.targetModules()) {
            boolean any = false;
            for (String path : all.keySet()) any |= matches(path, t);
            if (!any) {
                throw new IllegalArgumentException("LoRA target '" + t + "' matches no module of this " + c.architecture()
                        + " model (targets: " + String.join(", ", targetNames(c)) + ")");
            }
        }
        for (String path : all.keySet()) {
            for (String t : cfg.targetModules()) {
                if (matches(path, t)) {
                    out.add(path);
                    break;
                }
            }
        }
        return out;
    }

    private static boolean matches(String path, String target) {
        return path.equals(target) || path.endsWith("." + target);
    }

    /** A new trainable adapter for cfg's targets: A drawn by {@code init}, B zero; scaling and dropout from cfg. */
    public static LoRA init(ModelConfig c, PeftLoraConfig cfg, LoRAInit init, long seed) {
        Map<String, LoRA.Module> all = modules(c);
        List<LoRA.Module> mods = new ArrayList<>();
        for (String path : select(c, cfg)) mods.add(all.get(path));
        return LoRA.init(c, mods, cfg.r(), cfg.scaling(), cfg.loraDropout(), init, seed);
    }

    /**
     * The adapter attached to a model of config c: every target's module path must be one of c's modules (GPT-2's with
     * or without "transformer.") with A (r, in) and B (out, r) of that module's widths.
     *
     * @param trainable allocate gradients (training from this adapter) or not (applying it)
     */
    public static LoRA toModel(LoraAdapter adapter, ModelConfig c, boolean trainable) {
        Map<String, LoRA.Module> all = modules(c);
        boolean gpt2 = c.architecture().equals("gpt2");
        List<LoRA.Module> mods = new ArrayList<>();
        Map<String, float[]> a = new LinkedHashMap<>(), b = new LinkedHashMap<>();
        for (LoraAdapter.Target t : adapter.targets().values()) {
            String path = gpt2 && !t.module().startsWith(GPT2_PREFIX) ? GPT2_PREFIX + t.module() : t.module();
            LoRA.Module m = all.get(path);
            if (m == null) {
                throw new IllegalArgumentException("adapter module '" + t.module() + "' is not a projection of this " + c.nLayers()
                        + "-layer " + c.architecture() + " model (targets: " + String.join(", ", targetNames(c)) + ")");
            }
            if (t.in() != m.in(c) || t.out() != m.out(c)) {
                throw new IllegalArgumentException("adapter module '" + t.module() + "' maps " + t.in() + " -> " + t.out()
                        + " features but the model's " + m.name() + " maps " + m.in(c) + " -> " + m.out(c));
            }
            mods.add(m);
            a.put(m.name(), t.a().clone());
            b.put(m.name(), ropeRows(c, m, t.b(), t.r(), true));
        }
        PeftLoraConfig cfg = adapter.config();
        return new LoRA(c, mods, cfg.r(), cfg.scaling(), cfg.loraDropout(), a, b, trainable);
    }

    /**
     * The adapter as PEFT stores it, with {@code cfg} as its config (its r must be the adapter's; GPT-2 gets
     * fan_in_fan_out, as PEFT sets it for Conv1D).
     */
    public static LoraAdapter fromModel(LoRA lora, PeftLoraConfig cfg) {
        ModelConfig c = lora.config();
        if (cfg.r() != lora.rank()) throw new IllegalArgumentException("config r " + cfg.r() + " differs from the adapter's rank " + lora.rank());
        Map<String, String> pathOf = new LinkedHashMap<>();
        modules(c).forEach((path, m) -> pathOf.put(m.name(), path));
        Map<String, LoraAdapter.Target> targets = new LinkedHashMap<>();
        for (LoRA.Module m : lora.modules()) {
            String path = pathOf.get(m.name());
            if (path == null) throw new IllegalArgumentException("module " + m.name() + " has no PEFT name in a " + c.architecture() + " model");
            float[] b = ropeRows(c, m, lora.b(m.name()), lora.rank(), false);
            targets.put(path, new LoraAdapter.Target(path, lora.rank(), m.in(c), m.out(c), lora.a(m.name()).clone(), b));
        }
        boolean gpt2 = c.architecture().equals("gpt2");
        PeftLoraConfig out = new PeftLoraConfig(cfg.r(), cfg.loraAlpha(), cfg.targetModules(), cfg.targetModulesIsRegex(),
                cfg.loraDropout(), cfg.bias(), cfg.taskType(), cfg.baseModelNameOrPath(), gpt2 || cfg.fanInFanOut(), cfg.useRslora());
        return new LoraAdapter(out, targets);
    }

    /**
     * B's rows of the q and k parts of a module permuted between Hugging Face's half-split RoPE layout and GGUF's
     * interleaved one when the model runs the interleaved layout (NORM); a copy otherwise unchanged.
     */
    static float[] ropeRows(ModelConfig c, LoRA.Module m, float[] b, int r, boolean toModel) {
        float[] out = b.clone();
        if (c.positions() != ModelConfig.Positions.ROPE || c.ropeType() != ModelConfig.RopeType.NORM) return out;
        int row = 0;
        for (Projection p : m.parts()) {
            int rows = p.out(c);
            if (p == Projection.Q || p == Projection.K) {
                int heads = p == Projection.Q ? c.nHeads() : c.nKvHeads();
                float[] part = java.util.Arrays.copyOfRange(b, row * r, (row + rows) * r);
                float[] moved = toModel ? RopePermutation.hfToGguf(part, r, heads) : RopePermutation.ggufToHf(part, r, heads);
                System.arraycopy(moved, 0, out, row * r, moved.length);
            }
            row += rows;
        }
        return out;
    }
}
