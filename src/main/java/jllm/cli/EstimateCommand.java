package jllm.cli;

import java.util.Locale;
import java.util.concurrent.Callable;

import jllm.estimate.ActivationMemory.Recompute;
import jllm.estimate.ByteModel;
import jllm.estimate.DataType;
import jllm.estimate.Estimate;
import jllm.estimate.Flops;
import jllm.estimate.InferenceMemory;
import jllm.estimate.Lora;
import jllm.estimate.ModelSpec;
import jllm.estimate.Optimizer;
import jllm.estimate.Roofline;
import jllm.estimate.TrainingMemory;
import jllm.estimate.TrainingTime;
import jllm.model.ModelConfig;
import jllm.train.LrSchedule;
import jllm.train.Parameters;
import jllm.train.TrainConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code jllm estimate}: the memory and training-time planner (issue 4). It parses flags into the planner's
 * records ({@link InferenceMemory}, {@link TrainingMemory}, {@link TrainingTime}, {@link Roofline}), runs them and
 * prints a table, the derivation ({@code --explain}, {@code --lang zh}) or one JSON object ({@code --json}).
 */
@Command(name = "estimate", mixinStandardHelpOptions = true,
        description = {"Plan memory and time: inference, training, training time. Every number can be explained (--explain)."},
        subcommands = {EstimateCommand.Infer.class, EstimateCommand.Train.class, EstimateCommand.Time.class,
                CommandLine.HelpCommand.class})
