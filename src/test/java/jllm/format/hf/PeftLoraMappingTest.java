package jllm.format.hf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import jllm.model.KvCache;
import jllm.model.Linear;
import jllm.model.LlamaModel;
import jllm.model.LlamaWeights;
import jllm.model.LoRA;
import jllm.model.LoRAInit;
import jllm.model.ModelConfig;
import jllm.model.Projection;
import jllm.tensor.GGMLType;
import jllm.tensor.Tensor;

/**
 * PEFT module names to jllm's adapted projections and back (reference/peft/make_adapters.py's fixtures): a LLaMA
 * adapter on q_proj and v_proj applied to a GGUF-layout model (interleaved RoPE, B's q rows permuted here) gives
 * the logits of the same adapter applied unpermuted to the Hugging Face-layout model (half-split RoPE, q/k weight
 * rows permuted by {@link RopePermutation}), within 2e-6 of the largest logit; reading and writing back returns the
 * file's values bit for bit in both layouts; GPT-2's fused c_attn is one module over Q, K and V; target_modules
 * selects modules as PEFT does; a module the model lacks is refused by name.
 */
class PeftLoraMappingTest {
    static final int[] TOKENS = {1, 5, 9, 2, 33, 17, 4, 0, 21};

    static float[] logits(ModelConfig c, LlamaWeights w, LoRA lora) {
        try (Linear linear = new Linear(2)) {
            LlamaModel m = new LlamaModel(c, w, linear, lora);
            return m.forward(TOKENS, 0, TOKENS.length, 0, new KvCache(c, TOKENS.length), m.newState(4), true);
        }
    }

