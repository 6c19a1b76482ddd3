package jllm.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import jllm.estimate.Estimate;
import jllm.estimate.Lora;
import jllm.estimate.ModelShape;
import jllm.model.LoRA;
import jllm.model.LoRAInit;
import jllm.model.ModelConfig;
import jllm.model.Projection;
import jllm.train.Batch;
import jllm.train.LoraTrainer;
import jllm.train.MemoryReport;
import jllm.train.Parameters;
import jllm.train.TrainConfig;
import jllm.train.Trainer;

/**
 * {@code jllm estimate train --verify}: builds the trainer {@code jllm train} (or, with {@code --lora-rank}, the
 * LoRA trainer) would build, runs one training step on random tokens, and prints the planner's prediction
 * ({@link jllm.estimate.TrainingMemory}, the code path {@code jllm estimate train} prints) beside the bytes the
 * trainer measured from its own arrays ({@link Trainer#memory}, {@link LoraTrainer#memory}). Weights (master copy
 * and bf16 working copy together), gradients and optimizer states must match to the byte, activations within 10%
 * (the planner counts the big per-row tensors of Korthikanti et al. 2022, not the per-thread scratch).
 */
final class TrainVerification {
    /** Activations may differ by this fraction. */
    static final double ACTIVATION_TOLERANCE = 0.10;

    record Row(String what, long predicted, long measured, boolean exact) {
        double diff() {
            return measured == 0 ? (predicted == 0 ? 0 : 1) : (predicted - measured) / (double) measured;
        }

        boolean ok() {
            return exact ? predicted == measured : Math.abs(predicted - measured) <= ACTIVATION_TOLERANCE * measured;
        }
    }

    private TrainVerification() {}

    /** The planner's shape of a jllm model (the tensors {@link jllm.model.LlamaWeights#parameters} lists). */
    static ModelShape shapeOf(String name, ModelConfig c) {
        boolean learned = c.positions() == ModelConfig.Positions.LEARNED;
        boolean gated = c.mlp() == ModelConfig.Mlp.SWIGLU;
        return new ModelShape(name, ModelShape.Arch.DECODER, c.nLayers(), 0, c.dim(), c.nHeads(), c.nKvHeads(), c.headDim(),
                c.ffnDim(), c.vocab(), c.contextLength(), learned ? c.contextLength() : 0, 0, 0, c.tiedOutput(), gated,
                c.norm() == ModelConfig.Norm.RMS ? ModelShape.Norm.RMS_NORM : ModelShape.Norm.LAYER_NORM,
                c.biases() == ModelConfig.Biases.ALL, c.biases() == ModelConfig.Biases.QKV, 0, false, 0, 0);
    }

    /** One LoRA module per adapted projection of every block, for the planner's targets (q k v o gate up down). */
    static LoRA adapter(ModelConfig c, Lora plan, long seed) {
        List<LoRA.Module> modules = new ArrayList<>();
        for (int l = 0; l < c.nLayers(); l++) {
            for (Projection p : Projection.values()) {
                if (p.exists(c) && plan.targets().contains(target(p))) modules.add(LoRA.Module.of(l, p));
            }
        }
        return LoRA.init(c, modules, plan.rank(), 1.0, 0.0, LoRAInit.KAIMING, seed);
    }

    private static String target(Projection p) {
        return switch (p) {
            case Q -> "q";
            case K -> "k";
            case V -> "v";
            case O -> "o";
            case GATE -> "gate";
            case UP -> "up";
            case DOWN -> "down";
        };
    }

