package jllm.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import picocli.CommandLine;

/**
 * {@code jllm bench --train} on tiny shapes (a couple of steps): the JSON row has the inference bench's keys and its
 * numbers agree with each other and with hand counts (tokens/s from the step times, GFLOP/s from the FLOPs per step,
 * the FLOPs and the memory from the shape worked out by hand, the first losses near ln(vocab) as for a model that
 * starts near the uniform distribution). Speed itself is never asserted. Tolerance: 1e-9 relative (the same doubles
 * recomputed) unless stated.
 */
class BenchTrainTest {
    static final List<String> KEYS = List.of("model", "type", "test", "threads", "avg_ts", "stddev_ts", "samples_ts",
            "n_batch", "n_seq", "tokens_per_step", "model_size", "model_n_params", "avg_ns", "samples_ns", "step_s",
            "gflop_per_step", "gflops", "cpu_s_per_step", "cpu_ns", "peak_rss_bytes", "gc_count", "alloc_bytes_per_token",
            "weights_bytes", "gradients_bytes", "optimizer_bytes", "activations_bytes", "memory_total_bytes", "loss");

    @TempDir Path tmp;

    static BenchCommandTest.Run run(String... args) {
        return BenchCommandTest.run(args);
    }

    static JsonNode row(BenchCommandTest.Run r) throws Exception {
        assertThat(r.code()).as("exit code; stderr: " + r.err()).isZero();
        JsonNode rows = BenchCommandTest.JSON.readTree(r.out());
        assertThat(rows.isArray()).as("an array of rows, as the inference bench").isTrue();
        assertThat(rows.size()).isEqualTo(1);
        JsonNode o = rows.get(0);
        for (String k : KEYS) assertThat(o.has(k)).as("key " + k).isTrue();
        return o;
    }

    /** Per-sample tokens/s from the nanoseconds, their mean and deviation, step_s and GFLOP/s from the same samples. */
    static void assertConsistent(JsonNode o, int tokens, int steps) {
        assertThat(o.get("tokens_per_step").asInt()).isEqualTo(tokens);
        JsonNode ts = o.get("samples_ts"), ns = o.get("samples_ns");
        assertThat(ts.size()).isEqualTo(steps);
        assertThat(ns.size()).isEqualTo(steps);
        double sumTs = 0, sumNs = 0;
        for (int i = 0; i < steps; i++) {
            double x = ts.get(i).asDouble();
            assertThat(x).isCloseTo(tokens * 1e9 / ns.get(i).asLong(), within(1e-9 * x));
            sumTs += x;
            sumNs += ns.get(i).asLong();
        }
        double meanTs = sumTs / steps, meanNs = sumNs / steps;
        double ss = 0;
        for (JsonNode v : ts) ss += (v.asDouble() - meanTs) * (v.asDouble() - meanTs);
        assertThat(o.get("avg_ts").asDouble()).isCloseTo(meanTs, within(1e-9 * meanTs));
        assertThat(o.get("stddev_ts").asDouble()).isCloseTo(steps > 1 ? Math.sqrt(ss / (steps - 1)) : 0, within(1e-9 * meanTs));
        double stepS = o.get("step_s").asDouble();
        assertThat(stepS).isCloseTo(meanNs / 1e9, within(1e-9 * stepS));
        assertThat(o.get("avg_ns").asDouble()).isCloseTo(meanNs, within(1e-9 * meanNs));
        double gflops = o.get("gflop_per_step").asDouble() / stepS;
        assertThat(o.get("gflops").asDouble()).isCloseTo(gflops, within(1e-9 * gflops));
        long cpu = o.get("cpu_ns").asLong();
        assertThat(cpu).isNotNegative(); // the process CPU clock advances in ticks: a tiny run may read 0
        assertThat(o.get("cpu_s_per_step").asDouble()).isCloseTo(cpu / 1e9 / steps, within(1e-12));
        assertThat(o.get("peak_rss_bytes").asLong()).isPositive();
        long total = o.get("weights_bytes").asLong() + o.get("gradients_bytes").asLong() + o.get("optimizer_bytes").asLong()
                + o.get("activations_bytes").asLong();
        assertThat(o.get("memory_total_bytes").asLong()).isEqualTo(total);
        assertThat(o.get("activations_bytes").asLong()).isPositive();
    }

    @Test
    void presetJsonHasTheKeysAndConsistentNumbers() throws Exception {
        JsonNode o = row(run("--train", "--config", "llama-tiny", "--vocab", "257", "-b", "2", "--seq", "8", "-r", "2",
                "--warmup", "1", "-t", "2", "--json"));
        assertThat(o.get("model").asText()).isEqualTo("llama-tiny");
        assertThat(o.get("type").asText()).isEqualTo("F32");
        assertThat(o.get("test").asText()).isEqualTo("train2x8");
        assertThat(o.get("threads").asInt()).isEqualTo(2);
        assertThat(o.get("n_batch").asInt()).isEqualTo(2);
        assertThat(o.get("n_seq").asInt()).isEqualTo(8);
        assertConsistent(o, 16, 2);
        // llama-tiny by hand: 4 blocks of q, k, v, o (128x128, 128x64, 128x64, 128x128), gate/up/down (128x352) and two
        // 128-wide norms; the embedding and the untied output (257x128 each) and the final norm
        long blockMatrices = 4 * (128L * 128 + 128 * 64 + 128 * 64 + 128 * 128 + 3L * 128 * 352);
        long params = blockMatrices + 4 * 2 * 128 + 2 * 257L * 128 + 128;
        assertThat(o.get("model_n_params").asLong()).isEqualTo(params);
        assertThat(o.get("weights_bytes").asLong()).isEqualTo(4 * params);
        assertThat(o.get("model_size").asLong()).isEqualTo(4 * params);
        assertThat(o.get("gradients_bytes").asLong()).isEqualTo(4 * params);
        assertThat(o.get("optimizer_bytes").asLong()).isEqualTo(2 * 4 * params); // AdamW's two moments
        double flop = 3.0 * 2 * 8 * (2.0 * (blockMatrices + 257L * 128) + 4.0 * 4 * 128 * 9 / 2);
        assertThat(o.get("gflop_per_step").asDouble()).isCloseTo(flop / 1e9, within(1e-12 * flop));
        // random tokens, weights drawn with std 0.02: the logits start near zero, the loss near ln(257) = 5.549
        assertThat(o.get("loss").asDouble()).as("loss").isCloseTo(Math.log(257), within(0.15));
    }

