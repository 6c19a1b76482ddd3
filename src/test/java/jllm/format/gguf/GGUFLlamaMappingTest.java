package jllm.format.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import jllm.model.LlamaWeights;
import jllm.model.ModelConfig;
import jllm.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Writing a model with {@link GGUFLlamaMapping#writer} and loading it back gives the same config and bit-identical
 * weights, for llama, qwen2 and gpt2 files (gpt2 with llama.cpp's fused attn_qkv) and for choices the architecture
 * does not imply (ALiBi, sinusoidal positions, NEOX RoPE in a llama file), which travel as jllm.* keys.
 */
class GGUFLlamaMappingTest {
    @TempDir Path tmp;

    static Stream<ModelConfig> configs() {
        ModelConfig llama = ModelConfig.llama(16, 2, 4, 2, 24, 13, 32);
        ModelConfig gpt2 = ModelConfig.gpt2(16, 2, 4, 32, 13, 32);
        return Stream.of(llama, llama.withTiedOutput(true), llama.withPositions(ModelConfig.Positions.ALIBI),
                llama.withRopeType(ModelConfig.RopeType.NEOX),
                new ModelConfig("qwen2", 16, 1, 4, 2, 4, 24, 13, 32, ModelConfig.RopeType.NEOX, 1e6f, 4, 1f, 1e-6f, true, false),
                gpt2, gpt2.withPositions(ModelConfig.Positions.SINUSOIDAL).withTiedOutput(false));
    }

    @ParameterizedTest
    @MethodSource("configs")
    void writtenModelLoadsBackIdentically(ModelConfig c) throws Exception {
        SplittableRandom r = new SplittableRandom(1);
        Map<String, float[]> arrays = new LinkedHashMap<>();
        for (LlamaWeights.Param p : LlamaWeights.parameters(c)) {
            float[] a = new float[Math.toIntExact(p.size())];
            for (int i = 0; i < a.length; i++) a[i] = (float) r.nextGaussian();
            arrays.put(p.name(), a);
        }
        Path file = tmp.resolve("m.gguf");
        GGUFLlamaMapping.writer(c, arrays::get, "test").write(file);
        try (GGUFFile f = GGUFFile.open(file)) {
            GGUFLlamaMapping.Loaded ld = GGUFLlamaMapping.load(f);
            assertThat(ld.config()).isEqualTo(c);
            LlamaWeights w = ld.weights();
            for (int l = 0; l < c.nLayers(); l++) {
                String b = "blk." + l + ".";
                assertThat(w.wq()[l].toFloatArray()).containsExactly(arrays.get(b + "attn_q.weight"));
                assertThat(w.wk()[l].toFloatArray()).containsExactly(arrays.get(b + "attn_k.weight"));
                assertThat(w.wv()[l].toFloatArray()).containsExactly(arrays.get(b + "attn_v.weight"));
                assertThat(w.wDown()[l].toFloatArray()).containsExactly(arrays.get(b + "ffn_down.weight"));
                assertThat(w.attnNorm()[l]).containsExactly(arrays.get(b + "attn_norm.weight"));
                if (c.qkvBias()) {
                    assertThat(w.bq()[l]).containsExactly(arrays.get(b + "attn_q.bias"));
                    assertThat(w.bk()[l]).containsExactly(arrays.get(b + "attn_k.bias"));
                    assertThat(w.bv()[l]).containsExactly(arrays.get(b + "attn_v.bias"));
                }
                if (c.allBiases()) assertThat(w.bDown()[l]).containsExactly(arrays.get(b + "ffn_down.bias"));
                if (c.normBias()) assertThat(w.ffnNormBias()[l]).containsExactly(arrays.get(b + "ffn_norm.bias"));
            }
            assertThat(w.tokenEmbedding().toFloatArray()).containsExactly(arrays.get("token_embd.weight"));
            Tensor out = w.output();
            assertThat(out.toFloatArray()).containsExactly(arrays.get(c.tiedOutput() ? "token_embd.weight" : "output.weight"));
            if (c.positions() == ModelConfig.Positions.LEARNED) {
                assertThat(w.positionEmbedding().toFloatArray()).containsExactly(arrays.get("position_embd.weight"));
            }
            if (c.architecture().equals("gpt2")) {
                assertThat(f.findTensor("blk.0.attn_qkv.weight")).isPresent();
                assertThat(f.findTensor("blk.0.attn_q.weight")).isEmpty();
            }
        }
    }

    @Test
    void ropeFrequencyFactorsTravel() throws Exception {
        ModelConfig c = ModelConfig.llama(16, 1, 2, 2, 8, 5, 8);
        Map<String, float[]> arrays = new LinkedHashMap<>();
        for (LlamaWeights.Param p : LlamaWeights.parameters(c)) arrays.put(p.name(), new float[Math.toIntExact(p.size())]);
        float[] freqs = {1f, 1.5f, 2f, 8f};
        Path file = tmp.resolve("freqs.gguf");
        GGUFLlamaMapping.writer(c, arrays::get, freqs, "freqs").write(file);
        try (GGUFFile f = GGUFFile.open(file)) {
            assertThat(GGUFLlamaMapping.load(f).weights().ropeFreqs()).containsExactly(freqs);
        }
    }

    @Test
    void unknownChoiceIsNamed() throws Exception {
        ModelConfig c = ModelConfig.llama(8, 1, 2, 2, 8, 5, 8);
        Map<String, float[]> arrays = new LinkedHashMap<>();
        for (LlamaWeights.Param p : LlamaWeights.parameters(c)) arrays.put(p.name(), new float[Math.toIntExact(p.size())]);
        Path file = tmp.resolve("bad.gguf");
        GGUFLlamaMapping.writer(c, arrays::get, "bad").put("jllm.positions", GGUFValue.ofString("spiral")).write(file);
        try (GGUFFile f = GGUFFile.open(file)) {
            assertThatThrownBy(() -> GGUFLlamaMapping.config(f)).isInstanceOf(GGUFFormatException.class)
                    .hasMessageContaining("jllm.positions = 'spiral'");
        }
    }
}
