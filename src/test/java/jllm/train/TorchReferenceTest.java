package jllm.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import jllm.model.Gradients;
import jllm.model.Linear;
import jllm.model.LlamaModel;
import jllm.model.ModelConfig;

/**
 * jllm's training against PyTorch 1.13 (reference/torch/make_golden.py, float64) for a tiny GPT-2 and a tiny LLaMA
 * written in Hugging Face's layouts: the loss of a batch with masked targets, every parameter's gradient and their
 * global norm, two AdamW steps and two SGD-with-momentum steps from the same weights and gradient, and ten
 * training steps (AdamW, clipping, warm-up + cosine schedule) of losses, gradient norms and learning rates.
 *
 * <p>Tolerances (jllm computes in float32, the reference in float64; measured maxima are printed): loss and norms
 * 1e-5 relative; gradients |g - ref| <= 1e-5 max|ref of the tensor| + 1e-6 max|ref of all| (the absolute floor for
 * gradients that are exactly 0, e.g. GPT-2's key biases); optimizer steps |p - ref| <= 1e-6 (max|ref of the tensor|
 * + 1); ten-step losses 1e-5 and gradient norms 1e-4 relative.
 */
class TorchReferenceTest {

    static ModelConfig config(JsonNode c) {
        int dim = c.get("dim").asInt(), layers = c.get("layers").asInt(), heads = c.get("heads").asInt();
        int vocab = c.get("vocab").asInt(), ctx = c.get("ctx").asInt(), ffn = c.get("ffn").asInt();
        float eps = (float) c.get("eps").asDouble();
        if (c.get("arch").asText().equals("gpt2")) return ModelConfig.gpt2(dim, layers, heads, ffn, vocab, ctx).withNormEps(eps);
        return ModelConfig.llama(dim, layers, heads, c.get("kv_heads").asInt(), ffn, vocab, ctx)
                .withRopeType(ModelConfig.RopeType.NEOX).withNormEps(eps); // HF's rotate_half pairs
    }