    @Test
    void oneStepAvgTsIsTokensOverStepSeconds() throws Exception {
        JsonNode o = row(run("--train", "--config", "gpt2-tiny", "--vocab", "257", "-b", "1", "--seq", "4", "-r", "1",
                "--warmup", "0", "-t", "1", "--mixed-precision", "--recompute", "--json"));
        assertThat(o.get("type").asText()).isEqualTo("BF16");
        assertThat(o.get("mixed_precision").asBoolean()).isTrue();
        assertThat(o.get("recompute").asBoolean()).isTrue();
        assertThat(o.get("test").asText()).isEqualTo("train1x4");
        assertConsistent(o, 4, 1);
        double avg = o.get("avg_ts").asDouble();
        assertThat(avg).isCloseTo(4 / o.get("step_s").asDouble(), within(1e-9 * avg));
        assertThat(o.get("stddev_ts").asDouble()).isZero();
    }

    @Test
    void modelFileIsTrainedAndTheTableIsTheDefault() throws Exception {
        Path model = tmp.resolve("tiny-f32.gguf");
        int rc = new CommandLine(new MakeModelCommand()).execute("--type", "F32", "--dim", "64", "--layers", "2", "--heads", "4",
                "--kv-heads", "2", "--ffn", "96", "--vocab", "300", "--ctx", "64", "-o", model.toString());
        assertThat(rc).as("make-model exit code").isZero();
        JsonNode o = row(run("--train", "-m", model.toString(), "-b", "2", "--seq", "4", "-r", "1", "--warmup", "1", "-t", "2", "--json"));
        assertThat(o.get("model").asText()).isEqualTo("tiny-f32.gguf");
        // 2 blocks of q, k, v, o (64x64, 64x32, 64x32, 64x64), gate/up/down (64x96), two norms; embedding, output, norm
        long blockMatrices = 2 * (64L * 64 + 64 * 32 + 64 * 32 + 64 * 64 + 3L * 64 * 96);
        assertThat(o.get("model_n_params").asLong()).isEqualTo(blockMatrices + 2 * 2 * 64 + 2 * 300L * 64 + 64);
        double flop = 3.0 * 2 * 4 * (2.0 * (blockMatrices + 300L * 64) + 4.0 * 2 * 64 * 5 / 2);
        assertThat(o.get("gflop_per_step").asDouble()).isCloseTo(flop / 1e9, within(1e-12 * flop));
        assertConsistent(o, 8, 1);

        BenchCommandTest.Run t = run("--train", "-m", model.toString(), "-b", "2", "--seq", "4", "-r", "1", "--warmup", "0", "-t", "1");
        assertThat(t.code()).as("stderr: " + t.err()).isZero();
        assertThat(t.out()).contains("| tiny-f32.gguf").contains("train2x4").contains("s/step").contains("GFLOP/s")
                .contains("memory: weights").contains("peak RSS");
    }

    @Test
    void badFlagsAreRefusedWithTheirNames() {
        assertRefused("-p does not go with --train", "--train", "--config", "llama-tiny", "-p", "8");
        assertRefused("-n does not go with --train", "--train", "-n", "8");
        assertRefused("--memory does not go with --train", "--train", "--memory");
        assertRefused("either -m MODEL or --config PRESET", "--train", "-m", "x.gguf", "--config", "llama-tiny");
        assertRefused("--config goes with --train", "--config", "llama-tiny");
        assertRefused("--seq goes with --train", "-m", "x.gguf", "--seq", "8");
        assertRefused("--seq must be positive, got 0", "--train", "--config", "llama-tiny", "--vocab", "257", "--seq", "0");
        assertRefused("--batch must be positive, got -1", "--train", "--config", "llama-tiny", "--vocab", "257", "-b", "-1");
        assertRefused("-r must be positive, got 0", "--train", "--config", "llama-tiny", "--vocab", "257", "-r", "0");
        assertRefused("unknown preset 'nope'", "--train", "--config", "nope");
        assertRefused("exceeds the model's 512 learned positions", "--train", "--config", "gpt2-tiny", "--vocab", "257", "--seq", "513");
    }

    static void assertRefused(String message, String... args) {
        BenchCommandTest.Run r = run(args);
        assertThat(r.code()).as(String.join(" ", args)).isNotZero();
        assertThat(r.err()).as(String.join(" ", args)).contains(message);
    }
}
