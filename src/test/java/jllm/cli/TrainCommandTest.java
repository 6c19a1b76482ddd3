package jllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import jllm.format.gguf.GGUFFile;
import jllm.format.gguf.GGUFLlamaMapping;
import jllm.format.hf.HfFolder;
import jllm.model.KvCache;
import jllm.model.Linear;
import jllm.model.LlamaModel;
import jllm.model.LlamaWeights;
import jllm.model.ModelConfig;
import jllm.testing.TestData;
import jllm.train.TrainLog;
import jllm.train.TrainingRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * {@code jllm train} end to end: pretraining a preset with the byte vocabulary writes a folder that {@code generate}
 * accepts as {@code -m}; {@code --resume} continues it to more steps; {@code -m} fine-tunes a real GGUF model
 * (testdata's tiny random Llama with its SentencePiece vocabulary) on prompt/completion JSONL; {@code --save-hf} writes a
 * Hugging Face folder whose model gives the GGUF model's logits (1e-5) and which {@code -m} fine-tunes from; bad flags
 * give one line and exit code 1.
 */
class TrainCommandTest {
    @TempDir Path tmp;

    record Run(int code, String err, String out) {}

    static Run run(Object command, String... args) {
        StringWriter err = new StringWriter(), out = new StringWriter();
        CommandLine cl = Main.commandLine();
        CommandLine c = new CommandLine(command);
        c.setExecutionExceptionHandler(cl.getExecutionExceptionHandler());
        c.setErr(new PrintWriter(err));
        c.setOut(new PrintWriter(out));
        int code = c.execute(args);
        return new Run(code, err.toString(), out.toString());
    }

    @Test
    void pretrainResumeAndGenerateFromTheFolder() throws Exception {
        Path data = tmp.resolve("tiny.txt");
        Files.writeString(data, "Once upon a time there was a little fox who liked to run. ".repeat(30));
        Path out = tmp.resolve("model");
        Run r = run(new TrainCommand(), "--config", "gpt2-tiny", "--positions", "alibi", "--data", data.toString(), "--out", out.toString(),
                "--steps", "4", "--batch", "2", "--seq", "32", "--lr", "1e-3", "--warmup", "1", "-t", "2", "--save-every", "2");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("memory: weights").contains("gpt2 4 layers").contains("ALIBI");
        try (GGUFFile f = GGUFFile.open(out.resolve("model.gguf"))) {
            ModelConfig c = GGUFLlamaMapping.config(f);
            assertThat(c.positions()).isEqualTo(ModelConfig.Positions.ALIBI);
            assertThat(c.vocab()).isEqualTo(257);
            assertThat(f.getString("tokenizer.ggml.model")).isEqualTo("gpt2");
        }
        Run more = run(new TrainCommand(), "--resume", "--data", data.toString(), "--out", out.toString(),
                "--steps", "6", "--batch", "2", "--seq", "32", "--lr", "1e-3", "--warmup", "1", "-t", "2");
        assertThat(more.code()).as(more.err()).isZero();
        assertThat(more.err()).contains("resuming at step 4 of 6");
        List<double[]> losses = TrainLog.readLosses(out.resolve(TrainingRun.LOG));
        assertThat(losses).hasSize(6);
        for (int i = 0; i < 6; i++) assertThat(losses.get(i)[0]).isEqualTo(i);
        assertThat(out.resolve("loss.png")).isRegularFile();

        Run gen = run(new GenerateCommand(), "-m", out.toString(), "-p", "Once", "-n", "8", "--temp", "0", "--quiet");
        assertThat(gen.code()).as(gen.err()).isZero();
        assertThat(gen.out()).isNotEmpty();
    }

    @Test
    void fineTunesAGgufModelOnPromptCompletion() throws Exception {
        Path model = TestData.file("gguf/tiny-random-llama-gguf/llama-2-tiny-random.gguf");
        Path data = tmp.resolve("qa.jsonl");
        Files.writeString(data, "{\"prompt\": \"Q: 2+2?\\nA:\", \"completion\": \" 4\"}\n{\"prompt\": \"Q: 3+3?\\nA:\", \"completion\": \" 6\"}\n");
        Path out = tmp.resolve("ft");
        Run r = run(new TrainCommand(), "-m", model.toString(), "--data", data.toString(), "--out", out.toString(),
                "--steps", "2", "--batch", "2", "--seq", "16", "--no-shuffle", "--mixed-precision", "--recompute", "-t", "2");
        assertThat(r.code()).as(r.err()).isZero();
        try (GGUFFile src = GGUFFile.open(model); GGUFFile f = GGUFFile.open(out.resolve("model.gguf"))) {
            assertThat(GGUFLlamaMapping.config(f)).isEqualTo(GGUFLlamaMapping.config(src));
            assertThat(f.getStringArray("tokenizer.ggml.tokens")).containsExactly(src.getStringArray("tokenizer.ggml.tokens"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-tiny", "gpt2-tiny"})
    void savesAHuggingFaceFolderThatGivesTheSameLogitsAndFineTunesFromIt(String preset) throws Exception {
        Path data = tmp.resolve("d.txt");
        Files.writeString(data, "abcabcabd ".repeat(40));
        Path out = tmp.resolve(preset);
        Run r = run(new TrainCommand(), "--config", preset, "--data", data.toString(), "--out", out.toString(), "--steps", "2",
                "--batch", "2", "--seq", "16", "-t", "2", "--save-hf");
        assertThat(r.code()).as(r.err()).isZero();
        int[] tokens = {72, 101, 108, 108, 111, 32, 120};
        float[] fromGguf, fromHf;
        try (GGUFFile f = GGUFFile.open(out.resolve("model.gguf")); Linear lin = new Linear(1)) {
            GGUFLlamaMapping.Loaded ld = GGUFLlamaMapping.load(f);
            fromGguf = new LlamaModel(ld.config(), ld.weights(), lin).forward(tokens, 0, tokens.length, 0, new KvCache(ld.config(), 8),
                    new LlamaModel(ld.config(), ld.weights(), lin).newState(8), true);
        }
        try (HfFolder hf = HfFolder.open(out.resolve("hf")); Linear lin = new Linear(1)) {
            ModelConfig c;
            LlamaWeights w;
            if (preset.startsWith("gpt2")) {
                c = hf.gpt2().config();
                w = hf.gpt2().weights();
            } else {
                c = hf.llama().config().model();
                w = hf.llama().weights();
            }
            LlamaModel m = new LlamaModel(c, w, lin);
            fromHf = m.forward(tokens, 0, tokens.length, 0, new KvCache(c, 8), m.newState(8), true);
            assertThat(hf.tokenizer().encode("abc", false, false)).containsExactly(97, 98, 99);
        }
        for (int i = 0; i < fromGguf.length; i++) assertThat(fromHf[i]).as("logit %d", i).isCloseTo(fromGguf[i], org.assertj.core.data.Offset.offset(1e-5f));
        Run ft = run(new TrainCommand(), "-m", out.resolve("hf").toString(), "--data", data.toString(), "--out", tmp.resolve(preset + "-ft").toString(),
                "--steps", "1", "--batch", "2", "--seq", "16", "-t", "2");
        assertThat(ft.code()).as(ft.err()).isZero();
    }

    @Test
    void badFlagsAreOneLine() {
        Run r = run(new TrainCommand(), "--config", "llama-huge", "--data", "x.txt", "--out", tmp.toString());
        assertThat(r.code()).isEqualTo(Main.EXIT_ERROR);
        assertThat(r.err().strip()).startsWith("jllm: error:").doesNotContain("\n");
        Run both = run(new TrainCommand(), "--data", "x.txt", "--out", tmp.toString());
        assertThat(both.err()).contains("give either -m MODEL or --config PRESET");
        Run betas = run(new TrainCommand(), "--config", "llama-tiny", "--betas", "0.9", "--data", "x.txt", "--out", tmp.toString());
        assertThat(betas.err()).contains("--betas needs two numbers");
    }
}
