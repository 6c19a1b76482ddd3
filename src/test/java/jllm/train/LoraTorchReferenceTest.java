package jllm.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import jllm.format.hf.LoraAdapter;
import jllm.format.hf.PeftLoraConfig;
import jllm.format.hf.PeftLoraMapping;
import jllm.model.KvCache;
import jllm.model.Linear;
import jllm.model.LlamaModel;
import jllm.model.LlamaWeights;
import jllm.model.LoRA;
import jllm.model.ModelConfig;

/**
 * jllm's LoRA against PyTorch 1.13 (reference/torch/make_lora_golden.py, float64, PEFT's forward
 * {@code base(x) + lora_B(lora_A(x)) * scaling} written out in plain torch) for a tiny LLaMA with LoRA on q_proj and
 * v_proj and a tiny GPT-2 with LoRA on c_attn (fused Q, K, V) and c_fc, the adapter given under PEFT's state-dict
 * keys: the loss, every lora_A and lora_B gradient and their global norm; the logits unmerged and merged
 * (W + scaling B A); five training steps of the adapter alone (AdamW, clipping, warm-up + cosine) of losses,
 * gradient norms, learning rates and the final A and B; and the frozen base weights bit-identical after training.
 *
 * <p>Tolerances (jllm float32, the reference float64; measured maxima are printed): loss and gradient norm 1e-5
 * relative; gradients |g - ref| <= 1e-5 max|ref of the tensor| + 1e-6 max|ref of all|; logits 1e-5 of the largest
 * |logit|; jllm's merged against its unmerged logits 2e-6; step losses 1e-5 and gradient norms 1e-4 relative; A and B
 * after five steps 1e-5 of the tensor's largest value. The trainer's memory report (what it allocated) equals the
 * prediction of {@link jllm.sizes.Sizes} exactly.
 */
class LoraTorchReferenceTest {

    /** The golden's adapter under prefix ("lora0." or "lora5."), as PEFT's keys give it. */
    static LoraAdapter adapter(Safetensors g, String prefix) {
        JsonNode l = g.metadata.get("lora");
        int r = l.get("r").asInt();
        List<String> targets = new ArrayList<>();
        l.get("target_modules").forEach(t -> targets.add(t.asText()));
        Map<String, float[]> t = g.group(prefix);
        Map<String, LoraAdapter.Target> out = new LinkedHashMap<>();
        for (String key : t.keySet()) {
            if (!key.endsWith(".lora_A.weight")) continue;
            String module = key.substring(LoraAdapter.PREFIX.length(), key.length() - ".lora_A.weight".length());
            float[] a = t.get(key), b = t.get(LoraAdapter.keyB(module));
            out.put(module, new LoraAdapter.Target(module, r, a.length / r, b.length / r, a, b));
        }
        return new LoraAdapter(PeftLoraConfig.of(r, l.get("alpha").asDouble(), targets), out);
    }

    static double maxAbs(float[] a) {
        double m = 0;
        for (float x : a) m = Math.max(m, Math.abs(x));
        return m;
    }

