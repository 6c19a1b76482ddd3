package jllm.format.hf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jllm.format.gguf.GGUFFile;
import jllm.model.LlamaWeights;
import jllm.model.ModelConfig;
import jllm.tensor.GGMLType;
import jllm.tensor.Tensor;
import jllm.tokenizer.VocabTokenizer;
import jllm.testing.TestData;

/**
 * Hugging Face folders end to end: the GPT-2 folders of ../shared/testdata/hf (Conv1D semantics checked against
 * the checkpoint's own numbers, a byte-identical re-save), and LLaMA folders saved by jllm from GGUF-layout weights
 * whose logits, after loading, equal the original model's (tolerance 1e-5 on logits of size ~1: only the order of
 * the sums in q.k changes), in F32, F16 and BF16, sharded or not, with GQA, biases, tied output and Llama 3.1 rope
 * scaling.
 */
class HfFolderTest {
    @TempDir Path tmp;

    static final int[] TOKENS = {3, 17, 0, 39, 22, 22, 8, 1, 30, 12, 5};

    /** y = x W + b with the checkpoint's Conv1D (in, out) weight, the reference for jllm's (out, in) rows. */
    static float[] conv1d(float[] x, float[] w, float[] b, int in, int out) {
        float[] y = b.clone();
        for (int o = 0; o < out; o++) for (int i = 0; i < in; i++) y[o] += x[i] * w[i * out + o];
        return y;
    }

    static float[] linear(float[] x, Tensor w, float[] b) {
        float[] m = w.toFloatArray();
        int in = w.cols(), out = w.rows();
        float[] y = b.clone();
        for (int o = 0; o < out; o++) for (int i = 0; i < in; i++) y[o] += x[i] * m[o * in + i];
        return y;
    }

    @Test
    void gpt2FolderFollowsConv1dSemantics() throws IOException {
        Path dir = TestData.file("hf/hf-fake-gpt2/config.json").getParent();
        assertThat(HfFolder.isHfFolder(dir)).isTrue();
        try (HfFolder f = HfFolder.open(dir)) {
            assertThat(f.modelType()).isEqualTo("gpt2");
            HfGpt2Mapping.Loaded g2 = f.gpt2();
            LlamaWeights w = g2.weights();
            assertThat(g2.config()).isEqualTo(ModelConfig.gpt2(2, 1, 1, 8, 50257, 1024).withNormEps(1e-5f));
            SafetensorsStore s = f.weights();
            float[] x = {0.7f, -1.3f};
            // c_attn: the first n outputs are q, the next k, the last v (GPT2Attention splits them so)
            float[] qkv = conv1d(x, s.floats("transformer.h.0.attn.c_attn.weight"), s.floats("transformer.h.0.attn.c_attn.bias"), 2, 6);
            Tensor[] parts = {w.wq()[0], w.wk()[0], w.wv()[0]};
            float[][] biases = {w.bq()[0], w.bk()[0], w.bv()[0]};
            for (int i = 0; i < 3; i++) {
                assertThat(linear(x, parts[i], biases[i])).containsExactly(qkv[2 * i], qkv[2 * i + 1]);
            }
            float[] fc = conv1d(x, s.floats("transformer.h.0.mlp.c_fc.weight"), s.floats("transformer.h.0.mlp.c_fc.bias"), 2, 8);
            assertThat(linear(x, w.wUp()[0], w.bUp()[0])).containsExactly(fc);
            float[] h = new float[8];
            for (int i = 0; i < 8; i++) h[i] = 0.1f * i - 0.3f;
            assertThat(linear(h, w.wDown()[0], w.bDown()[0]))
                    .containsExactly(conv1d(h, s.floats("transformer.h.0.mlp.c_proj.weight"), s.floats("transformer.h.0.mlp.c_proj.bias"), 8, 2));
            // embeddings stay views of the file in its layout: (vocab, n) rows
            Tensor wte = w.tokenEmbedding();
            assertThat(wte.ne()).containsExactly(2, 50257);
            assertThat(wte.row(464).toFloatArray()).containsExactly(java.util.Arrays.copyOfRange(s.floats("transformer.wte.weight"), 928, 930));
            assertThat(w.output()).isSameAs(wte); // tied
            assertThat(w.positionEmbedding().ne()).containsExactly(2, 1024);
            assertThat(f.tokenizer().encode("Hello world", false, false)).containsExactly(15496, 995);

            // saved again, the weights file is the same bytes as the one transformers wrote
            Path out = tmp.resolve("gpt2");
            HfFolder.saveGpt2(out, g2.config(), w, f.tokenizerFiles());
            assertThat(Files.readAllBytes(out.resolve("model.safetensors"))).isEqualTo(Files.readAllBytes(dir.resolve("model.safetensors")));
            try (HfFolder g = HfFolder.open(out)) {
                assertThat(g.gpt2().config()).isEqualTo(g2.config());
                assertThat(g.tokenizer().encode("Hello world", false, false)).containsExactly(15496, 995);
            }
        }
    }

