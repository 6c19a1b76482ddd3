package jllm.cli;

import static jllm.cli.EstimateVerifyTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import jllm.testing.TestData;

/**
 * {@code jllm estimate train --verify}: the planner's prediction (the code path {@code jllm estimate train} prints)
 * against the bytes jllm's trainer measured from its own arrays after one real step: weights, gradients and optimizer
 * states to the byte, activations within 10%, on the llama and gpt2 presets, fp32 and mixed precision, with and
 * without recomputation, AdamW and SGD, LoRA, and on model files jllm did not write.
 */
class TrainVerifyTest {
    static void assertAllOk(String out) {
        assertThat(out).containsPattern("weights\\s+\\d+\\s+\\d+\\s+0\\.00%\\s+ok");
        assertThat(out).containsPattern("gradients\\s+\\d+\\s+\\d+\\s+0\\.00%\\s+ok");
        assertThat(out).containsPattern("optimizer\\s+\\d+\\s+\\d+\\s+0\\.00%\\s+ok");
        assertThat(out).containsPattern("activations\\s+\\d+\\s+\\d+\\s+-?\\d+\\.\\d+%\\s+ok");
        assertThat(out).doesNotContain("MISMATCH");
    }

    @Test
    void presetsFp32AndMixedWithAndWithoutRecompute() {
        for (String preset : new String[] {"llama-tiny", "gpt2-tiny"}) {
            for (String[] mode : new String[][] {{}, {"--mixed-precision"}}) {
                for (String rc : new String[] {"none", "full"}) {
                    String[] args = {"estimate", "train", "--config", preset, "--batch", "2", "--seq", "32", "--recompute", rc, "--verify", "-t", "2"};
                    if (mode.length > 0) args = java.util.stream.Stream.concat(java.util.Arrays.stream(args), java.util.Arrays.stream(mode)).toArray(String[]::new);
                    String out = run(0, args);
                    assertAllOk(out);
                    assertThat(out).contains("verify: " + preset + ", full training, batch 2 x 32");
                }
            }
        }
    }

    @Test
    void sgdWithMomentumAndLora() {
        assertAllOk(run(0, "estimate", "train", "--config", "llama-tiny", "--optimizer", "sgd", "--batch", "2", "--seq", "32", "--verify", "-t", "2"));
        String out = run(0, "estimate", "train", "--config", "gpt2-tiny", "--lora-rank", "4", "--lora-targets", "q,v", "--batch", "2", "--seq", "32",
                "--verify", "-t", "2");
        assertAllOk(out);
        // 4 layers x (q and v: 4 x (128 + 128) each) = 8,192 adapter parameters: 4 B each for the gradients
        assertThat(out).containsPattern("gradients\\s+32768\\s+32768");
        assertAllOk(run(0, "estimate", "train", "--config", "llama-tiny", "--lora-rank", "2", "--lora-targets", "all", "--recompute", "full",
                "--batch", "2", "--seq", "32", "--verify", "-t", "2"));
    }

    @Test
    void modelFilesFromOtherTools() {
        assertAllOk(run(0, "estimate", "train", "-m", TestData.file("gguf/tiny-random-llama-gguf/llama-2-tiny-random.gguf").toString(),
                "--mixed-precision", "--batch", "2", "--seq", "16", "--verify", "-t", "2"));
        assertAllOk(run(0, "estimate", "train", "-m", TestData.file("hf/hf-fake-gpt2/config.json").getParent().toString(),
                "--batch", "2", "--seq", "32", "--verify", "-t", "2"));
    }

    @Test
    void aModelFolderJllmTrained(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path data = tmp.resolve("data.txt"), out = tmp.resolve("model");
        java.nio.file.Files.writeString(data, "The quick brown fox jumps over the lazy dog. ".repeat(20));
        run(0, "train", "--config", "llama-tiny", "--data", data.toString(), "--out", out.toString(), "--steps", "1", "--batch", "2",
                "--seq", "16", "-t", "2");
        assertAllOk(run(0, "estimate", "train", "-m", out.toString(), "--batch", "2", "--seq", "32", "--verify", "-t", "2"));
    }

    @Test
    void jsonCarriesThePlanAndTheRows() throws Exception {
        String out = run(0, "estimate", "train", "--config", "gpt2-tiny", "--mixed-precision", "--batch", "2", "--seq", "16", "--verify", "-t", "2",
                "--json");
        JsonNode j = new ObjectMapper().readTree(out);
        assertThat(j.get("verify").get("ok").asBoolean()).isTrue();
        JsonNode rows = j.get("verify").get("rows");
        assertThat(rows).hasSize(4);
        long planned = j.get("plan").get("weights_bytes").asLong() + j.get("plan").get("master_weights_bytes").asLong();
        assertThat(rows.get(0).get("what").asText()).isEqualTo("weights");
        assertThat(rows.get(0).get("predicted_bytes").asLong()).isEqualTo(planned).isEqualTo(rows.get(0).get("measured_bytes").asLong());
        assertThat(rows.get(3).get("what").asText()).isEqualTo("activations");
        assertThat(Math.abs(rows.get(3).get("diff").asDouble())).isLessThanOrEqualTo(0.10);
    }

    /**
     * A model two values wide (hf-tiny-gpt2: n_embd 2, vocabulary 21) is all per-row statistics and per-thread scratch,
     * which the planner does not count: the activations row fails and the command says so with a non-zero exit code.
     */
    @Test
    void aMismatchFailsTheCommand() {
        String out = run(Main.EXIT_ERROR, "estimate", "train", "-m", TestData.file("hf/hf-tiny-gpt2/config.json").getParent().toString(),
                "--batch", "2", "--seq", "16", "--verify", "-t", "2");
        assertThat(out).containsPattern("activations\\s+\\d+\\s+\\d+\\s+-\\d+\\.\\d+%\\s+MISMATCH \\(tolerance 10%\\)");
        assertThat(out).containsPattern("weights\\s+\\d+\\s+\\d+\\s+0\\.00%\\s+ok");
    }

    @Test
    void verifyRefusesWhatTheTrainerCannotRun() {
        assertThat(run(Main.EXIT_ERROR, "estimate", "train", "--config", "gpt2-tiny", "--seq", "16", "--recompute", "selective", "--verify"))
                .contains("--recompute none or full");
        assertThat(run(Main.EXIT_ERROR, "estimate", "train", "--config", "gpt2-tiny", "--seq", "16", "--zero", "2", "--verify"))
                .contains("one device");
        assertThat(run(Main.EXIT_ERROR, "estimate", "train", "--config", "gpt2-tiny", "--seq", "16", "--optimizer", "adafactor", "--verify"))
                .contains("adamw and sgd");
        assertThat(run(Main.EXIT_ERROR, "estimate", "train", "--config", "gpt2-tiny", "--seq", "16", "--lora-rank", "4", "--mixed-precision", "--verify"))
                .contains("LoRA in fp32");
        assertThat(run(Main.EXIT_ERROR, "estimate", "train", "-m", "gpt2", "--seq", "16", "--verify")).contains("--verify needs -m FILE.gguf");
        assertThat(run(Main.EXIT_ERROR, "estimate", "train", "--config", "gpt2-tiny", "--seq", "16")).contains("--config names a jllm train preset");
        assertThat(run(Main.EXIT_ERROR, "estimate", "train", "--config", "gpt2-tiny", "--seq", "16", "--layers", "3", "--verify"))
                .contains("only --vocab applies");
        assertThat(run(Main.EXIT_ERROR, "estimate", "train", "--config", "gpt2-tiny", "--seq", "16", "--params", "7B", "--verify"))
                .contains("drop --params");
    }
}