public final class EstimateCommand implements Runnable {
    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getErr());
    }

    static Recompute recompute(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "none", "no", "off" -> Recompute.NONE;
            case "selective" -> Recompute.SELECTIVE;
            case "full" -> Recompute.FULL;
            default -> throw new IllegalArgumentException("--recompute must be none, selective or full, got " + s);
        };
    }

    /** {@code jllm estimate infer}. */
    @Command(name = "infer", mixinStandardHelpOptions = true,
            description = {"Memory of inference per GPU: weights, KV cache, activations and logits; what fits.",
                    "Example: jllm estimate infer -m llama-2-7b --batch 4 --seq 2048 --explain"})
    static final class Infer implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin EstimateOptions.ModelFlags model = new EstimateOptions.ModelFlags();
        @Mixin EstimateOptions.GpuFlags gpu = new EstimateOptions.GpuFlags();
        @Mixin EstimateOptions.OutputFlags output = new EstimateOptions.OutputFlags();

        @Option(names = "--dtype", paramLabel = "TYPE",
                description = "Weight type: fp32 fp16 bf16 fp8 int8 int4 nf4 nf4-dq q8_0 q4_0 q4_1 q4_k q5_k q6_k (default: as a GGUF file stores them, else fp16).")
        String dtype;
        @Option(names = "--kv-dtype", paramLabel = "TYPE", description = "KV cache type (default: --dtype when it is a float type, else fp16).")
        String kvDtype;
        @Option(names = "--act-dtype", paramLabel = "TYPE", description = "Activation type (default: --dtype when 16-bit float, else fp32 as jllm and llama.cpp compute).")
        String actDtype;
        @Option(names = "--batch", defaultValue = "1", description = "Sequences decoded together. Default: ${DEFAULT-VALUE}.") long batch;
        @Option(names = "--seq", defaultValue = "0", description = "Tokens per sequence, prompt plus generated.") long seq;
        @Option(names = "--tp", defaultValue = "1", description = "Tensor-parallel GPUs. Default: ${DEFAULT-VALUE}.") int tp;
        @Option(names = "--flash-attention", description = "Attention scores are tiled, never stored.") boolean flash;
        @Option(names = "--prefill-chunk", defaultValue = "0", description = "Prompt tokens run at once (llama.cpp ubatch; 0: the whole prompt).")
        long prefillChunk;
        @Option(names = "--verify", description = {"Load the GGUF model, allocate the KV cache for --seq tokens, run a prompt, and print",
                "predicted and engine-measured bytes side by side (jllm computes in fp32: KV cache and activations are",
                "planned as fp32 with tiled attention; chunk = --prefill-chunk, default 64)."})
        boolean verify;
        @Option(names = {"-t", "--threads"}, defaultValue = "0", description = "Threads for --verify (default: all cores).")
        int threads;

        @Override
        public Integer call() throws Exception {
            if (verify) return verify();
            ModelSpec m = model.resolve();
            // A GGUF file's weights are planned as stored (null) unless --dtype asks for another type.
            DataType w = dtype != null ? DataType.parse(dtype) : m.stored() != null ? null : DataType.FP16;
            boolean float16 = w != null && w.policy() == DataType.Policy.FLAT && w.bits() == 16;
            DataType kv = kvDtype != null ? DataType.parse(kvDtype) : w != null && w.policy() == DataType.Policy.FLAT && w.bits() >= 16 ? w : DataType.FP16;
            DataType act = actDtype != null ? DataType.parse(actDtype) : float16 ? w : DataType.FP32;
            Estimate e = new InferenceMemory(m, w, kv, act, batch, seq, tp, flash, prefillChunk, gpu.memory()).estimate();
            output.print(e, spec.commandLine().getOut(), spec.commandLine().getErr());
            return 0;
        }

        /** The plan for what jllm's engine allocates, then the engine's own numbers beside it. */
        private Integer verify() throws Exception {
            if (model.model == null || !model.model.toLowerCase(java.util.Locale.ROOT).endsWith(".gguf")) {
                throw new IllegalArgumentException("--verify needs -m FILE.gguf (a model the engine can load)");
            }
            if (seq < 2 || seq > Integer.MAX_VALUE) throw new IllegalArgumentException("--verify needs --seq of at least 2 tokens, got " + seq);
            if (batch != 1 || tp != 1) throw new IllegalArgumentException("--verify runs one sequence on one device: use --batch 1 --tp 1");
            if (dtype != null || (kvDtype != null && !kvDtype.equalsIgnoreCase("fp32")) || (actDtype != null && !actDtype.equalsIgnoreCase("fp32"))) {
                throw new IllegalArgumentException("--verify plans what the engine allocates (weights as stored, fp32 KV cache and activations); drop --dtype/--kv-dtype/--act-dtype");
            }
            int chunk = (int) Math.min(prefillChunk > 0 ? prefillChunk : 64, seq);
            ModelSpec m = model.resolve();
            Estimate e = new InferenceMemory(m, null, DataType.FP32, DataType.FP32, 1, seq, 1, true, chunk, gpu.memory()).estimate();
            output.print(e, spec.commandLine().getOut(), spec.commandLine().getErr());
            boolean ok = EngineVerification.run(java.nio.file.Path.of(model.model), (int) seq, chunk, threads, e, spec.commandLine().getOut());
            return ok ? 0 : Main.EXIT_ERROR;
        }
    }

    /** {@code jllm estimate train}. */
    @Command(name = "train", mixinStandardHelpOptions = true,
            description = {"Memory of training per GPU: weights, gradients, optimizer states, fp32 master weights, activations.",
                    "Byte models (--byte-model): auto = from the flags; zero = Rajbhandari et al. 2020 (16 B/param);",
                    "megatron = Megatron-LM distributed optimizer (18 B/param, 6 + 12/d); deepspeed = DeepSpeed's",
                    "estimate_zero2/zero3 functions; accelerate = HF accelerate estimate-memory (4x the weights).",
                    "Example: jllm estimate train -m llama-2-7b --mixed-precision --zero 3 --gpus 64 --seq 4096 --explain"})
    static final class Train implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin EstimateOptions.ModelFlags model = new EstimateOptions.ModelFlags();
        @Mixin EstimateOptions.GpuFlags gpu = new EstimateOptions.GpuFlags();
        @Mixin EstimateOptions.OutputFlags output = new EstimateOptions.OutputFlags();

        @Option(names = "--dtype", paramLabel = "TYPE", description = "Weight type (default: bf16 with --mixed-precision, else fp32).") String dtype;
        @Option(names = "--grad-dtype", paramLabel = "TYPE", description = "Gradient type (default: the weight type; megatron: fp32).") String gradDtype;
        @Option(names = "--mixed-precision", description = "16-bit weights and activations with an fp32 master copy (4 B/param).") boolean mixed;
        @Option(names = "--optimizer", defaultValue = "adamw", description = "adamw, adam8bit, sgd (with momentum), adafactor. Default: ${DEFAULT-VALUE}.") String optimizer;
        @Option(names = "--byte-model", defaultValue = "auto", description = "auto, zero, megatron, deepspeed, accelerate. Default: ${DEFAULT-VALUE}.") String byteModel;
        @Option(names = "--zero", defaultValue = "0", description = "ZeRO stage 0-3. Default: ${DEFAULT-VALUE}.") int zero;
        @Option(names = "--dp", description = "Data-parallel ranks (default: --gpus / (tp x pp), else 1).") Integer dp;
        @Option(names = "--gpus", description = "GPUs in all (= dp x tp x pp).") Integer gpus;
        @Option(names = "--tp", defaultValue = "1", description = "Tensor-parallel size.") int tp;
        @Option(names = "--pp", defaultValue = "1", description = "Pipeline stages.") int pp;
        @Option(names = "--sp", description = "Sequence parallelism (Korthikanti et al. 2022).") boolean sp;
        @Option(names = "--recompute", defaultValue = "none", description = "Activation recomputation: none, selective, full.") String recompute;
        @Option(names = "--flash-attention", description = "Attention scores never stored (removes the s^2 terms).") boolean flash;
        @Option(names = "--dropout", negatable = true, description = "The model trains with dropout (default: on for plain-MLP GPT/BERT/T5 shapes, off for gated Llama-style).")
        Boolean dropout;
        @Option(names = "--batch", defaultValue = "1", description = "Micro-batch size per GPU. Default: ${DEFAULT-VALUE}.") long batch;
        @Option(names = "--seq", defaultValue = "0", description = "Sequence length (activations are counted only with it).") long seq;
        @Option(names = "--micro-batches", description = "Micro-batches per step (default: --pp).") Long microBatches;
        @Option(names = "--offload-optimizer", description = "Optimizer states (and with ZeRO-2/3 gradients) in CPU memory.") boolean offloadOptimizer;
        @Option(names = "--offload-params", description = "Weights in CPU memory (ZeRO-3).") boolean offloadParams;
        @Option(names = "--lora-rank", description = "LoRA rank r (freezes the base weights).") Integer loraRank;
        @Option(names = "--lora-targets", defaultValue = "q,v", description = "Adapted matrices: q,k,v,o,gate,up,down or all. Default: ${DEFAULT-VALUE}.") String loraTargets;
        @Option(names = "--qlora", description = "Frozen base in NF4 (QLoRA).") boolean qlora;
        @Option(names = "--double-quant", description = "QLoRA double quantization of the NF4 constants.") boolean doubleQuant;
        @Option(names = "--largest-layer", paramLabel = "N", description = "Parameters of the largest layer (default: from the shape).") String largestLayer;
        @Option(names = "--gpus-per-node", description = "GPUs per node, for CPU memory per node (default: min(8, GPUs)).") Integer gpusPerNode;
        @Option(names = "--zero-init", negatable = true, defaultValue = "true", fallbackValue = "true",
                description = "DeepSpeed zero.Init (deepspeed byte model). Default: ${DEFAULT-VALUE}.") boolean zeroInit;
        @Option(names = "--verify", description = {"Build jllm's trainer (-m FILE.gguf or Hugging Face folder, or --config PRESET), run one step on",
                "random tokens, and print predicted and trainer-measured bytes side by side: weights, gradients and",
                "optimizer states to the byte, activations within 10%. Plans what the trainer allocates: fp32 gradients,",
                "tiled attention, no dropout, one device; --optimizer adamw or sgd (with momentum), --recompute none or full."})
        boolean verify;
        @Option(names = "--config", paramLabel = "PRESET", description = {"With --verify: a jllm train preset instead of -m (llama-tiny, llama-3m,",
                "llama-15m, gpt2-tiny, gpt2-124m); vocabulary --vocab (default: 257, jllm train's byte-level tokenizer)."})
        String config;
        @Option(names = {"-t", "--threads"}, defaultValue = "0", description = "Threads for --verify (default: all cores).") int threads;

        @Override
        public Integer call() throws Exception {
            if (verify) return verify();
            if (config != null) throw new IllegalArgumentException("--config names a jllm train preset for --verify; plan presets with -m");
            ModelSpec m = model.resolve();
            if (pp < 1 || tp < 1) throw new IllegalArgumentException("--tp and --pp must be at least 1");
            int d;
            if (gpus != null) {
                if (gpus % (tp * pp) != 0) throw new IllegalArgumentException("--gpus " + gpus + " is not a multiple of tp x pp = " + tp * pp);
                d = gpus / (tp * pp);
                if (dp != null && dp != d) throw new IllegalArgumentException("--dp " + dp + " disagrees with --gpus " + gpus + " / (tp x pp)");
            } else {
                d = dp == null ? 1 : dp;
            }
            DataType w = dtype != null ? DataType.parse(dtype) : mixed ? DataType.BF16 : DataType.FP32;
            Lora lora = loraRank == null ? null : new Lora(loraRank, Lora.parseTargets(loraTargets));
            boolean drop = dropout != null ? dropout : m.hasShape() && !m.shape().gatedMlp();
            int total = d * tp * pp;
            int perNode = gpusPerNode != null ? gpusPerNode : Math.min(8, total);
            long largest = largestLayer == null ? 0 : EstimateOptions.count(largestLayer, "--largest-layer");
            Estimate e = new TrainingMemory(m, w, gradDtype == null ? null : DataType.parse(gradDtype), mixed,
                    Optimizer.parse(optimizer), ByteModel.parse(byteModel), zero, d, tp, pp, sp, recompute(recompute),
                    flash, drop, batch, seq, microBatches == null ? pp : microBatches, offloadOptimizer, offloadParams,
                    lora, qlora, doubleQuant, largest, perNode, zeroInit, gpu.memory()).estimate();
            output.print(e, spec.commandLine().getOut(), spec.commandLine().getErr());
            return 0;
        }

        /** The plan for what jllm's trainer allocates, then the trainer's own numbers beside it. */
        private Integer verify() throws Exception {
            if (zero != 0 || (dp != null && dp != 1) || (gpus != null && gpus != 1) || tp != 1 || pp != 1 || sp
                    || offloadOptimizer || offloadParams || qlora || doubleQuant || microBatches != null) {
                throw new IllegalArgumentException("--verify runs jllm's trainer on one device: drop --zero/--dp/--gpus/--tp/--pp/--sp/"
                        + "--offload-*/--qlora/--micro-batches");
            }
            if (!byteModel.equalsIgnoreCase("auto")) throw new IllegalArgumentException("--verify plans with --byte-model auto, got " + byteModel);
            if (dtype != null || (gradDtype != null && !gradDtype.equalsIgnoreCase("fp32"))) {
                throw new IllegalArgumentException("--verify plans what the trainer allocates (fp32 weights, bf16 working copies with "
                        + "--mixed-precision, fp32 gradients); drop --dtype/--grad-dtype");
            }
            if (Boolean.TRUE.equals(dropout)) throw new IllegalArgumentException("jllm's trainer has no dropout; drop --dropout");
            if (seq < 1 || seq > Integer.MAX_VALUE || batch > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("--verify needs --seq of at least 1 token (and --batch), got --seq " + seq);
            }
            Optimizer opt = Optimizer.parse(optimizer);
            TrainConfig.OptimizerKind kind = switch (opt) {
                case ADAMW -> TrainConfig.OptimizerKind.ADAMW;
                case SGD -> TrainConfig.OptimizerKind.SGD;
                default -> throw new IllegalArgumentException("jllm's trainer has adamw and sgd, not --optimizer " + optimizer);
            };
            Recompute rc = recompute(recompute);
            if (rc == Recompute.SELECTIVE) throw new IllegalArgumentException("jllm's trainer recomputes whole blocks: --recompute none or full");
            Lora lora = loraRank == null ? null : new Lora(loraRank, Lora.parseTargets(loraTargets));
            if (lora != null && mixed) {
                // The planner's LoRA under mixed precision holds the whole frozen base in 16 bits and a 16-bit copy of
                // the adapters; jllm's LoRA trainer rounds only the base's matrices to bf16 (embeddings and norms stay
                // as loaded) and computes the adapters from their fp32 values: not comparable byte for byte.
                throw new IllegalArgumentException("--verify checks LoRA in fp32; drop --mixed-precision with --lora-rank");
            }
            Parameters params;
            ModelSpec m;
            String name;
            if (model.params != null) throw new IllegalArgumentException("--verify counts the model's own tensors; drop --params");
            if (config != null) {
                if (model.model != null) throw new IllegalArgumentException("give -m MODEL or --config PRESET, not both");
                Integer v = model.vocab;
                model.vocab = null;
                if (model.hasShapeFlags()) throw new IllegalArgumentException("--config PRESET fixes the shape; of the shape flags only --vocab applies");
                model.vocab = v;
                ModelConfig c = jllm.train.Presets.get(config, model.vocab != null ? model.vocab : jllm.train.ByteTokenizer.VOCAB);
                params = Parameters.init(c, 42, mixed);
                m = ModelSpec.of(TrainVerification.shapeOf(config, c));
                name = config;
            } else {
                java.nio.file.Path p = model.model == null ? null : java.nio.file.Path.of(model.model);
                if (p == null || !java.nio.file.Files.exists(p)) {
                    throw new IllegalArgumentException("--verify needs -m FILE.gguf, a jllm model folder or a Hugging Face folder, or --config PRESET");
                }
                params = TrainableModel.load(p, mixed).params();
                // a jllm model folder is planned from its model.gguf, as the trainer loads it
                boolean folder = java.nio.file.Files.isDirectory(p) && java.nio.file.Files.exists(p.resolve(ModelPaths.FOLDER_MODEL));
                m = folder ? jllm.estimate.GgufModel.read(ModelPaths.resolve(p)) : model.resolve();
                name = p.getFileName().toString();
            }
            int threads = this.threads > 0 ? this.threads : Runtime.getRuntime().availableProcessors();
            TrainConfig cfg = new TrainConfig(1, (int) batch, (int) seq, 1, kind, new LrSchedule(LrSchedule.Kind.CONSTANT, 1e-4, 0, 1, 0),
                    0.1, 0.9, 0.95, 1e-8, 0.9, 1.0, 42, false, mixed, rc == Recompute.FULL, threads);
            Estimate e = new TrainingMemory(m, mixed ? DataType.BF16 : DataType.FP32, DataType.FP32, mixed, opt, ByteModel.AUTO, 0, 1, 1, 1,
                    false, rc, true, false, batch, seq, 1, false, false, lora, false, false, 0, 1, true, gpu.memory()).estimate();
            if (!output.json) output.print(e, spec.commandLine().getOut(), spec.commandLine().getErr());
            boolean ok = TrainVerification.run(name, params, lora, cfg, e, output.json, spec.commandLine().getOut());
            return ok ? 0 : Main.EXIT_ERROR;
        }
    }

    /** {@code jllm estimate time}. */
    @Command(name = "time", mixinStandardHelpOptions = true,
            description = {"Training FLOPs and time (6ND, 8ND with full recomputation, or the exact per-layer count);",
                    "achieved FLOP/s and MFU from a measured iteration time; decode and prefill latency bounds (roofline).",
                    "Example: jllm estimate time --params 175e9 --tokens 300e9 --gpus 1000 --gpu a100-80gb --mfu 0.3"})
    static final class Time implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin EstimateOptions.ModelFlags model = new EstimateOptions.ModelFlags();
        @Mixin EstimateOptions.GpuFlags gpu = new EstimateOptions.GpuFlags();
        @Mixin EstimateOptions.OutputFlags output = new EstimateOptions.OutputFlags();

        @Option(names = "--tokens", paramLabel = "D", description = "Training tokens (300e9, 2T).") String tokens;
        @Option(names = "--method", defaultValue = "6nd", description = "6nd (Kaplan et al.) or exact (per-layer count with the attention term). Default: ${DEFAULT-VALUE}.")
        String method;
        @Option(names = "--recompute", defaultValue = "none", description = "none, selective or full (full: 8ND).") String recompute;
        @Option(names = "--seq", defaultValue = "0", description = "Sequence length (exact method, iteration mode, roofline context).") long seq;
        @Option(names = "--gpus", defaultValue = "1", description = "GPUs. Default: ${DEFAULT-VALUE}.") int gpus;
        @Option(names = "--mfu", description = "Model FLOPs utilisation, a fraction (0.3 to 0.5 is typical).") Double mfu;
        @Option(names = "--achieved-tflops", description = "Achieved TFLOP/s per GPU (instead of peak x MFU).") Double achievedTflops;
        @Option(names = "--iteration-time", paramLabel = "SECONDS", description = "Measured seconds per iteration: gives achieved FLOP/s and MFU.") Double iterationTime;
        @Option(names = "--global-batch", description = "Sequences per iteration (with --iteration-time).") Long globalBatch;
        @Option(names = "--roofline", paramLabel = "decode|prefill", description = "Latency lower bound of one decode step or of the prefill.") String roofline;
        @Option(names = "--dtype", defaultValue = "fp16", description = "Weight type for --roofline. Default: ${DEFAULT-VALUE}.") String dtype;
        @Option(names = "--kv-dtype", defaultValue = "fp16", description = "KV cache type for --roofline. Default: ${DEFAULT-VALUE}.") String kvDtype;
        @Option(names = "--batch", defaultValue = "1", description = "Sequences for --roofline. Default: ${DEFAULT-VALUE}.") long batch;
        @Option(names = "--tp", defaultValue = "1", description = "Tensor-parallel GPUs for --roofline.") int tp;

        @Override
        public Integer call() throws Exception {
            ModelSpec m = model.resolve();
            Estimate e;
            if (roofline != null) {
                boolean prefill = switch (roofline.toLowerCase(Locale.ROOT)) {
                    case "decode" -> false;
                    case "prefill" -> true;
                    default -> throw new IllegalArgumentException("--roofline must be decode or prefill, got " + roofline);
                };
                e = new Roofline(m, prefill, DataType.parse(dtype), DataType.parse(kvDtype), batch, seq, tp, gpu.peak(),
                        gpu.bandwidthBytes()).estimate();
            } else {
                Flops.Method how = switch (method.toLowerCase(Locale.ROOT)) {
                    case "6nd", "6n" -> Flops.Method.SIX_ND;
                    case "exact" -> Flops.Method.EXACT;
                    default -> throw new IllegalArgumentException("--method must be 6nd or exact, got " + method);
                };
                double d = tokens == null ? 0 : EstimateOptions.countDouble(tokens, "--tokens");
                e = new TrainingTime(m, d, how, recompute(recompute), seq, gpus, gpu.peak(), mfu == null ? 0 : mfu,
                        achievedTflops == null ? 0 : EstimateOptions.positive(achievedTflops, "--achieved-tflops") * 1e12,
                        iterationTime == null ? 0 : EstimateOptions.positive(iterationTime, "--iteration-time"),
                        globalBatch == null ? 0 : globalBatch).estimate();
            }
            output.print(e, spec.commandLine().getOut(), spec.commandLine().getErr());
            return 0;
        }
    }
}
