package jllm.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import jllm.format.hf.LoraAdapter;
import jllm.format.hf.PeftAdapter;
import jllm.format.hf.PeftLoraConfig;
import jllm.format.hf.PeftLoraMapping;
import jllm.generate.Engine;
import jllm.model.LoRA;
import jllm.model.LoRAInit;
import jllm.model.ModelConfig;
import jllm.tokenizer.Tokenizer;
import jllm.train.DataLoader;
import jllm.train.Dataset;
import jllm.train.LoraTrainingRun;
import jllm.train.TrainConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code jllm lora train}: trains a LoRA adapter over a frozen model (GGUF file, model folder or Hugging Face folder)
 * with the training flags of {@code jllm train}; writes a PEFT adapter folder (adapter_config.json +
 * adapter_model.safetensors, plus checkpoint, log and loss curve) that {@code --lora} and Python PEFT read. Parses
 * flags, calls {@link LoraTrainingRun}, prints.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train a LoRA adapter on a frozen model; writes a PEFT adapter folder.")
public final class LoraTrainCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, description = "Base model: a GGUF file, a jllm model folder or a Hugging Face folder (stays frozen).")
    Path model;
    @Option(names = "--data", required = true, description = "Training data: plain text, or JSONL with text, prompt/completion or input_ids.")
    Path data;
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output adapter folder.")
    Path out;
    @Option(names = {"-r", "--rank"}, description = "LoRA rank r (default: 8, or the --init-adapter's).")
    Integer rank;
    @Option(names = "--alpha", description = "LoRA alpha; the update is scaled by alpha / r (default: 8, or the --init-adapter's).")
    Double alpha;
    @Option(names = "--dropout", description = "Dropout on the LoRA input in training (default: 0, or the --init-adapter's).")
    Double dropout;
    @Option(names = "--targets", description = "Modules to adapt, as PEFT names them: q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj "
            + "(LLaMA) or c_attn,c_proj,c_fc (GPT-2) (default: q_proj,v_proj or c_attn, as PEFT; or the --init-adapter's).")
    String targets;
    @Option(names = "--init-adapter", paramLabel = "DIR", description = "Start from this PEFT adapter instead of a new one.")
    Path initAdapter;
    @Option(names = "--init", defaultValue = "kaiming", description = "A new adapter's A: kaiming (PEFT's default) or gaussian; B starts at 0 (default: ${DEFAULT-VALUE}).")
    String init;
    @Mixin TrainingOptions training;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        TrainConfig cfg = training.trainConfig();
        try (Engine engine = Engine.open(model, 1)) {
            ModelConfig c = engine.model().config();
            LoRA lora;
            PeftLoraConfig peft;
            if (initAdapter != null) {
                LoraAdapter ad = PeftAdapter.read(initAdapter);
                PeftLoraConfig a = ad.config();
                if (rank != null && rank != a.r()) throw new IllegalArgumentException("--rank " + rank + " differs from the --init-adapter's r " + a.r());
                if (alpha != null && alpha != a.loraAlpha()) throw new IllegalArgumentException("--alpha " + alpha + " differs from the --init-adapter's lora_alpha " + a.loraAlpha());
                if (targets != null && !parseTargets(targets).equals(a.targetModules())) {
                    throw new IllegalArgumentException("--targets " + targets + " differs from the --init-adapter's target_modules " + a.targetModules());
                }
                peft = new PeftLoraConfig(a.r(), a.loraAlpha(), a.targetModules(), a.targetModulesIsRegex(), dropout != null ? dropout : a.loraDropout(),
                        a.bias(), a.taskType(), model.toString(), a.fanInFanOut(), a.useRslora());
                lora = PeftLoraMapping.toModel(new LoraAdapter(peft, ad.targets()), c, true);
            } else {
                List<String> t = targets != null ? parseTargets(targets) : defaultTargets(c);
                peft = new PeftLoraConfig(rank != null ? rank : 8, alpha != null ? alpha : 8, t, false, dropout != null ? dropout : 0,
                        "none", "CAUSAL_LM", model.toString(), c.architecture().equals("gpt2"), false);
                lora = PeftLoraMapping.init(c, peft, LoRAInit.parse(init), training.seed);
            }
            Tokenizer tok = engine.tokenizer();
            Dataset ds = Dataset.read(data, new Dataset.Encoder() {
                public int[] encode(String text, boolean addBos) { return tok.encode(text, addBos, false); }
                public int eos() { return tok.eos(); }
                public int vocabSize() { return c.vocab(); }
            }, training.seq);
            err.printf(Locale.ROOT, "jllm: %s: %s %d layers, dim %d (frozen); LoRA r %d, alpha %s, dropout %s on %s; data: %,d rows, %,d tokens (%s)%n",
                    model.getFileName(), c.architecture(), c.nLayers(), c.dim(), peft.r(), num(peft.loraAlpha()), num(peft.loraDropout()),
                    String.join(",", peft.targetModules()), ds.size(), ds.tokens(), ds.format());
            TrainProgress progress = new TrainProgress(err);
            String name = model.toAbsolutePath().getFileName().toString();
            LoraTrainingRun.Summary s = LoraTrainingRun.run(engine.model().weights(), lora, cfg,
                    new DataLoader(ds, training.batch, training.seq, !training.noShuffle, training.seed),
                    new LoraTrainingRun.Options(out, training.log, training.saveEvery, peft, name), training.resume,
                    progress::onStep, m -> err.println("jllm: " + m));
            progress.finish();
            err.printf(Locale.ROOT, "jllm: %d steps, last loss %.4f, %.1f s; adapter folder %s (use --lora %s)%n", s.steps(), s.lastLoss(),
                    s.nanos() / 1e9, out, out);
        }
        return 0;
    }

    static List<String> parseTargets(String s) {
        List<String> t = Arrays.stream(s.split(",")).map(String::trim).filter(x -> !x.isEmpty()).distinct().toList();
        if (t.isEmpty()) throw new IllegalArgumentException("--targets names no module");
        return t;
    }

    /** PEFT's defaults (TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING): llama, qwen2 q_proj,v_proj; gpt2 c_attn. */
    static List<String> defaultTargets(ModelConfig c) {
        return c.architecture().equals("gpt2") ? List.of("c_attn") : List.of("q_proj", "v_proj");
    }

    private static String num(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
