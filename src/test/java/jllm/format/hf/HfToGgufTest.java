package jllm.format.hf;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jllm.format.gguf.GGUFFile;
import jllm.format.gguf.GGUFLlamaMapping;
import jllm.format.gguf.SyntheticModel;
import jllm.model.LlamaWeights;
import jllm.model.ModelConfig;
import jllm.tensor.GGMLType;
import jllm.tokenizer.Tokenizers;
import jllm.tokenizer.VocabTokenizer;
import jllm.testing.TestData;

/**
 * Conversions between the two formats, each checked by running both models: a Hugging Face folder converted to
 * GGUF (read back by the GGUF loader, NORM rope) and a GGUF model (written by jllm's GGUF writer) saved as a
 * Hugging Face folder (NEOX rope) give the logits of the original (within 1e-5 absolute for logits of size ~1, 1e-6
 * relative to the largest logit for the synthetic model's large ones), and the same token ids.
 */
class HfToGgufTest {
    @TempDir Path tmp;

    static final String[] TEXTS = {"Hello world", " leading space", "digits 1234567 and ünïcødé", "tabs\tand\nnewlines 😀"};

    @Test
    void hfFolderToGguf() throws IOException {
        ModelConfig c = RandomLlama.config(true, false, ModelConfig.RopeType.NORM);
        HfLlamaMapping.RopeScaling s = new HfLlamaMapping.RopeScaling("llama3", 8, 1, 4, 64);
        float[] freqs = HfLlamaMapping.llama3FreqFactors(c.ropeTheta(), c.headDim(), s);
        LlamaWeights w = RandomLlama.weights(c, GGMLType.F16, 21, freqs);
        HfFolder.TokenizerFiles tok;
        try (GGUFFile v = GGUFFile.open(TestData.file("tokenizer/llamacpp-vocab/ggml-vocab-llama-spm.gguf"))) {
            tok = HfFolder.TokenizerFiles.fromGguf(v.metadata());
        }
        Path dir = tmp.resolve("hf");
        HfFolder.saveLlama(dir, new HfLlamaMapping.Config(c, s, freqs), w, tok);
        Path gguf = tmp.resolve("model.gguf");
        float[] hfLogits;
        VocabTokenizer hfTok;
        try (HfFolder f = HfFolder.open(dir)) {
            HfLlamaMapping.Loaded l = f.llama();
            hfLogits = RandomLlama.logits(l.config().model(), l.weights(), HfFolderTest.TOKENS);
            hfTok = f.tokenizer();
            HfToGguf.llama(f).write(gguf);
        }
        try (GGUFFile g = GGUFFile.open(gguf)) {
            GGUFLlamaMapping.Loaded l = GGUFLlamaMapping.load(g);
            assertThat(l.config().ropeType()).isEqualTo(ModelConfig.RopeType.NORM);
            assertThat(l.config().qkvBias()).isTrue();
            assertThat(l.weights().wq()[0].type()).isEqualTo(GGMLType.F16);
            assertThat(l.weights().ropeFreqs()).containsExactly(freqs);
            // the GGUF q rows are the original GGUF-layout rows again: permute after its inverse is the identity
            assertThat(l.weights().wq()[1].toFloatArray()).containsExactly(w.wq()[1].toFloatArray());
            assertThat(l.weights().bk()[0]).containsExactly(w.bk()[0]);
            double d = RandomLlama.maxAbsDiff(hfLogits, RandomLlama.logits(l.config(), l.weights(), HfFolderTest.TOKENS));
            System.out.printf("HF folder -> GGUF: max |logit diff| = %.3g%n", d);
            assertThat(d).isLessThan(1e-5);
            VocabTokenizer gt = Tokenizers.fromGGUF(g);
            for (String t : TEXTS) assertThat(gt.encode(t, true, false)).as(t).containsExactly(hfTok.encode(t, true, false));
        }
    }

    @Test
    void ggufToHfFolder() throws IOException {
        Path gguf = tmp.resolve("synthetic.gguf");
        try (GGUFFile vocab = GGUFFile.open(TestData.file("tokenizer/llamacpp-vocab/ggml-vocab-llama-spm.gguf"))) {
            SyntheticModel.write(new SyntheticModel.Spec("llama", 64, 2, 4, 2, 96, 0, 128, GGMLType.F32, GGMLType.F32, false, 4f, 10000f, 5, false), vocab, gguf);
        }
        Path dir = tmp.resolve("from-gguf");
        float[] expected;
        VocabTokenizer ggufTok;
        try (GGUFFile g = GGUFFile.open(gguf)) {
            GGUFLlamaMapping.Loaded l = GGUFLlamaMapping.load(g);
            expected = RandomLlama.logits(l.config(), l.weights(), HfFolderTest.TOKENS);
            ggufTok = Tokenizers.fromGGUF(g);
            HfFolder.saveLlama(dir, new HfLlamaMapping.Config(l.config(), null, null), l.weights(), HfFolder.TokenizerFiles.fromGguf(g.metadata()));
        }
        try (HfFolder f = HfFolder.open(dir)) {
            HfLlamaMapping.Loaded l = f.llama();
            assertThat(l.config().model().vocab()).isEqualTo(32000);
            double d = RandomLlama.maxAbsDiff(expected, RandomLlama.logits(l.config().model(), l.weights(), HfFolderTest.TOKENS));
            double scale = 0;
            for (float x : expected) scale = Math.max(scale, Math.abs(x));
            System.out.printf("GGUF -> HF folder: max |logit diff| = %.3g (logits up to %.3g)%n", d, scale);
            assertThat(d).isLessThan(1e-6 * scale); // relative: the output scale 4 makes these logits large
            for (String t : TEXTS) assertThat(f.tokenizer().encode(t, true, false)).as(t).containsExactly(ggufTok.encode(t, true, false));
            assertThat(f.config().getInt("bos_token_id")).isEqualTo(1);
            assertThat(f.config().getInt("eos_token_id")).isEqualTo(2);
        }
    }
}