    @Test
    void bareGpt2ModelWithSlowTokenizerFiles() throws IOException {
        try (HfFolder f = HfFolder.open(TestData.file("hf/hf-tiny-gpt2/config.json").getParent())) {
            HfGpt2Mapping.Loaded w = f.gpt2(); // names without the "transformer." prefix
            assertThat(w.config().vocab()).isEqualTo(21);
            assertThat(w.weights().wo()[0].toFloatArray())
                    .containsExactly(HfGpt2Mapping.transpose(f.weights().floats("h.0.attn.c_proj.weight"), 2, 2));
            assertThat(f.tokenizer().encode(" lower newer", false, false)).containsExactly(14, 15, 10, 9, 3, 2, 15);
        }
    }

    /**
     * A GPT-2 saved as a Hugging Face folder (Conv1D transposes, fused c_attn) and loaded back runs in jllm's GPT-2
     * block with PyTorch's loss: the weights and batch of reference/torch/make_golden.py's tiny GPT-2 (float64
     * PyTorch loss in the file's metadata), tolerance 1e-5 relative as in jllm's own PyTorch comparison.
     */
    @Test
    void gpt2FolderGivesPyTorchsLoss() throws Exception {
        Path golden = Path.of(HfFolderTest.class.getResource("/golden/torch/gpt2-tiny.safetensors").toURI());
        com.fasterxml.jackson.databind.ObjectMapper om = new com.fasterxml.jackson.databind.ObjectMapper();
        Path dir = tmp.resolve("gpt2-tiny");
        int[] tokens, targets;
        double refLoss;
        try (SafetensorsFile g = SafetensorsFile.open(golden)) {
            var cfg = om.readTree(g.metadata().get("config"));
            ModelConfig c = ModelConfig.gpt2(cfg.get("dim").asInt(), cfg.get("layers").asInt(), cfg.get("heads").asInt(),
                    cfg.get("ffn").asInt(), cfg.get("vocab").asInt(), cfg.get("ctx").asInt()).withNormEps((float) cfg.get("eps").asDouble());
            LlamaWeights w = LlamaWeights.assemble(c, name -> g.tensor("param." + name), name -> g.floats("param." + name), null);
            HfFolder.saveGpt2(dir, c, w, null);
            var tok = om.readTree(g.metadata().get("tokens"));
            var tgt = om.readTree(g.metadata().get("targets"));
            tokens = new int[16];
            targets = new int[16];
            for (int b = 0; b < 2; b++) for (int t = 0; t < 8; t++) {
                tokens[b * 8 + t] = tok.get(b).get(t).asInt();
                targets[b * 8 + t] = tgt.get(b).get(t).asInt();
            }
            refLoss = Double.parseDouble(g.metadata().get("loss"));
        }
        try (HfFolder f = HfFolder.open(dir); jllm.model.Linear linear = new jllm.model.Linear(1)) {
            assertThat(f.weights().has("transformer.h.1.attn.c_attn.weight")).isTrue();
            HfGpt2Mapping.Loaded l = f.gpt2();
            jllm.model.LlamaModel m = new jllm.model.LlamaModel(l.config(), l.weights(), linear);
            double loss = m.forward(tokens, targets, m.newTrainingState(2, 8, false));
            System.out.printf("GPT-2 through an HF folder: loss %.8f vs PyTorch %.8f (rel %.2e)%n", loss, refLoss, Math.abs(loss / refLoss - 1));
            assertThat(Math.abs(loss / refLoss - 1)).isLessThan(1e-5);
        }
    }

    static VocabTokenizer spmTokenizer() throws IOException {
        try (GGUFFile g = GGUFFile.open(TestData.file("tokenizer/llamacpp-vocab/ggml-vocab-llama-spm.gguf"))) {
            return HfFolder.TokenizerFiles.fromGguf(g.metadata()).tokenizer();
        }
    }

    private static HfFolder.TokenizerFiles spmFiles() throws IOException {
        try (GGUFFile g = GGUFFile.open(TestData.file("tokenizer/llamacpp-vocab/ggml-vocab-llama-spm.gguf"))) {
            return HfFolder.TokenizerFiles.fromGguf(g.metadata());
        }
    }

