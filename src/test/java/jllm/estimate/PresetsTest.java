package jllm.estimate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * Parameter counts computed from each preset's shape against the published totals. Where an exact count is
 * published (the Hugging Face model API's {@code safetensors.total}, KerasHub's preset tables, a model card) the
 * count must match exactly (tolerance 0); where only a rounded figure exists, it must round to it.
 */
class PresetsTest {

    /**
     * Exact published counts.
     * <ul>
     *   <li>gpt2 124,439,808 and gpt2-xl 1,557,611,200: KerasHub GPT-2 presets ("params"), equal to
     *       transformers' GPT2LMHeadModel.num_parameters() for openai-community/gpt2 and gpt2-xl.</li>
     *   <li>bert-base-uncased 109,482,240 and bert-base-cased 108,310,272: transformers' BertModel (with pooler),
     *       as printed by Keras model summaries of TFBertModel ("109482240").</li>
     *   <li>t5-base 222,903,552: KerasHub t5_base preset "12-layer T5 model with 223 million parameters".</li>
     *   <li>llama-2-7b 6,738,415,616: Ollama's general.parameter_count for Llama-2-7B GGUF and KerasHub
     *       llama2_7b_en; llama-2-13b 13,015,864,320 and llama-2-70b 68,976,648,192: the same count from
     *       Llama-2 configs (the HF API's safetensors.total for meta-llama/Llama-2-*-hf is larger by exactly
     *       layers x 64 because those checkpoints also store RoPE's inv_freq buffer: 6,738,417,664 = 6,738,415,616 + 32 x 64).</li>
     *   <li>llama-3-8b 8,030,261,248, llama-3-70b 70,553,706,496, llama-3.1-405b 405,853,388,800: HF model API
     *       safetensors.total of meta-llama/Llama-3.1-8B, -70B, -405B (same shapes as Llama 3).</li>
     *   <li>mistral-7b 7,241,732,096: Ollama general.parameter_count of Mistral 7B (Mistral's announcement: "7.3B").</li>
     *   <li>mixtral-8x7b 46,702,792,704: HF API safetensors.total of mistralai/Mixtral-8x7B-Instruct-v0.1 and
     *       KerasHub mixtral_8_7b_en.</li>
     *   <li>qwen2.5-7b 7,615,616,512: HF API safetensors.total of Qwen/Qwen2.5-7B-Instruct and Ollama's
     *       general.parameter_count ("7.6B").</li>
     * </ul>
     */
    @ParameterizedTest
    @CsvSource({
            "gpt2, 124439808",
            "gpt2-xl, 1557611200",
            "bert-base-uncased, 109482240",
            "bert-base-cased, 108310272",
            "t5-base, 222903552",
            "llama-2-7b, 6738415616",
            "llama-2-13b, 13015864320",
            "llama-2-70b, 68976648192",
            "llama-3-8b, 8030261248",
            "llama-3-70b, 70553706496",
            "llama-3.1-405b, 405853388800",
            "mistral-7b, 7241732096",
            "mixtral-8x7b, 46702792704",
            "qwen2.5-7b, 7615616512"})
    void exactPublishedCounts(String preset, long published) {
        assertThat(Presets.get(preset).params()).isEqualTo(published);
    }

    /** Llama 2 checkpoints on the Hub also hold rotary inv_freq buffers (head_dim / 2 floats per layer). */
    @ParameterizedTest
    @CsvSource({"llama-2-7b, 6738417664", "llama-2-13b, 13015866880", "llama-2-70b, 68976653312"})
    void llama2HubTotalsAreParamsPlusInvFreqBuffers(String preset, long hubSafetensorsTotal) {
        ModelShape s = Presets.get(preset);
        assertThat(s.params() + (long) s.layers() * (s.headDim() / 2)).isEqualTo(hubSafetensorsTotal);
    }

    /**
     * Rounded published figures, each must round to the published digits:
     * GPT-3 175B: Brown et al. 2020, Table 2.1, "175.0B" (174.6B from the shape: the paper's figure is nominal,
     * Narayanan et al. 2021's formula gives the same 174.6B; tolerance 0.3%).
     * MT-NLG: Smith et al. 2022, "530 billion" (529.6B). OPT-13B: Zhang et al. 2022, Table 1, "13B" (12.85B).
     */
    @Test
    void roundedPublishedFigures() {
        assertThat(Presets.get("gpt-3-175b").params() / 1e9).isCloseTo(175.0, within(175.0 * 0.003));
        assertThat(Math.round(Presets.get("mt-nlg-530b").params() / 1e9)).isEqualTo(530);
        assertThat(Math.round(Presets.get("opt-13b").params() / 1e9)).isEqualTo(13);
    }

    /** Mixtral: "each token has access to 47B parameters, but only uses 13B active parameters" (Jiang et al. 2024); Mistral's announcement: 46.7B total, 12.9B per token. */
    @Test
    void mixtralActiveParameters() {
        ModelShape s = Presets.get("mixtral-8x7b");
        assertThat(Math.round(s.activeParams() / 1e8) / 10.0).isEqualTo(12.9);
        assertThat(Math.round(s.params() / 1e8) / 10.0).isEqualTo(46.7);
    }

    /** Qwen2.5-7B model card: "Number of Parameters (Non-Embedding): 6.53B". */
    @Test
    void qwenNonEmbedding() {
        assertThat(Math.round(Presets.get("qwen2.5-7b").nonEmbeddingParams() / 1e7) / 100.0).isEqualTo(6.53);
    }

    @Test
    void unknownPresetNamesTheKnownOnes() {
        assertThatThrownBy(() -> Presets.get("llama-9")).hasMessageContaining("llama-9").hasMessageContaining("llama-2-7b");
    }
}