    @Test
    void aPeftLlamaAdapterGivesTheSameLogitsOnGgufAndHuggingFaceLayouts() throws IOException {
        LoraAdapter ad = PeftAdapter.read(PeftAdapterTest.resource("llama-lora"));
        ModelConfig gguf = RandomLlama.config(false, false, ModelConfig.RopeType.NORM);
        ModelConfig hf = gguf.withRopeType(ModelConfig.RopeType.NEOX);
        LlamaWeights wg = RandomLlama.weights(gguf, GGMLType.F32, 5, null);
        int n = gguf.nLayers();
        Tensor[] wq = new Tensor[n], wk = new Tensor[n];
        for (int l = 0; l < n; l++) {
            wq[l] = RopePermutation.ggufToHf(wg.wq()[l], gguf.nHeads());
            wk[l] = RopePermutation.ggufToHf(wg.wk()[l], gguf.nKvHeads());
        }
        LlamaWeights wh = new LlamaWeights(wg.tokenEmbedding(), wg.attnNorm(), wq, wk, wg.wv(), wg.wo(), null, null, null,
                wg.ffnNorm(), wg.wGate(), wg.wUp(), wg.wDown(), wg.outputNorm(), wg.output(), null);

        LoRA onGguf = PeftLoraMapping.toModel(ad, gguf, false), onHf = PeftLoraMapping.toModel(ad, hf, false);
        assertThat(onHf.b("blk.0.attn_q")).containsExactly(ad.target("model.layers.0.self_attn.q_proj").b());
        assertThat(onGguf.b("blk.0.attn_q")).isNotEqualTo(onHf.b("blk.0.attn_q"));
        assertThat(onGguf.b("blk.1.attn_v")).containsExactly(onHf.b("blk.1.attn_v")); // v rows are not rotated
        float[] base = logits(hf, wh, null), a = logits(gguf, wg, onGguf), b = logits(hf, wh, onHf);
        double max = 0, diff = 0, moved = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(b[i]));
            diff = Math.max(diff, Math.abs(a[i] - b[i]));
            moved = Math.max(moved, Math.abs(b[i] - base[i]));
        }
        System.out.printf("PEFT llama adapter: GGUF vs HF layout logits max diff %.2e (max |logit| %.2f, moved by %.2f)%n", diff, max, moved);
        assertThat(moved).isGreaterThan(0.1);
        assertThat(diff).isLessThanOrEqualTo(2e-6 * max);

        // and back: the file's values bit for bit, from either layout
        for (LoRA l : new LoRA[] {onGguf, onHf}) {
            LoraAdapter back = PeftLoraMapping.fromModel(l, ad.config());
            assertThat(back.targets().keySet()).containsExactlyElementsOf(ad.targets().keySet());
            for (LoraAdapter.Target t : ad.targets().values()) {
                assertThat(back.target(t.module()).a()).containsExactly(t.a());
                assertThat(back.target(t.module()).b()).containsExactly(t.b());
            }
            assertThat(back.config()).isEqualTo(ad.config());
        }
    }

    @Test
    void gpt2sFusedCAttnIsOneModuleOverQueryKeyAndValue() throws IOException {
        LoraAdapter ad = PeftAdapter.read(PeftAdapterTest.resource("gpt2-lora"));
        ModelConfig c = ModelConfig.gpt2(8, 2, 2, 32, 20, 16);
        LoRA lora = PeftLoraMapping.toModel(ad, c, false);
        assertThat(lora.modules()).extracting(LoRA.Module::name).containsExactly("blk.0.attn_qkv", "blk.1.attn_qkv");
        LoraAdapter.Target t = ad.target("transformer.h.1.attn.c_attn");
        // B (24, r): rows 0..7 are Q's, 8..15 K's, 16..23 V's, all with the one A
        float[] bk = lora.get(1, Projection.K).b();
        for (int i = 0; i < bk.length; i++) assertThat(bk[i]).isEqualTo(t.b()[8 * t.r() + i]);
        assertThat(lora.get(1, Projection.V).a()).isSameAs(lora.get(1, Projection.Q).a()).containsExactly(t.a());
        LoraAdapter back = PeftLoraMapping.fromModel(lora, ad.config());
        assertThat(back.target("transformer.h.1.attn.c_attn").b()).containsExactly(t.b());
        assertThat(back.config().fanInFanOut()).isTrue();
        // the delta of each part is its rows of scaling * B A
        float[] full = t.delta(ad.config().scaling()), dv = lora.get(1, Projection.V).delta();
        for (int i = 0; i < dv.length; i++) assertThat(dv[i]).isCloseTo(full[16 * 8 + i], org.assertj.core.data.Offset.offset(1e-6f));
    }

    @Test
    void targetModulesSelectModulesAsPeftDoes() {
        ModelConfig gpt2 = ModelConfig.gpt2(8, 2, 2, 32, 20, 16);
        assertThat(PeftLoraMapping.select(gpt2, PeftLoraConfig.of(2, 4, List.of("c_proj"))))
                .containsExactly("transformer.h.0.attn.c_proj", "transformer.h.0.mlp.c_proj", "transformer.h.1.attn.c_proj", "transformer.h.1.mlp.c_proj");
        assertThat(PeftLoraMapping.select(gpt2, PeftLoraConfig.of(2, 4, List.of("attn.c_proj", "c_fc"))))
                .containsExactly("transformer.h.0.attn.c_proj", "transformer.h.0.mlp.c_fc", "transformer.h.1.attn.c_proj", "transformer.h.1.mlp.c_fc");
        PeftLoraConfig regex = new PeftLoraConfig(2, 4, List.of(".*\\.1\\.mlp\\.c_.*"), true, 0, "none", null, null, false, false);
        assertThat(PeftLoraMapping.select(gpt2, regex)).containsExactly("transformer.h.1.mlp.c_fc", "transformer.h.1.mlp.c_proj");
        ModelConfig llama = RandomLlama.config(false, false, ModelConfig.RopeType.NORM);
        assertThat(PeftLoraMapping.select(llama, PeftLoraConfig.of(2, 4, List.of("q_proj", "down_proj"))))
                .containsExactly("model.layers.0.self_attn.q_proj", "model.layers.0.mlp.down_proj",
                        "model.layers.1.self_attn.q_proj", "model.layers.1.mlp.down_proj");
        assertThatThrownBy(() -> PeftLoraMapping.select(llama, PeftLoraConfig.of(2, 4, List.of("q_proj", "c_attn"))))
                .hasMessageContaining("'c_attn' matches no module").hasMessageContaining("q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj");
        LoRA fresh = PeftLoraMapping.init(llama, PeftLoraConfig.of(4, 8, List.of("v_proj", "gate_proj")), LoRAInit.GAUSSIAN, 1);
        assertThat(fresh.modules()).extracting(LoRA.Module::name).containsExactly("blk.0.attn_v", "blk.0.ffn_gate", "blk.1.attn_v", "blk.1.ffn_gate");
        assertThat(fresh.scaling()).isEqualTo(2.0);
        assertThat(fresh.parameterCount()).isEqualTo(2L * 4 * ((32 + 16) + (32 + 48)));
    }

    @Test
    void modulesTheModelLacksOrOfOtherWidthsAreRefused() {
        ModelConfig llama = RandomLlama.config(false, false, ModelConfig.RopeType.NORM);
        PeftLoraConfig cfg = PeftLoraConfig.of(2, 4, List.of("q_proj"));
        LoraAdapter far = new LoraAdapter(cfg, Map.of("model.layers.7.self_attn.q_proj",
                new LoraAdapter.Target("model.layers.7.self_attn.q_proj", 2, 32, 32, new float[64], new float[64])));
        assertThatThrownBy(() -> PeftLoraMapping.toModel(far, llama, false)).hasMessageContaining("'model.layers.7.self_attn.q_proj' is not a projection of this 2-layer llama model");
        LoraAdapter wide = new LoraAdapter(cfg, Map.of("model.layers.0.self_attn.q_proj",
                new LoraAdapter.Target("model.layers.0.self_attn.q_proj", 2, 64, 32, new float[128], new float[64])));
        assertThatThrownBy(() -> PeftLoraMapping.toModel(wide, llama, false)).hasMessageContaining("maps 64 -> 32 features but the model's blk.0.attn_q maps 32 -> 32");
    }
}