    /** Saves GGUF-layout weights as an HF folder, opens it and compares logits with the original model. */
    private double roundTrip(String name, ModelConfig norm, LlamaWeights g, HfLlamaMapping.RopeScaling scaling,
                             HfFolder.TokenizerFiles tok, long maxShard) throws IOException {
        Path dir = tmp.resolve(name);
        HfFolder.saveLlama(dir, new HfLlamaMapping.Config(norm, scaling, g.ropeFreqs()), g, tok, maxShard);
        float[] expected = RandomLlama.logits(norm, g, TOKENS);
        try (HfFolder f = HfFolder.open(dir)) {
            HfLlamaMapping.Loaded l = f.llama();
            ModelConfig c = l.config().model();
            assertThat(c.ropeType()).isEqualTo(ModelConfig.RopeType.NEOX);
            assertThat(c.dim()).isEqualTo(norm.dim());
            assertThat(l.weights().wq()[0].type()).isEqualTo(g.wq()[0].type()); // views in the stored type
            if (g.ropeFreqs() != null) assertThat(l.weights().ropeFreqs()).containsExactly(g.ropeFreqs());
            if (tok != null) assertThat(f.config().getInt("bos_token_id")).isEqualTo(1);
            return RandomLlama.maxAbsDiff(expected, RandomLlama.logits(c, l.weights(), TOKENS));
        }
    }

    @Test
    void llamaFoldersGiveTheOriginalLogits() throws IOException {
        HfFolder.TokenizerFiles tok = spmFiles();
        ModelConfig c = RandomLlama.config(false, false, ModelConfig.RopeType.NORM);
        for (GGMLType type : new GGMLType[] {GGMLType.F32, GGMLType.F16, GGMLType.BF16}) {
            double d = roundTrip("llama-" + type, c, RandomLlama.weights(c, type, 7, null), null, tok, HfFolder.DEFAULT_MAX_SHARD_BYTES);
            System.out.printf("HF llama folder, %s weights: max |logit diff| vs the GGUF-layout model = %.3g%n", type, d);
            assertThat(d).as(type.toString()).isLessThan(1e-5);
        }
        ModelConfig biasTied = RandomLlama.config(true, true, ModelConfig.RopeType.NORM);
        double d = roundTrip("bias-tied", biasTied, RandomLlama.weights(biasTied, GGMLType.F32, 9, null), null, null, HfFolder.DEFAULT_MAX_SHARD_BYTES);
        System.out.printf("HF llama folder, q/k/v biases + tied output: max |logit diff| = %.3g%n", d);
        assertThat(d).isLessThan(1e-5);
        assertThat(Files.exists(tmp.resolve("bias-tied/tokenizer.json"))).isFalse();
    }

