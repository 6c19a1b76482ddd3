package jllm.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jllm.format.gguf.GGUFFile;
import jllm.format.gguf.GGUFTensorInfo;
import jllm.testing.TestData;
import picocli.CommandLine;

/**
 * {@code jllm bench} on a tiny synthetic model: the JSON has llama-bench's keys and shape, and its numbers agree with
 * each other (the mean and sample deviation of the samples, tokens/s from the nanoseconds, the weight bytes from the
 * file's own tensor table). Speed itself is never asserted. Tolerance: 1e-9 relative (the same doubles recomputed).
 */
class BenchCommandTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> LLAMA_BENCH_KEYS = List.of("model", "type", "test", "threads", "avg_ts", "stddev_ts", "samples_ts");

    @TempDir static Path tmp;
    static Path model;

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        CommandLine cl = new CommandLine(new BenchCommand());
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @BeforeAll
    static void makeModel() {
        model = tmp.resolve("tiny-q8.gguf");
        String vocab = TestData.file("tokenizer/llamacpp-vocab/ggml-vocab-llama-spm.gguf").toString();
        int rc = new CommandLine(new MakeModelCommand()).execute("--type", "Q8_0", "--dim", "64", "--layers", "2", "--heads", "4",
                "--kv-heads", "2", "--ffn", "128", "--vocab-from", vocab, "-o", model.toString());
        assertThat(rc).as("make-model exit code").isZero();
    }

    @Test
    void jsonHasLlamaBenchKeysAndConsistentNumbers() throws Exception {
        Run r = run("-m", model.toString(), "-p", "24", "-n", "8", "-b", "16", "-r", "3", "-t", "2", "--json");
        assertThat(r.code()).as("exit code; stderr: " + r.err()).isZero();
        JsonNode rows = JSON.readTree(r.out());
        assertThat(rows.isArray()).isTrue();
        assertThat(rows.size()).isEqualTo(2);
        assertThat(rows.get(0).get("test").asText()).isEqualTo("pp24");
        assertThat(rows.get(1).get("test").asText()).isEqualTo("tg8");
        long weightBytes = expectedWeightBytesPerToken(model);
        for (JsonNode o : rows) {
            for (String k : LLAMA_BENCH_KEYS) assertThat(o.has(k)).as("key " + k).isTrue();
            assertThat(o.get("model").asText()).isEqualTo("tiny-q8.gguf");
            assertThat(o.get("type").asText()).isEqualTo("Q8_0");
            assertThat(o.get("threads").asInt()).isEqualTo(2);
            JsonNode ts = o.get("samples_ts"), ns = o.get("samples_ns");
            assertThat(ts.size()).isEqualTo(3);
            assertThat(ns.size()).isEqualTo(3);
            int tokens = o.get("n_prompt").asInt() + o.get("n_gen").asInt();
            double[] x = new double[3];
            for (int i = 0; i < 3; i++) {
                x[i] = ts.get(i).asDouble();
                assertThat(x[i]).isPositive();
                assertThat(x[i]).isCloseTo(tokens * 1e9 / ns.get(i).asLong(), within(1e-9 * x[i]));
            }
            double mean = (x[0] + x[1] + x[2]) / 3;
            double sd = Math.sqrt(((x[0] - mean) * (x[0] - mean) + (x[1] - mean) * (x[1] - mean) + (x[2] - mean) * (x[2] - mean)) / 2);
            assertThat(o.get("avg_ts").asDouble()).isCloseTo(mean, within(1e-9 * mean));
            assertThat(o.get("stddev_ts").asDouble()).isCloseTo(sd, within(1e-9 * mean));
            assertThat(o.get("model_size").asLong()).isEqualTo(tensorBytes(model));
            assertThat(o.get("weights_held_bytes").asLong()).as("Q8_0 is held as stored").isEqualTo(tensorBytes(model));
            assertThat(o.get("file_bytes").asLong()).isEqualTo(Files.size(model));
            assertThat(o.get("peak_rss_bytes").asLong()).isGreaterThan(o.get("file_bytes").asLong());
            assertThat(o.get("gc_count").asLong()).isNotNegative();
            // CPU time over wall time of the timed runs (the process CPU clock advances in scheduler ticks, so the few
            // milliseconds of a tiny model's runs may read 0)
            long wall = 0;
            for (JsonNode v : ns) wall += v.asLong();
            assertThat(o.get("cpu_utilization").asDouble()).isCloseTo((double) o.get("cpu_ns").asLong() / wall, within(1e-9));
            assertThat(o.get("cpu_ns").asLong()).isNotNegative();
            assertThat(o.get("alloc_bytes_per_token").asDouble()).isNotNegative();
        }
        JsonNode tg = rows.get(1);
        assertThat(tg.get("n_gen").asInt()).isEqualTo(8);
        assertThat(tg.get("weight_bytes_per_token").asLong()).isEqualTo(weightBytes);
        double gbs = weightBytes * tg.get("avg_ts").asDouble() / 1e9;
        assertThat(tg.get("weight_gbs").asDouble()).isCloseTo(gbs, within(1e-9 * gbs));
        // a 24-token prompt in batches of 16, and the KV cache sized for the longer test (24 positions)
        assertThat(rows.get(0).get("n_batch").asInt()).isEqualTo(16);
        assertThat(tg.get("kv_cache_bytes").asLong()).isEqualTo(2L * 2 * 24 * (2 * 16) * 4);
    }

    @Test
    void tableIsTheDefaultAndSkippingATestDropsItsRow() {
        Run r = run("-m", model.toString(), "-p", "0", "-n", "4", "-r", "2", "-t", "1");
        assertThat(r.code()).as("stderr: " + r.err()).isZero();
        assertThat(r.out()).contains("| tiny-q8.gguf").contains("tg4").doesNotContain("pp");
        assertThat(r.out()).contains("peak RSS");
    }

    @Test
    void memoryAloneReportsBandwidthSamples() throws Exception {
        Run r = run("--memory", "--memory-mib", "16", "-t", "2", "--json");
        assertThat(r.code()).as("stderr: " + r.err()).isZero();
        JsonNode o = JSON.readTree(r.out()).get(0);
        assertThat(o.get("test").asText()).isEqualTo("memory_read");
        assertThat(o.get("bytes").asLong()).isEqualTo(16L << 20);
        JsonNode s = o.get("samples_gbs");
        assertThat(s.size()).isEqualTo(BenchCommand.MEMORY_PASSES);
        double best = 0, sum = 0;
        for (JsonNode v : s) {
            assertThat(v.asDouble()).isPositive();
            best = Math.max(best, v.asDouble());
            sum += v.asDouble();
        }
        assertThat(o.get("best_gbs").asDouble()).isEqualTo(best);
        assertThat(o.get("avg_gbs").asDouble()).isCloseTo(sum / s.size(), within(1e-9 * best));
    }

    @Test
    void badArgumentsAreRefused() {
        assertThat(run("-p", "8").code()).isNotZero();
        Run missing = run("-m", tmp.resolve("nope.gguf").toString());
        assertThat(missing.code()).isNotZero();
        assertThat(run("-m", model.toString(), "-p", "0", "-n", "0").code()).isNotZero();
        assertThat(run("-m", model.toString(), "-r", "0").code()).isNotZero();
    }

    /** From the file's tensor table: every block matrix, the output matrix (or the tied embedding) and one embedding row. */
    /**
     * A Q4_K file: the type, model size and weight bytes per token are the file's (what llama-bench reports), while the
     * engine holds each Q4_K matrix repacked at 192 bytes per 256 weights instead of 144, which weights_held_bytes and
     * the text report say.
     */
    @Test
    void aQ4KFileIsReportedInItsOwnTypeAndHeldRepacked() throws Exception {
        Path q4k = tmp.resolve("tiny-q4k.gguf");
        String vocab = TestData.file("tokenizer/llamacpp-vocab/ggml-vocab-llama-spm.gguf").toString();
        int rc = new CommandLine(new MakeModelCommand()).execute("--type", "Q4_K", "--dim", "256", "--layers", "1", "--heads", "4",
                "--kv-heads", "2", "--ffn", "512", "--vocab-from", vocab, "-o", q4k.toString());
        assertThat(rc).as("make-model exit code").isZero();
        long q4kBytes = 0;
        try (GGUFFile f = GGUFFile.open(q4k)) {
            for (GGUFTensorInfo t : f.tensors().values()) if (t.type() == jllm.tensor.GGMLType.Q4_K) q4kBytes += t.byteSize();
        }
        assertThat(q4kBytes).isPositive();
        Run r = run("-m", q4k.toString(), "-p", "0", "-n", "4", "-r", "1", "-t", "2", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode o = JSON.readTree(r.out()).get(0);
        assertThat(o.get("type").asText()).isEqualTo("Q4_K");
        assertThat(o.get("model_size").asLong()).isEqualTo(tensorBytes(q4k));
        assertThat(o.get("weight_bytes_per_token").asLong()).isEqualTo(expectedWeightBytesPerToken(q4k));
        // the matrices the engine multiplies by are repacked; an untied token embedding, looked up a row at a time, is not
        long embd;
        try (GGUFFile f = GGUFFile.open(q4k)) {
            embd = f.findTensor("output.weight").isPresent() && f.tensor("token_embd.weight").type() == jllm.tensor.GGMLType.Q4_K
                    ? f.tensor("token_embd.weight").byteSize() : 0;
        }
        assertThat(o.get("weights_held_bytes").asLong()).isEqualTo(tensorBytes(q4k) + (q4kBytes - embd) / 144 * 48);
        Run text = run("-m", q4k.toString(), "-p", "0", "-n", "4", "-r", "1", "-t", "2");
        assertThat(text.out()).contains("Q4_K matrices repacked for decoding");
    }

    static long expectedWeightBytesPerToken(Path file) throws Exception {
        try (GGUFFile f = GGUFFile.open(file)) {
            long b = 0;
            for (GGUFTensorInfo t : f.tensors().values()) {
                if (t.name().matches("blk\\.\\d+\\.(attn_q|attn_k|attn_v|attn_output|ffn_gate|ffn_up|ffn_down)\\.weight")) b += t.byteSize();
            }
            GGUFTensorInfo embd = f.tensor("token_embd.weight");
            b += f.findTensor("output.weight").orElse(embd).byteSize();
            b += embd.byteSize() / embd.ne()[1];
            return b;
        }
    }

    static long tensorBytes(Path file) throws Exception {
        try (GGUFFile f = GGUFFile.open(file)) {
            long b = 0;
            for (GGUFTensorInfo t : f.tensors().values()) b += t.byteSize();
            return b;
        }
    }
}
