package jllm.generate;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jllm.cli.MakeModelCommand;
import jllm.format.gguf.GGUFFile;
import jllm.format.gguf.GGUFLlamaMapping;
import jllm.format.hf.HfFolder;
import jllm.format.hf.HfLlamaMapping;
import jllm.testing.TestData;
import picocli.CommandLine;

/**
 * The engine opens every model form: a GGUF file, a folder with model.gguf, and a Hugging Face folder. The same
 * weights saved as a Hugging Face folder (q/k rows permuted back to the half-split RoPE layout, tokenizer.json
 * written from the GGUF metadata) generate the same greedy tokens as the GGUF file.
 */
class EngineFoldersTest {
    static GenerationConfig greedy(int n) {
        return new GenerationConfig(n, SamplerConfig.greedy(), List.of());
    }

    @Test
    void ggufFileJllmFolderAndHfFolderGenerateTheSame(@TempDir Path tmp) throws Exception {
        Path gguf = tmp.resolve("m.gguf");
        int rc = new CommandLine(new MakeModelCommand()).execute("--type", "F32", "--tied", "--vocab-from",
                TestData.file("tokenizer/llamacpp-vocab/ggml-vocab-llama-spm.gguf").toString(), "-o", gguf.toString());
        assertThat(rc).isZero();
        Path jllmFolder = Files.createDirectories(tmp.resolve("folder"));
        Files.copy(gguf, jllmFolder.resolve("model.gguf"));
        Path hf = tmp.resolve("hf");
        try (GGUFFile f = GGUFFile.open(gguf)) {
            GGUFLlamaMapping.Loaded l = GGUFLlamaMapping.load(f);
            HfFolder.saveLlama(hf, new HfLlamaMapping.Config(l.config(), null, null), l.weights(),
                    HfFolder.TokenizerFiles.fromGguf(f.metadata()));
        }
        int[] expected;
        try (Engine e = Engine.open(gguf, 2)) {
            int[] prompt = e.tokenizer().encode("The quick brown fox", true, true);
            expected = e.newSession(64, 8).generate(prompt, greedy(12), null).tokens();
        }
        for (Path p : new Path[] {jllmFolder, hf}) {
            try (Engine e = Engine.open(p, 2)) {
                int[] prompt = e.tokenizer().encode("The quick brown fox", true, true);
                assertThat(prompt).as(p.getFileName() + " prompt").containsExactly(1, 450, 4996, 17354, 1701, 29916);
                assertThat(e.newSession(64, 8).generate(prompt, greedy(12), null).tokens()).as(p.getFileName().toString())
                        .containsExactly(expected);
            }
        }
    }
}
