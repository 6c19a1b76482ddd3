package jllm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import javax.imageio.ImageIO;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jllm.format.gguf.GGUFFile;
import jllm.format.gguf.GGUFLlamaMapping;
import jllm.model.ModelConfig;
import jllm.tensor.GGMLType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Whole training runs on a tiny model and a small text: resuming from a checkpoint gives the same bits as an
 * uninterrupted run (fp32 and mixed precision, shuffled and in order, with accumulation); the output folder holds a
 * loadable model equal to the master weights, a JSONL log with the documented keys and a PNG; recomputation gives
 * the same bits; gradient accumulation over two micro-batches of 1 equals one batch of 2 (float rounding, 1e-6);
 * mixed precision keeps bf16 working weights and tracks the fp32 losses (within 2e-2); the memory the trainer
 * allocates equals the planner's prediction from Sizes.
 */
class TrainingRunTest {
    @TempDir Path tmp;
    static final String TEXT = "The quick brown fox jumps over the lazy dog. ".repeat(40);

    static ModelConfig tiny(String arch) {
        return arch.equals("gpt2") ? ModelConfig.gpt2(16, 2, 2, 32, 258, 32) : ModelConfig.llama(16, 2, 4, 2, 24, 258, 32);
    }

    static TrainConfig cfg(int steps, int batch, int accum, boolean shuffle, boolean mixed, boolean recompute) {
        return new TrainConfig(steps, batch, 16, accum, TrainConfig.OptimizerKind.ADAMW,
                new LrSchedule(LrSchedule.Kind.COSINE, 3e-3, 2, steps, 3e-4), 0.1, 0.9, 0.95, 1e-8, 0.9, 1.0, 5,
                shuffle, mixed, recompute, 2);
    }

    Dataset data() throws Exception {
        Path f = tmp.resolve("data.txt");
        Files.writeString(f, TEXT);
        return Dataset.read(f, new ByteEncoder(), 16);
    }

    TrainingRun.Options opts(String dir, int saveEvery) {
        return new TrainingRun.Options(tmp.resolve(dir), null, saveEvery, Map.of(), "tiny");
    }

    @ParameterizedTest(name = "{0} shuffle {1} mixed {2} accum {3}")
    @CsvSource({"llama, true, false, 1", "gpt2, false, false, 2", "llama, true, true, 1"})
    void resumeEqualsUninterrupted(String arch, boolean shuffle, boolean mixed, int accum) throws Exception {
        ModelConfig c = tiny(arch);
        TrainConfig cfg = cfg(6, 2, accum, shuffle, mixed, false);
        Dataset d = data();
        Parameters straight = Parameters.init(c, 11, mixed);
        TrainingRun.run(straight, cfg, new DataLoader(d, 2, 16, shuffle, cfg.seed()), opts("a", 0), null, null, s -> {});

        // the same run, killed after the checkpoint of step 3 ...
        Parameters first = Parameters.init(c, 11, mixed);
        class Crash extends RuntimeException {}
        assertThatThrownBy(() -> TrainingRun.run(first, cfg, new DataLoader(d, 2, 16, shuffle, cfg.seed()), opts("b", 3), null,
                (r, conf, f0) -> { if (r.step() == 3) throw new Crash(); }, s -> {})).isInstanceOf(Crash.class);
        // ... and resumed from it
        Checkpoint.State st = TrainingRun.resumeState(opts("b", 3), mixed);
        assertThat(st.step()).isEqualTo(3);
        TrainingRun.run(st.params(), cfg, new DataLoader(d, 2, 16, shuffle, cfg.seed()), opts("b", 3), st, null, s -> {});

        for (Parameters.Entry e : straight.entries()) {
            assertThat(st.params().entry(e.name()).value()).as("%s after resume", e.name()).containsExactly(e.value());
        }
        List<double[]> a = TrainLog.readLosses(tmp.resolve("a").resolve(TrainingRun.LOG));
        List<double[]> b = TrainLog.readLosses(tmp.resolve("b").resolve(TrainingRun.LOG));
        assertThat(b).hasSize(6);
        for (int i = 0; i < 6; i++) assertThat(b.get(i)).containsExactly(a.get(i));
    }

    @Test
    void outputFolderHoldsModelLogAndCurve() throws Exception {
        ModelConfig c = tiny("gpt2");
        Parameters p = Parameters.init(c, 3, false);
        TrainConfig cfg = cfg(8, 2, 1, true, false, false);
        TrainingRun.Summary s = TrainingRun.run(p, cfg, new DataLoader(data(), 2, 16, true, 5), opts("out", 0), null, null, x -> {});
        Path dir = tmp.resolve("out");
        assertThat(s.steps()).isEqualTo(8);
        try (GGUFFile f = GGUFFile.open(dir.resolve(TrainingRun.MODEL))) {
            GGUFLlamaMapping.Loaded ld = GGUFLlamaMapping.load(f);
            assertThat(ld.config()).isEqualTo(c);
            assertThat(ld.weights().wUp()[1].toFloatArray()).containsExactly(p.entry("blk.1.ffn_up.weight").value());
        }
        List<String> lines = Files.readAllLines(dir.resolve(TrainingRun.LOG));
        assertThat(lines).hasSize(8);
        JsonNode first = new ObjectMapper().readTree(lines.get(0));
        assertThat(first.fieldNames()).toIterable().containsExactly("step", "loss", "lr", "grad_norm", "tokens_per_s");
        assertThat(first.get("step").asInt()).isZero();
        assertThat(first.get("loss").asDouble()).isCloseTo(Math.log(258), org.assertj.core.data.Offset.offset(0.05));
        List<double[]> losses = TrainLog.readLosses(dir.resolve(TrainingRun.LOG));
        assertThat(losses.get(7)[1]).as("loss falls").isLessThan(losses.get(0)[1]);
        BufferedImage png = ImageIO.read(dir.resolve(TrainingRun.CURVE).toFile());
        assertThat(png.getWidth()).isEqualTo(800);
        assertThat(png.getHeight()).isEqualTo(500);
    }

