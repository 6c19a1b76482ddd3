package jllm.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import jllm.generate.Benchmark;
import jllm.generate.Engine;
import jllm.generate.MemoryBandwidth;
import jllm.model.LlamaWeights;
import jllm.tensor.GGMLType;
import jllm.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code jllm bench}: prompt-processing and generation throughput in llama.cpp's {@code llama-bench} procedure
 * ({@link Benchmark}), with the same JSON keys ({@code model, type, test, threads, avg_ts, stddev_ts, samples_ts}),
 * plus what llama-bench does not report: peak RSS, the weight bandwidth generation achieved, garbage collections and
 * allocation in the timed runs, and with {@code --memory} the machine's read bandwidth ({@link MemoryBandwidth}) and
 * the fraction of the generation roofline reached. With {@code --train}, training steps instead ({@link TrainBench}).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure prompt processing (pp) and generation (tg) tokens/s like llama-bench; --memory measures read bandwidth; "
                + "--train measures training steps.")
public final class BenchCommand implements Callable<Integer> {
    /** Timed passes of the bandwidth test; the best one is the roofline's bandwidth. */
    static final int MEMORY_PASSES = 8;

    @Option(names = {"-m", "--model"}, description = "Model file (GGUF). Optional with --memory. With --train: the model to train "
            + "(GGUF file, model folder or Hugging Face llama/gpt2 folder) instead of --config.")
    Path model;

    @Option(names = "--train", description = "Measure training steps (AdamW: forward, backward, clipping, update) on random tokens instead of pp/tg.")
    boolean train;

    @Option(names = "--config", paramLabel = "PRESET", description = "With --train: a randomly initialised model of this shape "
            + "(default: gpt2-124m; also llama-tiny, llama-3m, llama-15m, gpt2-tiny).")
    String preset;

    @Option(names = "--vocab", description = "With --train --config: vocabulary size (default: 50257, GPT-2's).")
    Integer vocab;

    @Option(names = "--seq", description = "With --train: tokens per sequence, T (default: 64).")
    Integer seq;

    @Option(names = "--mixed-precision", description = "With --train: bf16 weights and matmul operands, fp32 master weights.")
    boolean mixedPrecision;

    @Option(names = "--recompute", description = "With --train: recompute each block's activations in the backward.")
    boolean recompute;

    @Option(names = {"-p", "--n-prompt"}, defaultValue = "512", description = "Prompt tokens of the pp test; 0 skips it (default: ${DEFAULT-VALUE}).")
    int nPrompt;

    @Option(names = {"-n", "--n-gen"}, defaultValue = "128", description = "Generated tokens of the tg test; 0 skips it (default: ${DEFAULT-VALUE}).")
    int nGen;

    @Option(names = {"-b", "--batch"}, description = "Prompt tokens per forward batch (default: 512, llama-bench's micro-batch). "
            + "With --train: sequences per training step, B (default: 4).")
    Integer batch;

    @Option(names = {"-t", "--threads"}, defaultValue = "0", description = "Worker threads (default: all cores).")
    int threads;

    @Option(names = {"-r", "--repetitions"}, defaultValue = "5", description = "Timed runs per test, or timed steps with --train (default: ${DEFAULT-VALUE}).")
    int repeats;

    @Option(names = "--warmup", defaultValue = "1", description = "Untimed runs per test (steps with --train) before the timed ones (default: ${DEFAULT-VALUE}).")
    int warmups;

    @Option(names = "--seed", defaultValue = "1234", description = "Seed of the random tokens (and of --config's initial weights) (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--json", description = "Print a JSON array with one object per test instead of a table.")
    boolean json;

    @Option(names = "--memory", description = "Also measure the read bandwidth (STREAM-like sum) and the generation roofline.")
    boolean memory;

    @Option(names = "--memory-mib", defaultValue = "1024", description = "Buffer size of the bandwidth test in MiB (default: ${DEFAULT-VALUE}).")
    int memoryMiB;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (train) return TrainBench.run(this);
        for (String o : new String[] {"--config", "--vocab", "--seq", "--mixed-precision", "--recompute"}) {
            if (given(o)) throw new IllegalArgumentException(o + " goes with --train");
        }
        int batch = this.batch != null ? this.batch : 512;
        if (model == null && !memory) throw new IllegalArgumentException("give a model with -m, or --memory for the bandwidth test alone");
        if (repeats <= 0) throw new IllegalArgumentException("-r must be positive, got " + repeats);
        if (warmups < 0) throw new IllegalArgumentException("--warmup must be >= 0, got " + warmups);
        if (nPrompt < 0 || nGen < 0) throw new IllegalArgumentException("-p and -n must be >= 0, got " + nPrompt + " and " + nGen);
        if (memoryMiB <= 0) throw new IllegalArgumentException("--memory-mib must be positive, got " + memoryMiB);
        int nThreads = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        PrintWriter out = spec.commandLine().getOut();
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ArrayNode rows = mapper.createArrayNode();

