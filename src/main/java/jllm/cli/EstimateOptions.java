package jllm.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jllm.estimate.Estimate;
import jllm.estimate.GgufModel;
import jllm.estimate.Gpu;
import jllm.estimate.HfConfig;
import jllm.estimate.Messages;
import jllm.estimate.ModelShape;
import jllm.estimate.ModelSpec;
import jllm.estimate.Presets;
import jllm.estimate.Report;
import picocli.CommandLine.Option;

/** Flag groups shared by {@code jllm estimate infer|train|time}, and the parsing of human quantities. */
final class EstimateOptions {
    private EstimateOptions() {}

    /** Which model: a preset, a config.json or folder, a GGUF file, or explicit shape flags. */
    static final class ModelFlags {
        @Option(names = {"-m", "--model"}, paramLabel = "PRESET|FILE",
                description = "Preset name (gpt2, llama-2-7b, mixtral-8x7b, ...), a Hugging Face config.json or folder, or a GGUF file.")
        String model;

        @Option(names = "--params", paramLabel = "N", description = "Parameter count (7e9, 6.7B, 175B); overrides the shape's count.")
        String params;

        @Option(names = "--layers", description = "Transformer blocks.") Integer layers;
        @Option(names = "--hidden", description = "Model width.") Integer hidden;
        @Option(names = "--heads", description = "Attention (query) heads.") Integer heads;
        @Option(names = "--kv-heads", description = "Key/value heads (default: --heads; 1 = MQA).") Integer kvHeads;
        @Option(names = "--head-dim", description = "Per-head width (default: hidden / heads).") Integer headDim;
        @Option(names = "--ffn", description = "MLP inner width per expert (default: 4 x hidden).") Long ffn;
        @Option(names = "--vocab", description = "Vocabulary size.") Integer vocab;
        @Option(names = "--experts", description = "MLP experts per layer (mixture of experts).") Integer experts;
        @Option(names = "--active-experts", description = "Experts each token is routed to (default 2).") Integer activeExperts;
        @Option(names = "--tied-embeddings", description = "Output projection shares the token embedding.") boolean tied;
        @Option(names = "--mlp", paramLabel = "gated|plain", defaultValue = "gated",
                description = "gated: SwiGLU, RMSNorm, no biases (Llama); plain: GeLU, LayerNorm, biases (GPT). Default: ${DEFAULT-VALUE}.")
        String mlp;
        @Option(names = "--context", description = "Trained context length (for warnings).") Long context;

        boolean hasShapeFlags() {
            return layers != null || hidden != null || heads != null || kvHeads != null || headDim != null || ffn != null
                    || vocab != null || experts != null || activeExperts != null || tied;
        }

        /** The model these flags describe. */
        ModelSpec resolve() throws IOException {
            ModelSpec spec;
            if (model != null) {
                if (hasShapeFlags()) {
                    throw new IllegalArgumentException("give either -m or the shape flags (--layers --hidden ...), not both");
                }
                spec = load(model);
            } else if (hasShapeFlags()) {
                spec = ModelSpec.of(shapeFromFlags());
            } else if (params != null) {
                return ModelSpec.ofParams(count(params, "--params"));
            } else {
                throw new IllegalArgumentException("give a model: -m PRESET|config.json|FILE.gguf, --params N, or --layers --hidden --heads --vocab");
            }
            return params == null ? spec : spec.withParams(count(params, "--params"));
        }

        private static ModelSpec load(String m) throws IOException {
            if (Presets.has(m)) return ModelSpec.of(Presets.get(m));
            Path p = Path.of(m);
            if (!Files.exists(p)) {
                throw new IllegalArgumentException("'" + m + "' is neither a preset nor a file; presets: "
                        + String.join(", ", Presets.names()));
            }
            if (Files.isRegularFile(p) && m.toLowerCase(Locale.ROOT).endsWith(".gguf")) return GgufModel.read(p);
            return ModelSpec.of(HfConfig.read(p));
        }

        private ModelShape shapeFromFlags() {
            if (layers == null || hidden == null || heads == null || vocab == null) {
                throw new IllegalArgumentException("an explicit shape needs --layers, --hidden, --heads and --vocab");
            }
            boolean gated = switch (mlp.toLowerCase(Locale.ROOT)) {
                case "gated", "swiglu", "geglu" -> true;
                case "plain", "gelu", "relu" -> false;
                default -> throw new IllegalArgumentException("--mlp must be gated or plain, got " + mlp);
            };
            int kv = kvHeads == null ? heads : kvHeads;
            int hd = headDim == null ? hidden / heads : headDim;
            long f = ffn == null ? 4L * hidden : ffn;
            int e = experts == null ? 0 : experts;
            int active = activeExperts == null ? (e > 1 ? 2 : 0) : activeExperts;
            return new ModelShape("custom", ModelShape.Arch.DECODER, layers, 0, hidden, heads, kv, hd, f, vocab,
                    context == null ? 0 : context, 0, e, active, tied, gated,
                    gated ? ModelShape.Norm.RMS_NORM : ModelShape.Norm.LAYER_NORM, !gated, false, 0, false, 0, 0);
        }
    }