    @Test
    void recomputeGivesTheSameBits() throws Exception {
        ModelConfig c = tiny("llama");
        Dataset d = data();
        Parameters a = Parameters.init(c, 5, false), b = Parameters.init(c, 5, false);
        try (Trainer ta = new Trainer(a, cfg(3, 2, 1, false, false, false)); Trainer tb = new Trainer(b, cfg(3, 2, 1, false, false, true))) {
            DataLoader la = new DataLoader(d, 2, 16, false, 1), lb = new DataLoader(d, 2, 16, false, 1);
            for (int i = 0; i < 3; i++) assertThat(tb.step(lb).loss()).isEqualTo(ta.step(la).loss());
            assertThat(tb.memory().activations()).isLessThan(ta.memory().activations());
        }
        for (Parameters.Entry e : a.entries()) assertThat(b.entry(e.name()).value()).containsExactly(e.value());
    }

    @Test
    void accumulatingTwoBatchesOfOneEqualsOneBatchOfTwo() throws Exception {
        ModelConfig c = tiny("gpt2");
        Dataset d = data();
        Parameters a = Parameters.init(c, 9, false), b = Parameters.init(c, 9, false);
        try (Trainer ta = new Trainer(a, cfg(2, 2, 1, false, false, false)); Trainer tb = new Trainer(b, cfg(2, 1, 2, false, false, false))) {
            DataLoader la = new DataLoader(d, 2, 16, false, 1), lb = new DataLoader(d, 1, 16, false, 1);
            for (int i = 0; i < 2; i++) {
                Trainer.StepResult ra = ta.step(la), rb = tb.step(lb);
                assertThat(rb.loss()).isCloseTo(ra.loss(), org.assertj.core.data.Offset.offset(1e-6 * ra.loss()));
                assertThat(rb.gradNorm()).isCloseTo(ra.gradNorm(), org.assertj.core.data.Offset.offset(1e-5 * ra.gradNorm()));
            }
        }
        for (Parameters.Entry e : a.entries()) {
            float[] x = e.value(), y = b.entry(e.name()).value();
            for (int i = 0; i < x.length; i++) assertThat((double) y[i]).isCloseTo(x[i], org.assertj.core.data.Offset.offset(1e-6));
        }
    }

    @Test
    void mixedPrecisionUsesBf16WeightsAndTracksFp32() throws Exception {
        ModelConfig c = tiny("llama");
        Dataset d = data();
        Parameters a = Parameters.init(c, 4, false), b = Parameters.init(c, 4, true);
        assertThat(b.weights().wq()[0].type()).isEqualTo(GGMLType.BF16);
        assertThat(b.weights().attnNorm()[0]).isSameAs(b.entry("blk.0.attn_norm.weight").value());
        assertThat(b.workingCopyBytes()).isEqualTo(2 * (b.count() - 2L * c.nLayers() * c.dim() - c.dim()));
        try (Trainer ta = new Trainer(a, cfg(10, 2, 1, false, false, false)); Trainer tb = new Trainer(b, cfg(10, 2, 1, false, true, false))) {
            DataLoader la = new DataLoader(d, 2, 16, false, 1), lb = new DataLoader(d, 2, 16, false, 1);
            double worst = 0;
            for (int i = 0; i < 10; i++) {
                double x = ta.step(la).loss(), y = tb.step(lb).loss();
                worst = Math.max(worst, Math.abs(y / x - 1));
            }
            System.out.printf("mixed precision: worst relative loss difference to fp32 over 10 steps %.2e%n", worst);
            assertThat(worst).isLessThan(2e-2).isGreaterThan(0);
        }
    }

    @Test
    void allocatedMemoryEqualsThePlannersPrediction() {
        for (String arch : new String[] {"llama", "gpt2"}) {
            for (boolean recompute : new boolean[] {false, true}) {
                for (boolean mixed : new boolean[] {false, true}) {
                    ModelConfig c = tiny(arch);
                    TrainConfig cfg = cfg(1, 3, 1, true, mixed, recompute);
                    try (Trainer t = new Trainer(Parameters.init(c, 1, mixed), cfg)) {
                        assertThat(t.memory()).as("%s recompute %b mixed %b", arch, recompute, mixed).isEqualTo(Trainer.predict(c, cfg));
                        assertThat(t.memory().weights()).isEqualTo(t.parameters().masterBytes() + t.parameters().workingCopyBytes());
                        assertThat(t.memory().optimizer()).isEqualTo(t.optimizer().stateBytes());
                    }
                }
            }
        }
    }
}
