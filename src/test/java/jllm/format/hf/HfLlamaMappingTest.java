package jllm.format.hf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;

import org.junit.jupiter.api.Test;

import jllm.model.ModelConfig;

/**
 * config.json to ModelConfig for two published configurations (TinyLlama-1.1B-Chat-v1.0 and Llama-3.2-1B, as they
 * appear on the Hugging Face hub), Llama 3.1 frequency factors against transformers' formulation of the same
 * scaling, the tensor-role table, and refusals that name the key.
 */
class HfLlamaMappingTest {
    static final String TINYLLAMA = """
            {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "bos_token_id": 1, "eos_token_id": 2,
             "hidden_act": "silu", "hidden_size": 2048, "initializer_range": 0.02, "intermediate_size": 5632,
             "max_position_embeddings": 2048, "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 22,
             "num_key_value_heads": 4, "pretraining_tp": 1, "rms_norm_eps": 1e-05, "rope_scaling": null,
             "rope_theta": 10000.0, "tie_word_embeddings": false, "torch_dtype": "bfloat16",
             "transformers_version": "4.35.0", "use_cache": true, "vocab_size": 32000}""";

    static final String LLAMA32_1B = """
            {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
             "bos_token_id": 128000, "eos_token_id": 128001, "head_dim": 64, "hidden_act": "silu", "hidden_size": 2048,
             "initializer_range": 0.02, "intermediate_size": 8192, "max_position_embeddings": 131072, "mlp_bias": false,
             "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 16, "num_key_value_heads": 8,
             "pretraining_tp": 1, "rms_norm_eps": 1e-05,
             "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                              "original_max_position_embeddings": 8192, "rope_type": "llama3"},
             "rope_theta": 500000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
             "transformers_version": "4.45.0.dev0", "use_cache": true, "vocab_size": 128256}""";

    @Test
    void tinyLlama() {
        HfLlamaMapping.Config cfg = HfLlamaMapping.config(HfJson.parse("config.json", TINYLLAMA));
        assertThat(cfg.model()).isEqualTo(new ModelConfig("llama", 2048, 22, 32, 4, 64, 5632, 32000, 2048,
                ModelConfig.RopeType.NEOX, 10000f, 64, 1f, 1e-5f, false, false));
        assertThat(cfg.ropeScaling()).isNull();
        assertThat(cfg.ropeFreqs()).isNull();
    }

    @Test
    void llama32WithLlama3RopeScaling() {
        HfLlamaMapping.Config cfg = HfLlamaMapping.config(HfJson.parse("config.json", LLAMA32_1B));
        assertThat(cfg.model()).isEqualTo(new ModelConfig("llama", 2048, 16, 32, 8, 64, 8192, 128256, 131072,
                ModelConfig.RopeType.NEOX, 500000f, 64, 1f, 1e-5f, false, true));
        assertThat(cfg.ropeScaling()).isEqualTo(new HfLlamaMapping.RopeScaling("llama3", 32, 1, 4, 8192));
        float[] f = cfg.ropeFreqs();
        assertThat(f).hasSize(32);
        // transformers' _compute_llama3_parameters scales the inverse frequencies; the divisor is inv_freq / scaled
        double maxRel = 0;
        for (int j = 0; j < 32; j++) {
            double inv = 1.0 / Math.pow(500000.0, 2.0 * j / 64);
            double wavelen = 2 * Math.PI / inv, lowWl = 8192 / 1.0, highWl = 8192 / 4.0;
            double scaled;
            if (wavelen < highWl) scaled = inv;
            else if (wavelen > lowWl) scaled = inv / 32;
            else {
                double s = (8192 / wavelen - 1) / (4 - 1);
                scaled = (1 - s) * inv / 32 + s * inv;
            }
            maxRel = Math.max(maxRel, Math.abs(f[j] - inv / scaled) / (inv / scaled));
        }
        assertThat(maxRel).as("max relative difference from transformers' formulation").isLessThan(1e-5);
        assertThat(f[0]).isEqualTo(1f);
        assertThat(f[31]).isEqualTo(32f);
        // some pairs are in the smooth band between the two
        int smooth = 0;
        for (float x : f) if (x > 1.5f && x < 31f) smooth++;
        assertThat(smooth).isPositive();
    }

    @Test
    void linearRopeScalingAndDefaults() {
        HfLlamaMapping.Config cfg = HfLlamaMapping.config(HfJson.parse("config.json", """
                {"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 1, "num_attention_heads": 4,
                 "intermediate_size": 96, "vocab_size": 50, "rope_scaling": {"type": "linear", "factor": 4.0}}"""));
        ModelConfig m = cfg.model();
        assertThat(m.ropeFreqScale()).isEqualTo(0.25f);
        assertThat(m.nKvHeads()).isEqualTo(4);
        assertThat(m.headDim()).isEqualTo(16);
        assertThat(m.contextLength()).isEqualTo(2048);
        assertThat(m.normEps()).isEqualTo(1e-6f);
        assertThat(m.ropeTheta()).isEqualTo(10000f);
        assertThat(m.tiedOutput()).isFalse();
        assertThat(cfg.ropeScaling()).isEqualTo(new HfLlamaMapping.RopeScaling("linear", 4, 0, 0, 0));
        // written back, the config reads the same
        HfLlamaMapping.Config again = HfLlamaMapping.config(HfJson.of("config.json", HfLlamaMapping.configJson(cfg, jllm.tensor.GGMLType.F32)));
        assertThat(again.model()).isEqualTo(m);
        assertThat(again.ropeScaling()).isEqualTo(cfg.ropeScaling());
        HfLlamaMapping.Config l3 = HfLlamaMapping.config(HfJson.parse("config.json", LLAMA32_1B));
        HfLlamaMapping.Config l3again = HfLlamaMapping.config(HfJson.of("config.json", HfLlamaMapping.configJson(l3, jllm.tensor.GGMLType.BF16)));
        assertThat(l3again.model()).isEqualTo(l3.model());
        assertThat(l3again.ropeFreqs()).containsExactly(l3.ropeFreqs());
    }

