package jllm.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * LoRA in the model's one forward and backward (Hu et al. 2021): the gradients of A and B, and (with the base
 * trainable too) every base gradient, which checks that the input gradient has both paths, against central finite
 * differences of the training loss (h = 1e-2; tolerance 2e-3 of each tensor's largest gradient plus 5e-5, as
 * {@link ModelBackwardTest}), with and without dropout; GPT-2's fused c_attn as one module whose three parts share
 * A. A frozen base gives the adapter the same gradient bits, and recomputation and thread counts give the same
 * bits. An adapter with B = 0 leaves the logits bit-identical; merged weights W + (alpha/r) B A give the unmerged
 * logits within 2e-6 of their largest magnitude.
 */
class LoRATest {
    static final int B = 2, T = 5, R = 3;

    static List<LoRA.Module> modules(ModelConfig c) {
        if (c.architecture().equals("gpt2")) {
            return List.of(new LoRA.Module("blk.0.attn_qkv", 0, List.of(Projection.Q, Projection.K, Projection.V)),
                    LoRA.Module.of(1, Projection.O), LoRA.Module.of(1, Projection.UP), LoRA.Module.of(0, Projection.DOWN));
        }
        return List.of(LoRA.Module.of(0, Projection.Q), LoRA.Module.of(0, Projection.V), LoRA.Module.of(1, Projection.K),
                LoRA.Module.of(1, Projection.O), LoRA.Module.of(0, Projection.GATE), LoRA.Module.of(1, Projection.DOWN));
    }

    /** A trainable adapter with random A and B (B nonzero, so that A has a gradient). */
    static LoRA random(ModelConfig c, double dropout, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Map<String, float[]> a = new LinkedHashMap<>(), b = new LinkedHashMap<>();
        for (LoRA.Module m : modules(c)) {
            a.put(m.name(), GradCheck.gaussian(r, R * m.in(c), 1.0 / Math.sqrt(m.in(c))));
            b.put(m.name(), GradCheck.gaussian(r, m.out(c) * R, 0.15));
        }
        return new LoRA(c, modules(c), R, 2.0 / R, dropout, a, b, true);
    }

