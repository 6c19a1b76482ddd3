package jllm.estimate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Shapes read from Hugging Face config.json files: checked against the tensors another tool actually saved
 * (the test data's model.safetensors, whose header lists every tensor's shape) and against the presets.
 */
class HfConfigTest {

    static Path testdata() {
        String dir = System.getProperty("jllm.testdata");
        if (dir == null || !Files.isDirectory(Path.of(dir))) {
            throw new IllegalStateException("test data folder not found: " + dir
                    + " (system property jllm.testdata; expected ../shared/testdata next to the project)");
        }
        return Path.of(dir);
    }

    /** Elements and data bytes of all tensors in a safetensors file, from its JSON header (spec: safetensors README). */
    static long[] safetensorsTotals(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            long n = ByteBuffer.wrap(in.readNBytes(8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
            JsonNode header = new ObjectMapper().readTree(in.readNBytes((int) n));
            long elements = 0, bytes = 0;
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getKey().equals("__metadata__")) continue;
                long count = 1;
                for (JsonNode d : e.getValue().get("shape")) count *= d.asLong();
                elements += count;
                JsonNode off = e.getValue().get("data_offsets");
                bytes += off.get(1).asLong() - off.get(0).asLong();
            }
            return new long[] {elements, bytes};
        }
    }

    /** The GPT-2 folders' config.json predicts exactly the tensors in their model.safetensors (fp32 bytes too). */
    @Test
    void gpt2FoldersMatchTheirSafetensors() throws IOException {
        for (String folder : new String[] {"hf/hf-fake-gpt2", "hf/hf-tiny-gpt2"}) {
            Path dir = testdata().resolve(folder);
            ModelShape s = HfConfig.read(dir);
            long[] totals = safetensorsTotals(dir.resolve("model.safetensors"));
            assertThat(s.params()).as(folder).isEqualTo(totals[0]);
            assertThat(DataType.FP32.bytes(s)).as(folder).isEqualTo(totals[1]);
        }
    }

    /** Configs with the published fields of meta-llama/Llama-2-7b-hf and mistralai/Mixtral-8x7B-v0.1 give the presets' shapes. */
    @Test
    void publishedConfigsGiveThePresets() throws IOException {
        String llama = """
                {"architectures": ["LlamaForCausalLM"], "hidden_size": 4096, "intermediate_size": 11008,
                 "max_position_embeddings": 4096, "model_type": "llama", "num_attention_heads": 32,
                 "num_hidden_layers": 32, "num_key_value_heads": 32, "rms_norm_eps": 1e-05, "tie_word_embeddings": false,
                 "torch_dtype": "float16", "vocab_size": 32000}""";
        String mixtral = """
                {"architectures": ["MixtralForCausalLM"], "hidden_size": 4096, "intermediate_size": 14336,
                 "max_position_embeddings": 32768, "model_type": "mixtral", "num_attention_heads": 32,
                 "num_experts_per_tok": 2, "num_hidden_layers": 32, "num_key_value_heads": 8, "num_local_experts": 8,
                 "sliding_window": null, "tie_word_embeddings": false, "vocab_size": 32000}""";
        ObjectMapper om = new ObjectMapper();
        assertThat(HfConfig.parse(om.readTree(llama), "x", "llama").withName("llama-2-7b")).isEqualTo(Presets.get("llama-2-7b"));
        assertThat(HfConfig.parse(om.readTree(mixtral), "x", "mixtral").withName("mixtral-8x7b")).isEqualTo(Presets.get("mixtral-8x7b"));
    }

    @Test
    void badConfigsAreNamed() {
        ObjectMapper om = new ObjectMapper();
        assertThatThrownBy(() -> HfConfig.parse(om.readTree("{\"model_type\": \"mamba\"}"), "x", "c.json"))
                .hasMessageContaining("mamba");
        assertThatThrownBy(() -> HfConfig.parse(om.readTree("{\"model_type\": \"llama\", \"hidden_size\": -1}"), "x", "c.json"))
                .hasMessageContaining("hidden_size");
        assertThatThrownBy(() -> HfConfig.read(Path.of("/nonexistent/folder"))).hasMessageContaining("config.json");
    }
}