    @Test
    void rolesNameEveryTensorWithItsGgufName() {
        ModelConfig c = HfLlamaMapping.config(HfJson.parse("config.json", TINYLLAMA)).model();
        List<HfTensorRole> roles = HfLlamaMapping.roles(c);
        assertThat(roles).hasSize(2 + 22 * 9 + 1);
        assertThat(roles.get(0)).isEqualTo(new HfTensorRole("model.embed_tokens.weight", "token_embd.weight", new long[] {32000, 2048}, HfTensorRole.Layout.AS_IS, 0));
        assertThat(roles).contains(
                new HfTensorRole("model.layers.21.self_attn.q_proj.weight", "blk.21.attn_q.weight", new long[] {2048, 2048}, HfTensorRole.Layout.ROPE_HALF_SPLIT, 32),
                new HfTensorRole("model.layers.3.self_attn.k_proj.weight", "blk.3.attn_k.weight", new long[] {256, 2048}, HfTensorRole.Layout.ROPE_HALF_SPLIT, 4),
                new HfTensorRole("model.layers.0.mlp.down_proj.weight", "blk.0.ffn_down.weight", new long[] {2048, 5632}, HfTensorRole.Layout.AS_IS, 0),
                new HfTensorRole("lm_head.weight", "output.weight", new long[] {32000, 2048}, HfTensorRole.Layout.AS_IS, 0));
        ModelConfig tied = HfLlamaMapping.config(HfJson.parse("config.json", LLAMA32_1B)).model();
        assertThat(HfLlamaMapping.roles(tied)).noneMatch(r -> r.hfName().equals("lm_head.weight"));
    }

    @Test
    void refusalsNameTheKey() {
        String[][] cases = {
                {TINYLLAMA.replace("\"model_type\": \"llama\"", "\"model_type\": \"mistral\""), "model_type 'mistral' is not llama"},
                {TINYLLAMA.replace("\"hidden_act\": \"silu\"", "\"hidden_act\": \"gelu\""), "hidden_act 'gelu' is not supported"},
                {TINYLLAMA.replace("\"hidden_size\": 2048", "\"hidden_size\": \"2048\""), "'hidden_size' is \"2048\", expected an integer"},
                {TINYLLAMA.replace("\"hidden_size\": 2048", "\"hidden_size\": 2048.5"), "'hidden_size' is 2048.5, expected an integer"},
                {TINYLLAMA.replace("\"vocab_size\": 32000", "\"vocab_size\": 1e30"), "'vocab_size' is 1.0E30"},
                {TINYLLAMA.replace("\"num_key_value_heads\": 4", "\"num_key_value_heads\": 5"), "head_count 32 is not a multiple of head_count_kv 5"},
                {TINYLLAMA.replace("\"hidden_size\": 2048", "\"hidden_size\": 2050"), "hidden_size 2050 is not a multiple of num_attention_heads 32"},
                {TINYLLAMA.replace("\"rope_scaling\": null", "\"rope_scaling\": {\"type\": \"yarn\", \"factor\": 4}"), "rope_scaling type 'yarn' is not supported"},
                {TINYLLAMA.replace("\"rope_scaling\": null", "\"rope_scaling\": {\"type\": \"linear\", \"factor\": -1}"), "'rope_scaling.factor' = -1.0 must be positive"},
                {TINYLLAMA.replace("\"rope_scaling\": null", "\"rope_scaling\": {\"type\": \"linear\", \"factor\": \"x\"}"), "'rope_scaling.factor' is \"x\", expected a number"},
                {TINYLLAMA.replace("\"rope_theta\": 10000.0", "\"rope_theta\": -1"), "rope base"},
                {TINYLLAMA.replace("\"num_hidden_layers\": 22,", ""), "missing 'num_hidden_layers'"},
                {TINYLLAMA.replace("\"attention_bias\": false", "\"attention_bias\": \"no\""), "'attention_bias' is \"no\", expected true or false"},
                {TINYLLAMA.replace("\"attention_bias\": false", "\"mlp_bias\": true"), "mlp_bias = true is not supported"},
        };
        for (String[] c : cases) {
            assertThatThrownBy(() -> HfLlamaMapping.config(HfJson.parse("config.json", c[0]))).as(c[1])
                    .isInstanceOf(HfFormatException.class).hasMessageStartingWith("config.json: ").hasMessageContaining(c[1]);
        }
        assertThatThrownBy(() -> HfJson.parse("config.json", "{\"a\": 1,}")).isInstanceOf(HfFormatException.class)
                .hasMessageStartingWith("config.json: not valid JSON");
        assertThat(HfLlamaMapping.config(HfJson.parse("config.json", TINYLLAMA.replace("\"rope_theta\": 10000.0", "\"rope_theta\": 10000"))).model().ropeTheta())
                .isCloseTo(10000f, within(0f));
    }
}
