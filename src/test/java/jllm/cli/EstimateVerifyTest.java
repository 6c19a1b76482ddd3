package jllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jllm.testing.TestData;
import picocli.CommandLine;

/**
 * {@code jllm estimate infer -m FILE.gguf --seq N --verify}: the planner's prediction against the engine's own
 * allocations — weights and KV cache to the byte, activations within 10% — on a file jllm did not write and on
 * quantized files it did.
 */
class EstimateVerifyTest {
    static String run(int expectedCode, String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        assertThat(code).as("exit code; stderr: " + err).isEqualTo(expectedCode);
        return out.toString() + err;
    }

    static void assertAllOk(String out) {
        assertThat(out).containsPattern("weights\\s+\\d+\\s+\\d+\\s+0\\.00%\\s+ok");
        assertThat(out).containsPattern("KV cache\\s+\\d+\\s+\\d+\\s+0\\.00%\\s+ok");
        assertThat(out).containsPattern("activations\\s+\\d+\\s+\\d+\\s+-?\\d+\\.\\d+%\\s+ok");
        assertThat(out).doesNotContain("MISMATCH");
    }

    @Test
    void realFileFromAnotherTool() {
        String out = run(0, "estimate", "infer", "-m", TestData.file("gguf/tiny-random-llama-gguf/llama-2-tiny-random.gguf").toString(),
                "--seq", "512", "--verify", "-t", "2");
        assertAllOk(out);
        // 2 (K and V) x 1 layer x 512 positions x 2 KV heads x 4 dims x 4 bytes
        assertThat(out).containsPattern("KV cache\\s+32768\\s+32768");
        // the file's tensor data: 1,026,144 bytes
        assertThat(out).containsPattern("weights\\s+1026144\\s+1026144");
    }

    @Test
    void quantizedGqaAndQwenFiles(@TempDir Path tmp) {
        String vocab = TestData.file("tokenizer/llamacpp-vocab/ggml-vocab-llama-spm.gguf").toString();
        for (String[] m : new String[][] {{"Q4_K", "llama"}, {"Q8_0", "qwen2"}, {"Q6_K", "llama"}}) {
            Path f = tmp.resolve(m[0] + ".gguf");
            run(0, "make-model", "--type", m[0], "--arch", m[1], "--vocab-from", vocab, "-o", f.toString());
            String out = run(0, "estimate", "infer", "-m", f.toString(), "--seq", "300", "--prefill-chunk", "32", "--verify", "-t", "2");
            assertAllOk(out);
            // Q4_K matrices are held repacked (4/3 of their file bytes), and the verify output says so
            if (m[0].equals("Q4_K")) assertThat(out).containsPattern("weights held in memory: \\d+ B; the engine repacks Q4_K");
            else assertThat(out).doesNotContain("weights held in memory");
        }
    }

    @Test
    void verifyRefusesWhatTheEngineCannotCheck() {
        String out = run(Main.EXIT_ERROR, "estimate", "infer", "-m", "llama-2-7b", "--seq", "100", "--verify");
        assertThat(out).contains("--verify needs -m FILE.gguf");
    }
}
