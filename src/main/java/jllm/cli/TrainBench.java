package jllm.cli;

import java.io.PrintWriter;
import java.util.Locale;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import jllm.generate.Benchmark;
import jllm.model.ModelConfig;
import jllm.train.MemoryReport;
import jllm.train.Parameters;
import jllm.train.Presets;
import jllm.train.TrainBenchmark;

/**
 * {@code jllm bench --train}: training throughput ({@link TrainBenchmark}) printed as a llama-bench-style table row
 * or, with {@code --json}, as an array holding one object with the inference bench's keys ({@code model, type, test,
 * threads, avg_ts, stddev_ts, samples_ts}, where a sample is one timed step and tokens are the step's B x T training
 * tokens) plus the step's time, FLOPs, CPU time, peak RSS and the trainer's memory by category.
 */
final class TrainBench {
    static final String DEFAULT_PRESET = "gpt2-124m";
    static final int DEFAULT_VOCAB = 50257, DEFAULT_BATCH = 4, DEFAULT_SEQ = 64;

    private TrainBench() {}

    static int run(BenchCommand b) throws Exception {
        for (String o : new String[] {"-p", "-n", "--memory", "--memory-mib"}) {
            if (b.given(o)) throw new IllegalArgumentException(o + " does not go with --train (it measures training steps, not pp/tg)");
        }
        if (b.model != null && b.preset != null) throw new IllegalArgumentException("give either -m MODEL or --config PRESET with --train, not both");
        if (b.model != null && b.vocab != null) throw new IllegalArgumentException("--vocab goes with --config (a model file has its own vocabulary)");
        int B = b.batch != null ? b.batch : DEFAULT_BATCH;
        int T = b.seq != null ? b.seq : DEFAULT_SEQ;
        if (B <= 0) throw new IllegalArgumentException("--batch must be positive, got " + B);
        if (T <= 0) throw new IllegalArgumentException("--seq must be positive, got " + T);
        if (b.repeats <= 0) throw new IllegalArgumentException("-r must be positive, got " + b.repeats);
        if (b.warmups < 0) throw new IllegalArgumentException("--warmup must be >= 0, got " + b.warmups);
        int threads = b.threads > 0 ? b.threads : Runtime.getRuntime().availableProcessors();

        String name;
        Parameters params;
        if (b.model != null) {
            TrainableModel m = TrainableModel.load(b.model, b.mixedPrecision);
            params = m.params();
            name = b.model.getFileName().toString();
        } else {
            name = b.preset != null ? b.preset : DEFAULT_PRESET;
            int v = b.vocab != null ? b.vocab : DEFAULT_VOCAB;
            if (v <= 0) throw new IllegalArgumentException("--vocab must be positive, got " + v);
            ModelConfig c = Presets.get(name, v);
            params = Parameters.init(c, b.seed, b.mixedPrecision);
        }
        TrainBenchmark.Result r = TrainBenchmark.run(params, B, T, threads, b.recompute, b.seed, b.warmups, b.repeats);
        long peakRss = Benchmark.peakRssBytes();
        ObjectNode o = json(name, r, b.warmups, peakRss);

        PrintWriter out = b.spec.commandLine().getOut();
        if (b.json) {
            ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            ArrayNode rows = mapper.createArrayNode();
            rows.add(o);
            out.println(mapper.writeValueAsString(rows));
        } else {
            printTable(out, o);
            MemoryReport m = r.memory();
            out.printf(Locale.ROOT, "%s: %.3f ± %.3f s/step, %.1f GFLOP/step (model FLOPs), %.1f GFLOP/s; CPU %.3f s/step (%.2f cores busy); "
                            + "loss %.4f; %d warm-up + %d timed steps%n",
                    r.test(), r.stepSeconds(), r.timing().stddevNs() / 1e9, r.gflopPerStep(), r.gflops(), r.cpuSecondsPerStep(),
                    r.timing().cpuUtilization(), r.lastLoss(), b.warmups, b.repeats);
            out.printf(Locale.ROOT, "%s; peak RSS %.1f MiB; %d GCs (%d ms) in the timed steps%n", m, peakRss / 1048576.0,
                    r.timing().gcCount(), r.timing().gcMillis());
        }
        out.flush();
        return 0;
    }

    /** The result row: llama-bench's keys first, then the training figures. */
    static ObjectNode json(String name, TrainBenchmark.Result r, int warmups, long peakRss) {
        ObjectNode o = new ObjectMapper().createObjectNode();
        Benchmark.Result t = r.timing();
        o.put("model", name);
        o.put("type", r.mixedPrecision() ? "BF16" : "F32");
        o.put("test", r.test());
        o.put("threads", r.threads());
        BenchCommand.putRates(o, t);
        o.put("n_batch", r.batch());
        o.put("n_seq", r.seq());
        o.put("tokens_per_step", r.tokensPerStep());
        o.put("n_warmup", warmups);
        o.put("n_steps", t.samplesNs().length);
        o.put("mixed_precision", r.mixedPrecision());
        o.put("recompute", r.recompute());
        o.put("model_size", r.memory().weights());
        o.put("model_n_params", r.parameters());
        BenchCommand.putTimes(o, t);
        o.put("step_s", r.stepSeconds());
        o.put("gflop_per_step", r.gflopPerStep());
        o.put("gflops", r.gflops());
        o.put("cpu_s_per_step", r.cpuSecondsPerStep());
        o.put("peak_rss_bytes", peakRss);
        MemoryReport m = r.memory();
        o.put("weights_bytes", m.weights());
        o.put("gradients_bytes", m.gradients());
        o.put("optimizer_bytes", m.optimizer());
        o.put("activations_bytes", m.activations());
        o.put("memory_total_bytes", m.total());
        o.put("loss", r.lastLoss());
        return o;
    }

    private static void printTable(PrintWriter out, ObjectNode o) {
        String fmt = "| %-20s | %10s | %8s | %-4s | %7s | %10s | %18s | %9s | %8s |%n";
        out.printf(fmt, "model", "size", "params", "type", "threads", "test", "t/s", "s/step", "GFLOP/s");
        out.printf(fmt, "-".repeat(20), "-".repeat(10), "-".repeat(8), "-".repeat(4), "-".repeat(7), "-".repeat(10), "-".repeat(18),
                "-".repeat(9), "-".repeat(8));
        out.printf(fmt, o.get("model").asText(), String.format(Locale.ROOT, "%.2f MiB", o.get("model_size").asLong() / 1048576.0),
                String.format(Locale.ROOT, "%.2f M", o.get("model_n_params").asLong() / 1e6), o.get("type").asText(),
                o.get("threads").asInt(), o.get("test").asText(),
                String.format(Locale.ROOT, "%.2f ± %.2f", o.get("avg_ts").asDouble(), o.get("stddev_ts").asDouble()),
                String.format(Locale.ROOT, "%.3f", o.get("step_s").asDouble()),
                String.format(Locale.ROOT, "%.1f", o.get("gflops").asDouble()));
    }
}
