package jllm.format.hf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * PEFT adapters: two made by reference/peft/make_adapters.py (PEFT's key names, shapes and file layout, written by
 * hand from PEFT's and safetensors' source facts) are read with the values that script wrote, and written again
 * byte for byte; the GPT-2 (Conv1D, fan_in_fan_out) adapter applied in jllm's row layout equals PEFT's merge
 * of the transposed update into the (in, out) weight; write then read returns the same adapter; refusals name the
 * key.
 */
class PeftAdapterTest {
    @TempDir Path tmp;

    static Path resource(String name) {
        try {
            return Path.of(PeftAdapterTest.class.getResource("/peft/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("test resource peft/" + name + " is missing (made by reference/peft/make_adapters.py)", e);
        }
    }

    // the script's values, exact in float32
    static float a(int m, int i, int j) { return ((7 * i + 3 * j + m) % 11 - 5) / 8f; }
    static float b(int m, int o, int i) { return ((5 * o + 2 * i + m) % 13 - 6) / 16f; }

    static void checkValues(LoraAdapter.Target t, int m) {
        for (int i = 0; i < t.r(); i++) for (int j = 0; j < t.in(); j++) assertThat(t.a()[i * t.in() + j]).isEqualTo(a(m, i, j));
        for (int o = 0; o < t.out(); o++) for (int i = 0; i < t.r(); i++) assertThat(t.b()[o * t.r() + i]).isEqualTo(b(m, o, i));
    }

    @Test
    void llamaAdapterMadeByTheReferenceScript() throws IOException {
        Path dir = resource("llama-lora");
        assertThat(PeftAdapter.isAdapterFolder(dir)).isTrue();
        LoraAdapter ad = PeftAdapter.read(dir);
        assertThat(ad.config()).isEqualTo(new PeftLoraConfig(4, 8, List.of("q_proj", "v_proj"), false, 0.05, "none", "CAUSAL_LM",
                "jllm/tiny-llama", false, false));
        assertThat(ad.config().scaling()).isEqualTo(2.0);
        List<String> modules = List.of("model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj",
                "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj");
        assertThat(ad.targets().keySet()).containsExactlyElementsOf(modules);
        for (int m = 0; m < modules.size(); m++) {
            LoraAdapter.Target t = ad.target(modules.get(m));
            assertThat(t.r()).isEqualTo(4);
            assertThat(t.in()).isEqualTo(32);
            assertThat(t.out()).isEqualTo(modules.get(m).endsWith("q_proj") ? 32 : 16);
            checkValues(t, m);
        }
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(PeftAdapter.WEIGHTS))) {
            assertThat(f.info("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight").shape()).containsExactly(4, 32);
            assertThat(f.info("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight").shape()).containsExactly(16, 4);
        }
        // written by jllm: the same safetensors bytes; the same adapter_config.json content
        Path out = tmp.resolve("llama");
        PeftAdapter.write(ad, out);
        assertThat(Files.readAllBytes(out.resolve(PeftAdapter.WEIGHTS))).isEqualTo(Files.readAllBytes(dir.resolve(PeftAdapter.WEIGHTS)));
        ObjectMapper om = new ObjectMapper();
        assertThat(om.readTree(out.resolve(PeftAdapter.CONFIG).toFile())).isEqualTo(om.readTree(dir.resolve(PeftAdapter.CONFIG).toFile()));
    }