    /**
     * Runs one step of the trainer for {@code params} (or of a LoRA trainer over them when {@code lora} is not null)
     * and prints the comparison with {@code plan}; returns true when every row agrees.
     */
    static boolean run(String name, Parameters params, Lora lora, TrainConfig cfg, Estimate plan, boolean json,
                       PrintWriter out) {
        ModelConfig c = params.config();
        MemoryReport measured;
        double loss;
        Batch b = randomBatch(c, cfg, cfg.seed());
        Batch.Source once = new Batch.Source() {
            public Batch next() { return b; }
            public long position() { return 0; }
            public void seek(long position) {}
        };
        if (lora == null) {
            try (Trainer t = new Trainer(params, cfg)) {
                loss = t.step(once).loss();
                measured = t.memory();
            }
        } else {
            try (LoraTrainer t = new LoraTrainer(params.weights(), adapter(c, lora, cfg.seed()), cfg)) {
                loss = t.step(once).loss();
                measured = t.memory().asMemoryReport();
            }
        }
        Row[] rows = {
                new Row("weights", value(plan, "weights_bytes") + value(plan, "master_weights_bytes"), measured.weights(), true),
                new Row("gradients", value(plan, "gradients_bytes"), measured.gradients(), true),
                new Row("optimizer", value(plan, "optimizer_bytes"), measured.optimizer(), true),
                new Row("activations", value(plan, "activations_bytes"), measured.activations(), false),
        };
        boolean ok = true;
        for (Row r : rows) ok &= r.ok();
        String what = String.format(Locale.ROOT, "%s, %s%s, batch %d x %d, %s%s%s", name, lora == null ? "full training" : "LoRA r " + lora.rank(),
                lora == null ? "" : " on " + String.join(",", lora.targets().stream().sorted().toList()), cfg.batch(), cfg.seq(),
                cfg.optimizer().name().toLowerCase(Locale.ROOT), cfg.mixedPrecision() ? ", mixed precision" : ", fp32",
                cfg.recompute() ? ", recompute" : "");
        if (json) {
            StringBuilder sb = new StringBuilder("{\"plan\":").append(jllm.estimate.Report.json(plan).strip())
                    .append(",\"verify\":{\"run\":\"").append(what.replace("\"", "'")).append("\",\"loss\":")
                    .append(String.format(Locale.ROOT, "%.6f", loss)).append(",\"rows\":[");
            for (int i = 0; i < rows.length; i++) {
                Row r = rows[i];
                if (i > 0) sb.append(',');
                sb.append(String.format(Locale.ROOT, "{\"what\":\"%s\",\"predicted_bytes\":%d,\"measured_bytes\":%d,\"diff\":%.6f,\"tolerance\":%s,\"ok\":%b}",
                        r.what, r.predicted, r.measured, r.diff(), r.exact ? "0" : Double.toString(ACTIVATION_TOLERANCE), r.ok()));
            }
            sb.append("],\"ok\":").append(ok).append("}}");
            out.println(sb);
        } else {
            out.printf(Locale.ROOT, "%nverify: %s; one step run, loss %.4f%n", what, loss);
            out.printf(Locale.ROOT, "%-12s %16s %16s %9s  %s%n", "", "predicted B", "trainer B", "diff", "");
            for (Row r : rows) {
                out.printf(Locale.ROOT, "%-12s %16d %16d %8.2f%%  %s%n", r.what, r.predicted, r.measured, 100 * r.diff(),
                        r.ok() ? "ok" : "MISMATCH" + (r.exact ? " (must be exact)" : " (tolerance 10%)"));
            }
        }
        out.flush();
        return ok;
    }

    /** B x T uniform random tokens, each row's targets its tokens shifted by one (seeded). */
    static Batch randomBatch(ModelConfig c, TrainConfig cfg, long seed) {
        int n = cfg.batch() * cfg.seq();
        SplittableRandom r = new SplittableRandom(seed);
        int[] tokens = new int[n], targets = new int[n];
        for (int i = 0; i < n; i++) tokens[i] = r.nextInt(c.vocab());
        for (int i = 0; i < n; i++) targets[i] = (i + 1) % cfg.seq() == 0 ? r.nextInt(c.vocab()) : tokens[i + 1];
        return new Batch(tokens, targets, cfg.batch(), cfg.seq());
    }

    private static long value(Estimate e, String key) {
        Number v = e.values().get(key);
        if (v == null) throw new IllegalStateException("the plan has no " + key);
        return v.longValue();
    }
}