    static Batch batch(Safetensors g) {
        JsonNode tok = g.metadata.get("tokens"), tgt = g.metadata.get("targets");
        int B = tok.size(), T = tok.get(0).size();
        int[] tokens = new int[B * T], targets = new int[B * T];
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < T; t++) {
                tokens[b * T + t] = tok.get(b).get(t).asInt();
                targets[b * T + t] = tgt.get(b).get(t).asInt();
            }
        }
        return new Batch(tokens, targets, B, T);
    }

    static TrainConfig trainConfig(Safetensors g, Batch b, TrainConfig.OptimizerKind kind, double lr) {
        JsonNode h = g.metadata.get("hyper");
        int steps = h.get("steps").asInt();
        LrSchedule s = new LrSchedule(LrSchedule.Kind.COSINE, lr, h.get("warmup").asInt(), steps, h.get("min_lr").asDouble());
        JsonNode sgd = h.get("sgd");
        boolean adam = kind == TrainConfig.OptimizerKind.ADAMW;
        return new TrainConfig(steps, b.B(), b.T(), 1, kind, s, adam ? h.get("weight_decay").asDouble() : sgd.get("weight_decay").asDouble(),
                h.get("betas").get(0).asDouble(), h.get("betas").get(1).asDouble(), h.get("eps").asDouble(),
                sgd.get("momentum").asDouble(), h.get("grad_clip").asDouble(), 1, false, false, false, 2);
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2-tiny", "llama-tiny"})
    void lossAndEveryGradient(String name) throws Exception {
        Safetensors g = Safetensors.read("/golden/torch/" + name + ".safetensors");
        ModelConfig c = config(g.metadata.get("config"));
        Batch b = batch(g);
        Parameters p = Parameters.of(c, g.group("param."), false);
        try (Linear linear = new Linear(2)) {
            LlamaModel m = new LlamaModel(c, p.weights(), linear);
            LlamaModel.State s = m.newTrainingState(b.B(), b.T(), false);
            double loss = m.forward(b.tokens(), b.targets(), s);
            Gradients grads = p.gradients();
            m.backward(b.tokens(), b.targets(), s, grads, 1f);
            double refLoss = g.metadata.get("loss").asDouble();
            System.out.printf("%s loss %.8f vs torch %.8f, rel %.2e%n", name, loss, refLoss, Math.abs(loss / refLoss - 1));
            assertThat(Math.abs(loss / refLoss - 1)).as("loss relative error").isLessThan(1e-5);

            Map<String, float[]> ref = g.group("grad.");
            double globalMax = 0;
            for (float[] r : ref.values()) for (float x : r) globalMax = Math.max(globalMax, Math.abs(x));
            double worst = 0;
            for (var e : ref.entrySet()) {
                float[] mine = grads.byName().get(e.getKey());
                assertThat(mine).as("gradient " + e.getKey()).isNotNull();
                double max = 0, diff = 0;
                for (int i = 0; i < mine.length; i++) {
                    max = Math.max(max, Math.abs(e.getValue()[i]));
                    diff = Math.max(diff, Math.abs(mine[i] - e.getValue()[i]));
                }
                worst = Math.max(worst, diff / Math.max(max, 1e-3 * globalMax)); // key biases: ref 0
                assertThat(diff).as("%s gradient %s: max |jllm - torch| vs max |torch| %g", name, e.getKey(), max)
                        .isLessThanOrEqualTo(1e-5 * max + 1e-6 * globalMax);
            }
            assertThat(grads.byName().keySet()).containsExactlyInAnyOrderElementsOf(ref.keySet());
            double norm = GradientClipping.globalNorm(p.entries()), refNorm = g.metadata.get("grad_norm").asDouble();
            System.out.printf("%s gradients: worst max|diff|/max(max|ref|, 1e-3 max|all|) over tensors %.2e; grad norm rel %.2e%n", name, worst,
                    Math.abs(norm / refNorm - 1));
            assertThat(Math.abs(norm / refNorm - 1)).as("global gradient norm").isLessThan(1e-5);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2-tiny", "llama-tiny"})
    void twoAdamWAndTwoSgdStepsOnTheSameGradient(String name) throws Exception {
        Safetensors g = Safetensors.read("/golden/torch/" + name + ".safetensors");
        ModelConfig c = config(g.metadata.get("config"));
        JsonNode h = g.metadata.get("hyper");
        for (String kind : new String[] {"adamw", "sgd"}) {
            Parameters p = Parameters.of(c, g.group("param."), false);
            Map<String, float[]> grad = g.group("grad.");
            try (Linear pool = new Linear(2)) {
                Optimizer opt = kind.equals("adamw")
                        ? new AdamW(p.entries(), h.get("betas").get(0).asDouble(), h.get("betas").get(1).asDouble(),
                                h.get("eps").asDouble(), h.get("weight_decay").asDouble(), pool)
                        : new SGD(p.entries(), h.get("sgd").get("momentum").asDouble(), h.get("sgd").get("weight_decay").asDouble(), false, pool);
                double lr = kind.equals("adamw") ? h.get("opt_check_adamw_lr").asDouble() : h.get("sgd").get("lr").asDouble();
                for (int step = 0; step < 2; step++) {
                    for (Parameters.Entry e : p.entries()) System.arraycopy(grad.get(e.name()), 0, e.grad(), 0, e.grad().length);
                    opt.step(lr);
                }
            }
            Map<String, float[]> ref = g.group(kind + "2.");
            double worst = 0;
            for (Parameters.Entry e : p.entries()) {
                float[] r = ref.get(e.name());
                double max = 0, diff = 0;
                for (int i = 0; i < r.length; i++) {
                    max = Math.max(max, Math.abs(r[i]));
                    diff = Math.max(diff, Math.abs(e.value()[i] - r[i]));
                }
                worst = Math.max(worst, diff / (max + 1));
                assertThat(diff).as("%s %s after two steps: %s", name, kind, e.name()).isLessThanOrEqualTo(1e-6 * (max + 1));
            }
            System.out.printf("%s %s: two steps, worst max|diff| / (max|ref| + 1) = %.2e%n", name, kind, worst);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2-tiny", "llama-tiny"})
    void tenTrainingSteps(String name) throws Exception {
        Safetensors g = Safetensors.read("/golden/torch/" + name + ".safetensors");
        ModelConfig c = config(g.metadata.get("config"));
        Batch b = batch(g);
        TrainConfig cfg = trainConfig(g, b, TrainConfig.OptimizerKind.ADAMW, g.metadata.get("hyper").get("lr").asDouble());
        Parameters p = Parameters.of(c, g.group("param."), false);
        JsonNode losses = g.metadata.get("losses"), norms = g.metadata.get("grad_norms"), lrs = g.metadata.get("lrs");
        Batch.Source same = new Batch.Source() {
            long pos;
            public Batch next() { pos++; return b; }
            public long position() { return pos; }
            public void seek(long position) { pos = position; }
        };
        double worst = 0;
        try (Trainer t = new Trainer(p, cfg)) {
            for (int step = 0; step < cfg.steps(); step++) {
                Trainer.StepResult r = t.step(same);
                double rel = Math.abs(r.loss() / losses.get(step).asDouble() - 1);
                worst = Math.max(worst, rel);
                assertThat(r.lr()).as("lr of step %d", step).isCloseTo(lrs.get(step).asDouble(), org.assertj.core.data.Offset.offset(1e-12));
                assertThat(Math.abs(r.gradNorm() / norms.get(step).asDouble() - 1)).as("grad norm of step %d", step).isLessThan(1e-4);
                assertThat(rel).as("%s loss of step %d: %f vs torch %f", name, step, r.loss(), losses.get(step).asDouble()).isLessThan(1e-5);
            }
        }
        System.out.printf("%s ten steps: worst loss relative error %.2e%n", name, worst);
    }
}