    @Test
    void shardedFolderAndLlama3RopeScaling() throws IOException {
        ModelConfig c = RandomLlama.config(false, false, ModelConfig.RopeType.NORM);
        HfLlamaMapping.RopeScaling s = new HfLlamaMapping.RopeScaling("llama3", 8, 1, 4, 64);
        float[] freqs = HfLlamaMapping.llama3FreqFactors(c.ropeTheta(), c.headDim(), s);
        assertThat(freqs[0]).isEqualTo(1f); // head 8, original context 64: wavelengths 6.3, 63, 628, 6283
        assertThat(freqs[1]).isStrictlyBetween(1f, 8f); // the smooth band
        assertThat(freqs[3]).isEqualTo(8f);
        LlamaWeights w = RandomLlama.weights(c, GGMLType.F32, 3, freqs);
        double d = roundTrip("sharded", c, w, s, spmFiles(), 20_000);
        assertThat(d).isLessThan(1e-5);
        Path dir = tmp.resolve("sharded");
        assertThat(Files.exists(dir.resolve(HfFolder.INDEX))).isTrue();
        assertThat(Files.exists(dir.resolve(HfFolder.WEIGHTS))).isFalse();
        try (var files = Files.list(dir)) {
            assertThat(files.filter(p -> p.getFileName().toString().matches("model-\\d{5}-of-\\d{5}\\.safetensors")).count()).isGreaterThan(3);
        }
        try (HfFolder f = HfFolder.open(dir)) {
            assertThat(f.weights()).isInstanceOf(SafetensorsShards.class);
            assertThat(f.config().object("rope_scaling").getString("rope_type")).isEqualTo("llama3");
            assertThat(f.tokenizer().encode("Hello world", true, false)).containsExactly(1, 15043, 3186);
        }
        // saving again unsharded replaces the index by one file
        roundTrip("sharded", c, w, s, null, HfFolder.DEFAULT_MAX_SHARD_BYTES);
        assertThat(Files.exists(dir.resolve(HfFolder.INDEX))).isFalse();
        // weights with frequency factors but no llama3 parameters cannot be described by config.json
        assertThatThrownBy(() -> HfFolder.saveLlama(tmp.resolve("x"), new HfLlamaMapping.Config(c, null, freqs), w, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("llama3 rope_scaling");
    }

    @Test
    void quantizedWeightsAreSavedAsF32() throws IOException {
        // ffn 64: Q8_0 rows are whole 32-element blocks. (Logits are not compared: jllm multiplies Q8_0 weights with
        // 8-bit activations, as ggml does, and F32 weights with float ones.)
        ModelConfig c = new ModelConfig("llama", 32, 2, 4, 2, 8, 64, 40, 64, ModelConfig.RopeType.NORM, 10000f, 8, 1f, 1e-5f, false, false);
        LlamaWeights q = RandomLlama.weights(c, GGMLType.Q8_0, 4, null);
        Path dir = tmp.resolve("q8");
        HfFolder.saveLlama(dir, new HfLlamaMapping.Config(c, null, null), q, null);
        try (HfFolder f = HfFolder.open(dir)) {
            assertThat(f.weights().info("model.layers.0.mlp.up_proj.weight").dtype()).isEqualTo(SafetensorsDType.F32);
            // the stored values are the quantized weights' dequantized values, q and k rows in HF's order
            assertThat(f.weights().floats("model.layers.1.mlp.up_proj.weight")).containsExactly(q.wUp()[1].toFloatArray());
            assertThat(f.weights().floats("model.layers.0.self_attn.k_proj.weight"))
                    .containsExactly(RopePermutation.ggufToHf(q.wk()[0], c.nKvHeads()).toFloatArray());
            assertThat(f.weights().floats("lm_head.weight")).containsExactly(q.output().toFloatArray());
        }
    }

    @Test
    void hostileFoldersAreRefusedNamingTheTensor() throws IOException {
        ModelConfig c = RandomLlama.config(false, false, ModelConfig.RopeType.NORM);
        LlamaWeights w = RandomLlama.weights(c, GGMLType.F32, 1, null);
        Path good = tmp.resolve("good");
        HfFolder.saveLlama(good, new HfLlamaMapping.Config(c, null, null), w, null);
        String config = Files.readString(good.resolve("config.json"));

        Path bad = Files.createDirectory(tmp.resolve("bad"));
        Files.writeString(bad.resolve("config.json"), config.replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3"));
        Files.copy(good.resolve("model.safetensors"), bad.resolve("model.safetensors"));
        try (HfFolder f = HfFolder.open(bad)) {
            assertThatThrownBy(f::llama).isInstanceOf(HfFormatException.class)
                    .hasMessage("model.safetensors: missing tensor 'model.layers.2.input_layernorm.weight'");
            assertThatThrownBy(f::gpt2).isInstanceOf(HfFormatException.class).hasMessageContaining("model_type 'llama' is not gpt2");
        }
        Files.writeString(bad.resolve("config.json"), config.replace("\"intermediate_size\": 48", "\"intermediate_size\": 40"));
        try (HfFolder f = HfFolder.open(bad)) {
            assertThatThrownBy(f::llama).isInstanceOf(HfFormatException.class)
                    .hasMessage("model.safetensors: tensor 'model.layers.0.mlp.gate_proj.weight' has shape [48, 32], config.json implies [40, 32]");
        }
        Files.writeString(bad.resolve("config.json"), config.replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 1"));
        try (HfFolder f = HfFolder.open(bad)) {
            assertThatThrownBy(f::llama).isInstanceOf(HfFormatException.class)
                    .hasMessageContaining("tensor 'model.layers.1.").hasMessageContaining("is not part of a 1-layer llama model");
        }
        // an output-projection bias must be zero to be dropped
        SplittableRandom r = new SplittableRandom(1);
        Files.writeString(bad.resolve("config.json"), config);
        try (SafetensorsFile sf = SafetensorsFile.open(good.resolve("model.safetensors"))) {
            SafetensorsWriter wr = SafetensorsWriter.copyOf(sf);
            wr.floats("model.layers.1.self_attn.o_proj.bias", RandomLlama.random(r, 32, 1, 0), 32);
            wr.write(bad.resolve("model.safetensors"));
        }
        try (HfFolder f = HfFolder.open(bad)) {
            assertThatThrownBy(f::llama).isInstanceOf(HfFormatException.class)
                    .hasMessageContaining("'model.layers.1.self_attn.o_proj.bias' is not zero");
        }
        Files.delete(bad.resolve("model.safetensors"));
        Files.writeString(bad.resolve("pytorch_model.bin"), "pickle");
        assertThat(HfFolder.isHfFolder(bad)).isFalse();
        assertThatThrownBy(() -> HfFolder.open(bad)).isInstanceOf(HfFormatException.class).hasMessageContaining("jllm reads safetensors only");
    }
}