    /**
     * GPT-2's c_attn is a Conv1D with weight W (in, out), y = x W + c. PEFT's merge with fan_in_fan_out adds
     * transpose(B A) * scaling to W. jllm keeps (out, in) rows, W^T, and adds scaling * B A. Both give the same y.
     */
    @Test
    void gpt2AdapterFollowsPeftsConv1dConvention() throws IOException {
        Path dir = resource("gpt2-lora");
        LoraAdapter ad = PeftAdapter.read(dir);
        assertThat(ad.config().fanInFanOut()).isTrue();
        assertThat(ad.config().scaling()).isEqualTo(8.0);
        LoraAdapter.Target t = ad.target("transformer.h.1.attn.c_attn");
        assertThat(t.in()).isEqualTo(8);
        assertThat(t.out()).isEqualTo(24);
        checkValues(t, 1);

        SplittableRandom r = new SplittableRandom(2);
        int in = 8, out = 24;
        float[] w = RandomLlama.random(r, in * out, 0.3, 0); // Conv1D weight (in, out)
        float[] x = RandomLlama.random(r, in, 1, 0);
        double s = ad.config().scaling();
        // PEFT: W' = W + transpose(B A) * s, y = x W'
        double[] peft = new double[out];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                double ba = 0;
                for (int k = 0; k < t.r(); k++) ba += (double) t.b()[o * t.r() + k] * t.a()[k * t.in() + i];
                peft[o] += x[i] * (w[i * out + o] + ba * s);
            }
        }
        // jllm: rows (out, in) = W^T + s B A
        float[] rows = HfGpt2Mapping.transpose(w, in, out);
        float[] delta = t.delta(s);
        for (int o = 0; o < out; o++) {
            double y = 0;
            for (int i = 0; i < in; i++) y += x[i] * (rows[o * in + i] + delta[o * in + i]);
            assertThat(y).isCloseTo(peft[o], within(1e-5));
        }
        Path copy = tmp.resolve("gpt2");
        PeftAdapter.write(ad, copy);
        assertThat(Files.readAllBytes(copy.resolve(PeftAdapter.WEIGHTS))).isEqualTo(Files.readAllBytes(dir.resolve(PeftAdapter.WEIGHTS)));
    }

    @Test
    void writeThenReadReturnsTheAdapter() throws IOException {
        SplittableRandom r = new SplittableRandom(9);
        PeftLoraConfig cfg = new PeftLoraConfig(3, 6.5, List.of(".*\\.(q|k)_proj"), true, 0.1, "none", null, "some/model", false, true);
        Map<String, LoraAdapter.Target> targets = new java.util.LinkedHashMap<>();
        for (String m : new String[] {"model.layers.0.self_attn.k_proj", "model.layers.0.self_attn.q_proj"}) {
            targets.put(m, new LoraAdapter.Target(m, 3, 16, 12, RandomLlama.random(r, 48, 1, 0), RandomLlama.random(r, 36, 1, 0)));
        }
        LoraAdapter ad = new LoraAdapter(cfg, targets);
        assertThat(cfg.scaling()).isCloseTo(6.5 / Math.sqrt(3), within(1e-12));
        PeftAdapter.write(ad, tmp.resolve("a"));
        LoraAdapter back = PeftAdapter.read(tmp.resolve("a"));
        assertThat(back.config()).isEqualTo(cfg);
        assertThat(back.targets().keySet()).containsExactlyElementsOf(targets.keySet());
        for (LoraAdapter.Target t : targets.values()) {
            assertThat(back.target(t.module()).a()).containsExactly(t.a());
            assertThat(back.target(t.module()).b()).containsExactly(t.b());
        }
        assertThat(Files.readString(tmp.resolve("a/adapter_config.json"))).contains("\"target_modules\": \".*\\\\.(q|k)_proj\"");
    }

    @Test
    void refusalsNameTheKey() throws IOException {
        Path src = resource("llama-lora");
        String config = Files.readString(src.resolve(PeftAdapter.CONFIG));
        String[][] cases = {
                {config.replace("\"peft_type\": \"LORA\"", "\"peft_type\": \"IA3\""), "peft_type 'IA3' is not LORA"},
                {config.replace("\"use_dora\": false", "\"use_dora\": true"), "use_dora = true is not supported"},
                {config.replace("\"rank_pattern\": {}", "\"rank_pattern\": {\"q_proj\": 8}"), "rank_pattern {\"q_proj\":8} is not supported"},
                {config.replace("\"modules_to_save\": null", "\"modules_to_save\": [\"lm_head\"]"), "modules_to_save [\"lm_head\"] is not supported"},
                {config.replace("\"r\": 4", "\"r\": 8"), "module 'model.layers.0.self_attn.q_proj' has lora_A [4, 32] and lora_B [32, 4]; with r = 8"},
                {config.replace("\"r\": 4", "\"r\": 0"), "r 0 must be positive"},
                {config.replace("\"bias\": \"none\"", "\"bias\": \"some\""), "bias 'some' is not none, all or lora_only"},
                {config.replace("\"lora_alpha\": 8", "\"lora_alpha\": \"8\""), "'lora_alpha' is \"8\", expected a number"},
        };
        for (String[] c : cases) {
            assertThat(c[0]).as(c[1]).isNotEqualTo(config);
            Path d = Files.createDirectories(tmp.resolve("c" + Math.abs(c[1].hashCode())));
            Files.copy(src.resolve(PeftAdapter.WEIGHTS), d.resolve(PeftAdapter.WEIGHTS));
            Files.writeString(d.resolve(PeftAdapter.CONFIG), c[0]);
            assertThatThrownBy(() -> PeftAdapter.read(d)).as(c[1]).isInstanceOf(HfFormatException.class).hasMessageContaining(c[1]);
        }
        // weights: unknown keys, unpaired matrices, integer dtypes
        Object[][] weights = {
                {"base_model.model.model.embed_tokens.lora_embedding_A", "is not base_model.model.<module>.lora_A.weight or lora_B.weight"},
                {"base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector", "is not base_model.model"},
                {"model.layers.0.self_attn.q_proj.lora_A.weight", "is not base_model.model"},
        };
        for (Object[] wcase : weights) {
            Path d = Files.createDirectories(tmp.resolve("w" + Math.abs(wcase[0].hashCode())));
            Files.writeString(d.resolve(PeftAdapter.CONFIG), config);
            try (SafetensorsFile f = SafetensorsFile.open(src.resolve(PeftAdapter.WEIGHTS))) {
                SafetensorsWriter w = SafetensorsWriter.copyOf(f);
                w.floats((String) wcase[0], new float[4], 4, 1);
                w.write(d.resolve(PeftAdapter.WEIGHTS));
            }
            assertThatThrownBy(() -> PeftAdapter.read(d)).isInstanceOf(HfFormatException.class)
                    .hasMessageContaining("'" + wcase[0] + "'").hasMessageContaining((String) wcase[1]);
        }
        Path d = Files.createDirectories(tmp.resolve("unpaired"));
        Files.writeString(d.resolve(PeftAdapter.CONFIG), config);
        new SafetensorsWriter().floats(LoraAdapter.keyA("m.q_proj"), new float[8], 4, 2).write(d.resolve(PeftAdapter.WEIGHTS));
        assertThatThrownBy(() -> PeftAdapter.read(d)).isInstanceOf(HfFormatException.class)
                .hasMessageContaining("'base_model.model.m.q_proj.lora_A.weight' has no base_model.model.m.q_proj.lora_B.weight");
        new SafetensorsWriter().tensor(LoraAdapter.keyA("m.q_proj"), SafetensorsDType.I32, new long[] {4, 2}, MemorySegment.ofArray(new byte[32]))
                .floats(LoraAdapter.keyB("m.q_proj"), new float[8], 2, 4).write(d.resolve(PeftAdapter.WEIGHTS));
        assertThatThrownBy(() -> PeftAdapter.read(d)).isInstanceOf(HfFormatException.class).hasMessageContaining("has dtype I32");
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Files.writeString(bin.resolve(PeftAdapter.CONFIG), config);
        Files.writeString(bin.resolve("adapter_model.bin"), "pickle");
        assertThatThrownBy(() -> PeftAdapter.read(bin)).isInstanceOf(HfFormatException.class).hasMessageContaining("jllm reads safetensors only");
    }
}