    @ParameterizedTest
    @CsvSource({"llama, 0", "llama, 0.3", "qwen2-bias, 0", "gpt2, 0", "gpt2, 0.3", "gpt2-rope-gqa, 0.2"})
    void adapterAndBaseGradientsMatchFiniteDifferences(String variant, double dropout) {
        ModelConfig c = TinyModels.config(variant);
        Map<String, float[]> arrays = TinyModels.randomArrays(c, 42);
        int[] tokens = ModelBackwardTest.tokens(c), targets = ModelBackwardTest.targets(c);
        LoRA lora = random(c, dropout, 5);
        lora.dropoutSeed(77);
        try (Linear linear = new Linear(2)) {
            LlamaModel m = new LlamaModel(c, TinyModels.weights(c, arrays), linear, lora);
            LlamaModel.State s = m.newTrainingState(B, T, false);
            Gradients g = Gradients.zeros(c);
            m.forward(tokens, targets, s);
            m.backward(tokens, targets, s, g, 1f);
            String what = variant + " p=" + dropout + " ";
            for (LoRA.Param p : lora.parameters()) {
                GradCheck.check(what + p.name(), p.value(), p.grad(), () -> m.forward(tokens, targets, s), 1e-2f, 2e-3, 5e-5);
            }
            for (var e : arrays.entrySet()) {
                GradCheck.check(what + e.getKey(), e.getValue(), g.byName().get(e.getKey()),
                        () -> m.forward(tokens, targets, s), 1e-2f, 2e-3, 5e-5);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "gpt2"})
    void aFrozenBaseGivesTheSameAdapterGradientsWhateverThreadsAndRecomputation(String variant) {
        ModelConfig c = TinyModels.config(variant);
        Map<String, float[]> arrays = TinyModels.randomArrays(c, 9);
        int[] tokens = ModelBackwardTest.tokens(c), targets = ModelBackwardTest.targets(c);
        Map<String, float[]> ref = adapterGrads(c, arrays, tokens, targets, 1, false, true);
        for (int threads : new int[] {1, 3}) {
            for (boolean recompute : new boolean[] {false, true}) {
                Map<String, float[]> got = adapterGrads(c, arrays, tokens, targets, threads, recompute, false);
                for (var e : ref.entrySet()) {
                    assertThat(got.get(e.getKey())).as("%s threads %d recompute %b", e.getKey(), threads, recompute)
                            .containsExactly(e.getValue());
                }
            }
        }
    }

    /** The adapter's gradients, with the base trained too ({@code withBase}) or frozen (Gradients null). */
    private static Map<String, float[]> adapterGrads(ModelConfig c, Map<String, float[]> arrays, int[] tokens, int[] targets,
                                                     int threads, boolean recompute, boolean withBase) {
        LoRA lora = random(c, 0.25, 11);
        lora.dropoutSeed(3);
        try (Linear linear = new Linear(threads)) {
            LlamaModel m = new LlamaModel(c, TinyModels.weights(c, arrays), linear, lora);
            LlamaModel.State s = m.newTrainingState(B, T, recompute);
            m.forward(tokens, targets, s);
            m.backward(tokens, targets, s, withBase ? Gradients.zeros(c) : null, 1f);
            Map<String, float[]> out = new LinkedHashMap<>();
            for (LoRA.Param p : lora.parameters()) out.put(p.name(), p.grad().clone());
            return out;
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "llama-neox-tied", "qwen2-bias", "gpt2"})
    void zeroBLeavesTheModelUnchangedAndMergingAgreesWithTheUnmergedAdapter(String variant) {
        ModelConfig c = TinyModels.config(variant);
        Map<String, float[]> arrays = TinyModels.randomArrays(c, 13);
        LlamaWeights base = TinyModels.weights(c, arrays);
        int[] tokens = ModelBackwardTest.tokens(c);
        try (Linear linear = new Linear(2)) {
            float[] plain = logits(new LlamaModel(c, base, linear), tokens);
            LoRA fresh = LoRA.init(c, modules(c), R, 16.0 / R, 0.1, LoRAInit.KAIMING, 1);
            assertThat(logits(new LlamaModel(c, base, linear, fresh), tokens)).as("B = 0").containsExactly(plain);

            LoRA lora = random(c, 0.1, 17);
            float[] unmerged = logits(new LlamaModel(c, base, linear, lora), tokens);
            float[] merged = logits(new LlamaModel(c, lora.merge(base), linear), tokens);
            double max = 0, diff = 0, moved = 0;
            for (int i = 0; i < merged.length; i++) {
                max = Math.max(max, Math.abs(unmerged[i]));
                diff = Math.max(diff, Math.abs(merged[i] - unmerged[i]));
                moved = Math.max(moved, Math.abs(unmerged[i] - plain[i]));
            }
            System.out.printf("%s: merged vs unmerged logits max diff %.2e (max |logit| %.2f; the adapter moved them by %.2f)%n",
                    variant, diff, max, moved);
            assertThat(moved).as("the adapter changes the logits").isGreaterThan(0.1);
            assertThat(diff).isLessThanOrEqualTo(2e-6 * max);
        }
    }

    @Test
    void anAppliedAdapterDropsNothingEvenInATrainingForward() {
        ModelConfig c = TinyModels.config("llama");
        Map<String, float[]> arrays = TinyModels.randomArrays(c, 21);
        int[] tokens = ModelBackwardTest.tokens(c), targets = ModelBackwardTest.targets(c);
        LoRA trained = random(c, 0.5, 4);
        Map<String, float[]> a = new LinkedHashMap<>(), b = new LinkedHashMap<>();
        for (LoRA.Module m : trained.modules()) {
            a.put(m.name(), trained.a(m.name()).clone());
            b.put(m.name(), trained.b(m.name()));
        }
        LoRA applied = new LoRA(c, trained.modules(), R, trained.scaling(), 0.5, a, b, false);
        LoRA noDropout = new LoRA(c, trained.modules(), R, trained.scaling(), 0, a, b, true);
        try (Linear linear = new Linear(2)) {
            double lApplied = new LlamaModel(c, TinyModels.weights(c, arrays), linear, applied).forward(tokens, targets, new LlamaModel(c, TinyModels.weights(c, arrays), linear, applied).newTrainingState(B, T, true));
            LlamaModel mt = new LlamaModel(c, TinyModels.weights(c, arrays), linear, trained);
            double lTrained = mt.forward(tokens, targets, mt.newTrainingState(B, T, false));
            LlamaModel mn = new LlamaModel(c, TinyModels.weights(c, arrays), linear, noDropout);
            double lNone = mn.forward(tokens, targets, mn.newTrainingState(B, T, false));
            assertThat(lApplied).as("applied adapter (evaluation)").isEqualTo(lNone);
            assertThat(lTrained).as("trained adapter with dropout 0.5").isNotEqualTo(lNone);
        }
    }

    /** All logits of the tokens, run through the inference path with a KV cache in chunks of 3. */
    static float[] logits(LlamaModel m, int[] tokens) {
        KvCache cache = new KvCache(m.config(), tokens.length);
        return m.forward(tokens, 0, tokens.length, 0, cache, m.newState(3), true);
    }

    @Test
    void kaimingAndGaussianInitHavePeftsDistributions() {
        SplittableRandom rng = new SplittableRandom(1);
        int r = 8, in = 400;
        float[] k = LoRAInit.KAIMING.a(r, in, rng);
        double bound = 1 / Math.sqrt(in), max = 0, sumSq = 0;
        for (float x : k) {
            max = Math.max(max, Math.abs(x));
            sumSq += x * x;
        }
        // U(-b, b): all within b, variance b^2 / 3 (3200 draws: standard error of the variance about 2%)
        assertThat(max).isLessThanOrEqualTo(bound).isGreaterThan(0.99 * bound);
        assertThat(sumSq / k.length).isCloseTo(bound * bound / 3, org.assertj.core.data.Percentage.withPercentage(8));
        float[] g = LoRAInit.GAUSSIAN.a(r, in, rng);
        double s2 = 0;
        for (float x : g) s2 += x * x;
        assertThat(Math.sqrt(s2 / g.length)).isCloseTo(1.0 / r, org.assertj.core.data.Percentage.withPercentage(5));
        LoRA fresh = LoRA.init(TinyModels.config("llama"), List.of(LoRA.Module.of(0, Projection.Q)), r, 1, 0, LoRAInit.KAIMING, 3);
        for (float x : fresh.b("blk.0.attn_q")) assertThat(x).isZero();
    }

    @Test
    void dropoutDropsAboutPAndScalesTheRest() {
        ModelConfig c = TinyModels.config("llama");
        SplittableRandom r = new SplittableRandom(2);
        int in = c.dim(), out = c.qDim(), rows = 4000;
        float[] a = GradCheck.gaussian(r, R * in, 1), b = GradCheck.gaussian(r, out * R, 1);
        double p = 0.3;
        LoRALinear l = new LoRALinear(0, Projection.Q, R, in, out, "a", a, null, "b", b, null, 1, p);
        int dropped = 0;
        for (int k = 0; k < rows * in; k++) if (!l.kept(5, k)) dropped++;
        double frac = dropped / (double) (rows * in);
        System.out.printf("dropout p = %.2f: dropped fraction %.4f of %d%n", p, frac, rows * in);
        assertThat(frac).isCloseTo(p, org.assertj.core.data.Offset.offset(0.01)); // 32000 draws: sd 0.0026
        int same = 0;
        for (int k = 0; k < 1000; k++) if (l.kept(5, k) == l.kept(6, k)) same++;
        assertThat(same).as("another seed, another mask").isLessThan(1000);
    }

    @Test
    void badShapesAndDuplicatesAreRefusedNamingTheModule() {
        ModelConfig c = TinyModels.config("gpt2");
        Map<String, float[]> a = Map.of("blk.0.ffn_gate", new float[R * c.dim()]);
        Map<String, float[]> b = Map.of("blk.0.ffn_gate", new float[R * c.ffnDim()]);
        assertThatThrownBy(() -> new LoRA(c, List.of(LoRA.Module.of(0, Projection.GATE)), R, 1, 0, a, b, false))
                .hasMessageContaining("blk.0.ffn_gate").hasMessageContaining("no ffn_gate");
        Map<String, float[]> a2 = Map.of("blk.0.attn_q", new float[R * c.dim() + 1]);
        Map<String, float[]> b2 = Map.of("blk.0.attn_q", new float[R * c.qDim()]);
        assertThatThrownBy(() -> new LoRA(c, List.of(LoRA.Module.of(0, Projection.Q)), R, 1, 0, a2, b2, false))
                .hasMessageContaining("blk.0.attn_q: A has " + (R * c.dim() + 1));
        assertThatThrownBy(() -> new LoRA(c, List.of(LoRA.Module.of(5, Projection.Q)), R, 1, 0, a2, b2, false))
                .hasMessageContaining("layer 5");
    }
}