    /** The GPU: a preset and/or explicit memory, peak and bandwidth. */
    static final class GpuFlags {
        @Option(names = "--gpu", paramLabel = "NAME", description = "GPU preset: a100-40gb, a100-80gb, h100-sxm, h100-pcie, h200, v100-32gb, l4, l40s, rtx-3090, rtx-4090, mi300x, tpu-v4.")
        String gpu;
        @Option(names = "--gpu-memory", paramLabel = "SIZE", description = "Memory of one GPU: 80GiB, 80GB, 24576MiB (a bare number is GiB).")
        String gpuMemory;
        @Option(names = "--peak-tflops", description = "Peak dense 16-bit TFLOP/s of one GPU.") Double peakTflops;
        @Option(names = "--bandwidth", paramLabel = "GB/s", description = "Memory bandwidth of one GPU in GB/s.") Double bandwidth;

        Gpu preset() {
            return gpu == null ? null : Gpu.get(gpu);
        }

        long memory() {
            if (gpuMemory != null) return bytes(gpuMemory, "--gpu-memory");
            Gpu g = preset();
            return g == null ? 0 : g.memoryBytes();
        }

        double peak() {
            if (peakTflops != null) return positive(peakTflops, "--peak-tflops") * 1e12;
            Gpu g = preset();
            return g == null ? 0 : g.peakFlops();
        }

        double bandwidthBytes() {
            if (bandwidth != null) return positive(bandwidth, "--bandwidth") * 1e9;
            Gpu g = preset();
            return g == null ? 0 : g.bandwidth();
        }
    }

    /** How the result is printed. */
    static final class OutputFlags {
        @Option(names = "--json", description = "Print one JSON object (bytes, counts, seconds).") boolean json;
        @Option(names = "--explain", description = "Print the derivation step by step.") boolean explain;
        @Option(names = "--lang", paramLabel = "en|zh", defaultValue = "en", description = "Language of the table and explanation: en or zh.")
        String lang;

        /** Prints {@code e}: JSON to out (explanation, if also asked, and warnings to err), else explanation or table. */
        void print(Estimate e, PrintWriter out, PrintWriter err) {
            Messages m = Messages.of(lang);
            if (json) {
                out.println(Report.json(e));
                if (explain) err.print(Report.explain(e, m));
                else for (Estimate.Note w : e.warnings()) err.println("warning: " + m.text("warn." + w.id(), w.args()));
            } else if (explain) {
                out.print(Report.explain(e, m));
            } else {
                out.print(Report.table(e, m));
            }
            out.flush();
            err.flush();
        }
    }

    private static final Pattern NUMBER = Pattern.compile("([0-9]*\\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\\s*([a-zA-Z]*)");

    /** A count: {@code 7e9}, {@code 6.7B}, {@code 175b}, {@code 1.4T}, {@code 300M}, {@code 12k}. */
    static long count(String s, String flag) {
        double v = countDouble(s, flag);
        if (v > Long.MAX_VALUE) throw new IllegalArgumentException(flag + " " + s + " is too large");
        return Math.round(v);
    }

    static double countDouble(String s, String flag) {
        Matcher m = NUMBER.matcher(s.trim());
        if (!m.matches()) throw new IllegalArgumentException(flag + " expects a number such as 7e9 or 6.7B, got '" + s + "'");
        double v = Double.parseDouble(m.group(1));
        double mult = switch (m.group(2).toUpperCase(Locale.ROOT)) {
            case "" -> 1;
            case "K" -> 1e3;
            case "M" -> 1e6;
            case "B", "G" -> 1e9;
            case "T" -> 1e12;
            default -> throw new IllegalArgumentException(flag + ": unknown suffix '" + m.group(2) + "' in '" + s + "' (K, M, B, T)");
        };
        double r = v * mult;
        if (!(r > 0)) throw new IllegalArgumentException(flag + " must be positive, got '" + s + "'");
        return r;
    }

    /** A byte size: {@code 80GiB}, {@code 80GB}, {@code 24576MiB}, {@code 1.5TB}; a bare number is GiB. */
    static long bytes(String s, String flag) {
        Matcher m = NUMBER.matcher(s.trim());
        if (!m.matches()) throw new IllegalArgumentException(flag + " expects a size such as 80GiB or 80GB, got '" + s + "'");
        double v = Double.parseDouble(m.group(1));
        double mult = switch (m.group(2).toUpperCase(Locale.ROOT)) {
            case "", "G", "GIB" -> 1L << 30;
            case "B" -> 1;
            case "KIB", "K" -> 1L << 10;
            case "MIB", "M" -> 1L << 20;
            case "TIB", "T" -> 1L << 40;
            case "KB" -> 1e3;
            case "MB" -> 1e6;
            case "GB" -> 1e9;
            case "TB" -> 1e12;
            default -> throw new IllegalArgumentException(flag + ": unknown unit '" + m.group(2) + "' in '" + s
                    + "' (B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)");
        };
        double r = v * mult;
        if (!(r > 0)) throw new IllegalArgumentException(flag + " must be positive, got '" + s + "'");
        return Math.round(r);
    }

    static double positive(double v, String flag) {
        if (!(v > 0)) throw new IllegalArgumentException(flag + " must be positive, got " + v);
        return v;
    }
}