        if (model != null) {
            if (!Files.isRegularFile(model)) throw new IllegalArgumentException("model file not found: " + model);
            if (nPrompt == 0 && nGen == 0) throw new IllegalArgumentException("-p and -n are both 0: nothing to measure");
            List<Benchmark.Result> results = new ArrayList<>();
            ModelFacts facts;
            long kvBytes, stateBytes;
            try (Engine engine = Engine.open(model, nThreads)) {
                facts = ModelFacts.of(model, engine);
                Benchmark b = new Benchmark(engine.model(), Math.max(nPrompt, nGen), batch, seed);
                kvBytes = b.cache().bytes();
                stateBytes = b.state().bytes();
                if (nPrompt > 0) results.add(b.prompt(nPrompt, warmups, repeats));
                if (nGen > 0) results.add(b.generation(nGen, warmups, repeats));
            }
            long peakRss = Benchmark.peakRssBytes();   // before the bandwidth test allocates its buffer
            MemoryBandwidth.Result mem = memory ? MemoryBandwidth.measure((long) memoryMiB << 20, nThreads, 1, MEMORY_PASSES) : null;
            for (Benchmark.Result r : results) {
                ObjectNode o = rows.addObject();
                o.put("model", facts.name);
                o.put("type", facts.type);
                o.put("test", r.test());
                o.put("threads", nThreads);
                putRates(o, r);
                boolean tg = r.test().startsWith("tg");
                o.put("n_prompt", tg ? 0 : r.tokens());
                o.put("n_gen", tg ? r.tokens() : 0);
                o.put("n_batch", batch);
                o.put("model_size", facts.bytes);
                o.put("weights_held_bytes", facts.heldBytes);
                o.put("model_n_params", facts.params);
                o.put("file_bytes", facts.fileBytes);
                o.put("kv_cache_bytes", kvBytes);
                o.put("state_bytes", stateBytes);
                o.put("peak_rss_bytes", peakRss);
                putTimes(o, r);
                if (tg) {
                    o.put("weight_bytes_per_token", facts.bytesPerToken);
                    o.put("weight_gbs", facts.bytesPerToken * r.avgTs() / 1e9);
                    if (mem != null) {
                        double roof = mem.bestGBs() * 1e9 / facts.bytesPerToken;
                        o.put("memory_read_gbs", mem.bestGBs());
                        o.put("roofline_ts", roof);
                        o.put("roofline_fraction", r.avgTs() / roof);
                    }
                }
            }
            if (json) {
                out.println(mapper.writeValueAsString(rows));
            } else {
                printTable(out, rows);
                out.printf("peak RSS %.1f MiB = file %.1f MiB %+.1f MiB (KV cache %.1f MiB, activations %.1f MiB)%n",
                        peakRss / 1048576.0, facts.fileBytes / 1048576.0, (peakRss - facts.fileBytes) / 1048576.0,
                        kvBytes / 1048576.0, stateBytes / 1048576.0);
                if (facts.heldBytes != facts.bytes) {
                    out.printf("weights held in memory %.1f MiB, the file's %.1f MiB: Q4_K matrices repacked for decoding "
                            + "(-Djllm.repack=false keeps the file's layout)%n", facts.heldBytes / 1048576.0, facts.bytes / 1048576.0);
                }
                for (Benchmark.Result r : results) {
                    out.printf("%s: %d GCs (%d ms), %.1f bytes allocated per token by the calling thread, %.2f cores busy%n",
                            r.test(), r.gcCount(), r.gcMillis(), r.allocatedBytesPerToken(), r.cpuUtilization());
                }
                if (mem != null) printMemory(out, mem, facts.bytesPerToken, results);
            }
        } else {
            MemoryBandwidth.Result mem = MemoryBandwidth.measure((long) memoryMiB << 20, nThreads, 1, MEMORY_PASSES);
            if (json) {
                ObjectNode o = rows.addObject();
                o.put("test", "memory_read");
                o.put("threads", nThreads);
                o.put("bytes", mem.bytes());
                o.put("best_gbs", mem.bestGBs());
                o.put("avg_gbs", mem.meanGBs());
                o.put("stddev_gbs", mem.stddevGBs());
                ArrayNode s = o.putArray("samples_gbs");
                for (double v : mem.samplesGBs()) s.add(v);
                out.println(mapper.writeValueAsString(rows));
            } else {
                printMemory(out, mem, 0, List.of());
            }
        }
        out.flush();
        return 0;
    }

    /** Whether the command line named option {@code name} (any of its aliases). */
    boolean given(String name) {
        return spec.commandLine().getParseResult().hasMatchedOption(name);
    }

    private static void printMemory(PrintWriter out, MemoryBandwidth.Result mem, long bytesPerToken, List<Benchmark.Result> results) {
        out.printf("memory read bandwidth: best %.2f GB/s, mean %.2f ± %.2f GB/s (%d passes over %d MiB, %d threads)%n",
                mem.bestGBs(), mem.meanGBs(), mem.stddevGBs(), mem.samplesNs().length, mem.bytes() >> 20, mem.threads());
        if (bytesPerToken <= 0) return;
        double roof = mem.bestGBs() * 1e9 / bytesPerToken;
        out.printf("generation roofline: %.2f tok/s (%d weight bytes per token)%n", roof, bytesPerToken);
        for (Benchmark.Result r : results) {
            if (r.test().startsWith("tg")) out.printf("%s: %.1f%% of the roofline%n", r.test(), 100 * r.avgTs() / roof);
        }
    }

    private static void printTable(PrintWriter out, ArrayNode rows) {
        String fmt = "| %-28s | %10s | %8s | %-5s | %7s | %8s | %20s | %9s |%n";
        out.printf(fmt, "model", "size", "params", "type", "threads", "test", "t/s", "GB/s");
        out.printf(fmt, "-".repeat(28), "-".repeat(10), "-".repeat(8), "-".repeat(5), "-".repeat(7), "-".repeat(8), "-".repeat(20), "-".repeat(9));
        for (var o : rows) {
            String gbs = o.has("weight_gbs") ? String.format("%.2f", o.get("weight_gbs").asDouble()) : "";
            out.printf(fmt, o.get("model").asText(), String.format("%.2f MiB", o.get("model_size").asLong() / 1048576.0),
                    String.format("%.2f B", o.get("model_n_params").asLong() / 1e9), o.get("type").asText(),
                    o.get("threads").asInt(), o.get("test").asText(),
                    String.format("%.2f ± %.2f", o.get("avg_ts").asDouble(), o.get("stddev_ts").asDouble()), gbs);
        }
    }

    /** What the table and JSON say about the model file. */
    private record ModelFacts(String name, String type, long bytes, long params, long fileBytes, long bytesPerToken, long heldBytes) {
        static ModelFacts of(Path file, Engine e) throws java.io.IOException {
            LlamaWeights w = e.model().weights();
            long params = 0;
            for (LlamaWeights.Param p : LlamaWeights.parameters(e.model().config())) params += p.size();
            return new ModelFacts(file.getFileName().toString(), dominantType(w), w.storedBytes(), params,
                    Files.size(file), Benchmark.weightBytesPerToken(w), w.heldBytes());
        }

        /** The type holding the most bytes among the blocks' matrices (the file's quantization, as llama-bench names it). */
        static String dominantType(LlamaWeights w) {
            Map<GGMLType, Long> by = new EnumMap<>(GGMLType.class);
            for (Tensor[] layer : new Tensor[][] {w.wq(), w.wk(), w.wv(), w.wo(), w.wGate(), w.wUp(), w.wDown()}) {
                if (layer == null) continue;
                for (Tensor t : layer) by.merge(t.type().fileType(), t.fileBytes(), Long::sum);
            }
            return by.entrySet().stream().max(Map.Entry.comparingByValue()).map(en -> en.getKey().name()).orElse("?");
        }
    }

    /** llama-bench's rate keys of one test: {@code avg_ts}, {@code stddev_ts}, {@code samples_ts}. */
    static void putRates(ObjectNode o, Benchmark.Result r) {
        o.put("avg_ts", r.avgTs());
        o.put("stddev_ts", r.stddevTs());
        ArrayNode ts = o.putArray("samples_ts");
        for (double v : r.samplesTs()) ts.add(v);
    }

    /**
     * The time keys of one test: llama-bench's {@code avg_ns}, {@code stddev_ns}, {@code samples_ns}, and jllm's
     * {@code gc_count}, {@code gc_ms}, {@code alloc_bytes_per_token}, {@code cpu_ns}, {@code cpu_utilization}.
     */
    static void putTimes(ObjectNode o, Benchmark.Result r) {
        o.put("avg_ns", r.avgNs());
        o.put("stddev_ns", r.stddevNs());
        ArrayNode ns = o.putArray("samples_ns");
        for (long v : r.samplesNs()) ns.add(v);
        o.put("gc_count", r.gcCount());
        o.put("gc_ms", r.gcMillis());
        o.put("alloc_bytes_per_token", r.allocatedBytesPerToken());
        o.put("cpu_ns", r.cpuNanos());
        o.put("cpu_utilization", r.cpuUtilization());
    }
}