    static double maxDiff(float[] a, float[] b) {
        assertThat(a).hasSameSizeAs(b);
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-tiny-lora", "gpt2-tiny-lora"})
    void lossGradientsAndLogitsUnmergedAndMerged(String name) throws Exception {
        Safetensors g = Safetensors.read("/golden/torch/" + name + ".safetensors");
        ModelConfig c = TorchReferenceTest.config(g.metadata.get("config"));
        Batch b = TorchReferenceTest.batch(g);
        LlamaWeights base = Parameters.of(c, g.group("param."), false).weights();
        LoraAdapter ad = adapter(g, "lora0.");
        LoRA lora = PeftLoraMapping.toModel(ad, c, true);
        try (Linear linear = new Linear(2)) {
            LlamaModel m = new LlamaModel(c, base, linear, lora);
            LlamaModel.State s = m.newTrainingState(b.B(), b.T(), false);
            double loss = m.forward(b.tokens(), b.targets(), s);
            m.backward(b.tokens(), b.targets(), s, null, 1f);
            double refLoss = g.metadata.get("loss").asDouble();
            System.out.printf("%s loss %.8f vs torch %.8f, rel %.2e%n", name, loss, refLoss, Math.abs(loss / refLoss - 1));
            assertThat(Math.abs(loss / refLoss - 1)).as("loss relative error").isLessThan(1e-5);

            Map<String, float[]> ref = g.group("grad.");
            double globalMax = 0, worst = 0, ss = 0;
            for (float[] r : ref.values()) globalMax = Math.max(globalMax, maxAbs(r));
            Map<String, LoRA.Module> modules = PeftLoraMapping.modules(c);
            for (String module : ad.targets().keySet()) {
                String jm = modules.get(module).name();
                for (boolean isA : new boolean[] {true, false}) {
                    float[] mine = isA ? lora.gradA(jm) : lora.gradB(jm);
                    float[] r = ref.get(isA ? LoraAdapter.keyA(module) : LoraAdapter.keyB(module));
                    double max = maxAbs(r), diff = maxDiff(mine, r);
                    for (float x : mine) ss += (double) x * x;
                    worst = Math.max(worst, diff / max);
                    assertThat(diff).as("%s gradient of %s %s: max |jllm - torch| vs max |torch| %g", name, module, isA ? "A" : "B", max)
                            .isLessThanOrEqualTo(1e-5 * max + 1e-6 * globalMax);
                }
            }
            double norm = Math.sqrt(ss), refNorm = g.metadata.get("grad_norm").asDouble();
            System.out.printf("%s adapter gradients: worst max|diff|/max|ref| %.2e; norm rel %.2e%n", name, worst, Math.abs(norm / refNorm - 1));
            assertThat(Math.abs(norm / refNorm - 1)).isLessThan(1e-5);

            float[] unmerged = allLogits(new LlamaModel(c, base, linear, lora), b);
            float[] merged = allLogits(new LlamaModel(c, lora.merge(base), linear), b);
            float[] refLogits = g.tensors.get("logits"), refMerged = g.tensors.get("merged_logits");
            double scale = maxAbs(refLogits);
            double dU = maxDiff(unmerged, refLogits), dM = maxDiff(merged, refMerged), dJ = maxDiff(merged, unmerged);
            System.out.printf("%s logits: unmerged vs torch %.2e, merged vs torch merged %.2e, merged vs unmerged %.2e (max |logit| %.2f)%n",
                    name, dU, dM, dJ, scale);
            assertThat(dU).isLessThanOrEqualTo(1e-5 * scale);
            assertThat(dM).isLessThanOrEqualTo(1e-5 * scale);
            assertThat(dJ).isLessThanOrEqualTo(2e-6 * scale);
        }
    }

    /** Logits of every position of every sequence of the batch, run through the inference path. */
    static float[] allLogits(LlamaModel m, Batch b) {
        int V = m.config().vocab();
        float[] out = new float[b.B() * b.T() * V];
        for (int s = 0; s < b.B(); s++) {
            int[] seq = java.util.Arrays.copyOfRange(b.tokens(), s * b.T(), (s + 1) * b.T());
            float[] l = m.forward(seq, 0, b.T(), 0, new KvCache(m.config(), b.T()), m.newState(b.T()), true);
            System.arraycopy(l, 0, out, s * b.T() * V, l.length);
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-tiny-lora", "gpt2-tiny-lora"})
    void fiveAdamWStepsOfTheAdapterAloneWithTheBaseBitIdentical(String name) throws Exception {
        Safetensors g = Safetensors.read("/golden/torch/" + name + ".safetensors");
        ModelConfig c = TorchReferenceTest.config(g.metadata.get("config"));
        Batch b = TorchReferenceTest.batch(g);
        JsonNode h = g.metadata.get("hyper");
        Map<String, float[]> baseArrays = g.group("param.");
        Map<String, float[]> before = new LinkedHashMap<>();
        baseArrays.forEach((k, v) -> before.put(k, v.clone()));
        LlamaWeights base = Parameters.of(c, baseArrays, false).weights();
        LoraAdapter ad = adapter(g, "lora0.");
        LoRA lora = PeftLoraMapping.toModel(ad, c, true);
        int steps = h.get("steps").asInt();
        TrainConfig cfg = new TrainConfig(steps, b.B(), b.T(), 1, TrainConfig.OptimizerKind.ADAMW,
                new LrSchedule(LrSchedule.Kind.COSINE, h.get("lr").asDouble(), h.get("warmup").asInt(), steps, h.get("min_lr").asDouble()),
                h.get("weight_decay").asDouble(), h.get("betas").get(0).asDouble(), h.get("betas").get(1).asDouble(),
                h.get("eps").asDouble(), 0, h.get("grad_clip").asDouble(), 1, false, false, false, 2);
        Batch.Source same = new Batch.Source() {
            long pos;
            public Batch next() { pos++; return b; }
            public long position() { return pos; }
            public void seek(long position) { pos = position; }
        };
        JsonNode losses = g.metadata.get("losses"), norms = g.metadata.get("grad_norms"), lrs = g.metadata.get("lrs");
        double worstLoss = 0, worstNorm = 0;
        try (LoraTrainer t = new LoraTrainer(base, lora, cfg)) {
            for (int step = 0; step < steps; step++) {
                Trainer.StepResult r = t.step(same);
                double rel = Math.abs(r.loss() / losses.get(step).asDouble() - 1), nrel = Math.abs(r.gradNorm() / norms.get(step).asDouble() - 1);
                worstLoss = Math.max(worstLoss, rel);
                worstNorm = Math.max(worstNorm, nrel);
                assertThat(r.lr()).as("lr of step %d", step).isCloseTo(lrs.get(step).asDouble(), org.assertj.core.data.Offset.offset(1e-12));
                assertThat(nrel).as("grad norm of step %d", step).isLessThan(1e-4);
                assertThat(rel).as("%s loss of step %d: %f vs torch %f", name, step, r.loss(), losses.get(step).asDouble()).isLessThan(1e-5);
            }
            System.out.println(name + ": " + t.memory());
            assertThat(t.memory()).as("allocated vs the Sizes prediction").isEqualTo(t.predict());
        }
        LoraAdapter after = PeftLoraMapping.fromModel(lora, ad.config()), ref = adapter(g, "lora5.");
        double worst = 0;
        for (LoraAdapter.Target r : ref.targets().values()) {
            LoraAdapter.Target mine = after.target(r.module());
            for (boolean isA : new boolean[] {true, false}) {
                float[] x = isA ? mine.a() : mine.b(), y = isA ? r.a() : r.b();
                double d = maxDiff(x, y), max = maxAbs(y);
                worst = Math.max(worst, d / max);
                assertThat(d).as("%s %s after %d steps", r.module(), isA ? "A" : "B", steps).isLessThanOrEqualTo(1e-5 * max);
            }
        }
        System.out.printf("%s %d steps: worst loss rel %.2e, grad norm rel %.2e, A/B max|diff|/max|ref| %.2e%n", name, steps,
                worstLoss, worstNorm, worst);
        for (var e : before.entrySet()) {
            assertThat(baseArrays.get(e.getKey())).as("frozen base weight %s", e.getKey()).containsExactly(e.getValue());
        }
    }
}
