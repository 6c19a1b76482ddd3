package jllm.generate;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Sampling against hand-computed distributions and the definitions of each filter. */
class SamplerTest {

    @Test
    void temperatureZeroIsArgmaxLowestIndexOnTies() {
        Sampler s = new Sampler(SamplerConfig.greedy());
        assertThat(s.sample(new float[]{0.1f, 3f, -2f, 3f}, null, 0)).isEqualTo(1);
    }

    @Test
    void packedKeysSortByLogitThenLowerIndexFirstFromTheTop() {
        float[] l = {-1.5f, 2f, 0f, -0f, 2f, Float.NEGATIVE_INFINITY};
        long[] k = new long[l.length];
        for (int i = 0; i < l.length; i++) k[i] = Sampler.pack(l[i], i);
        java.util.Arrays.sort(k);
        int[] order = new int[k.length];
        for (int i = 0; i < k.length; i++) {
            order[i] = Sampler.index(k[k.length - 1 - i]);
            assertThat(Sampler.logit(k[k.length - 1 - i])).isEqualTo(l[order[i]]);
        }
        assertThat(order[0]).isEqualTo(1);
        assertThat(order[1]).isEqualTo(4);
        assertThat(order[order.length - 1]).isEqualTo(5);
    }

    @Test
    void samplingFrequenciesMatchSoftmaxWithTemperature() {
        float[] logits = {1f, 2f, 0f, -1f};
        float temp = 0.7f;
        double[] p = new double[4];
        double z = 0;
        for (int i = 0; i < 4; i++) z += p[i] = Math.exp(logits[i] / temp);
        Sampler s = new Sampler(new SamplerConfig(temp, 0, 1f, 0f, 1f, 64, 42));
        int n = 200_000;
        int[] counts = new int[4];
        for (int i = 0; i < n; i++) counts[s.sample(logits.clone(), null, 0)]++;
        for (int i = 0; i < 4; i++) {
            double expected = p[i] / z;
            // 5 standard deviations of a binomial proportion
            assertThat(counts[i] / (double) n).isCloseTo(expected, org.assertj.core.api.Assertions.within(5 * Math.sqrt(expected * (1 - expected) / n) + 1e-4));
        }
    }

    @Test
    void topKTopPAndMinPKeepOnlyTheirSets() {
        float[] logits = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.15), (float) Math.log(0.05)};
        assertThat(drawn(new SamplerConfig(1f, 2, 1f, 0f, 1f, 64, 1), logits)).containsOnly(0, 1);
        // top-p 0.75: 0.5 is below it, 0.5 + 0.3 reaches it -> {0, 1}
        assertThat(drawn(new SamplerConfig(1f, 0, 0.75f, 0f, 1f, 64, 2), logits)).containsOnly(0, 1);
        // min-p 0.25: keep p >= 0.125 -> {0, 1, 2}
        assertThat(drawn(new SamplerConfig(1f, 0, 1f, 0.25f, 1f, 64, 3), logits)).containsOnly(0, 1, 2);
    }

    @Test
    void sameSeedSameSequence() {
        float[] logits = {0.3f, 0.1f, 0.2f, 0.25f, 0f};
        int[] a = new int[50], b = new int[50];
        Sampler s1 = new Sampler(new SamplerConfig(1f, 0, 1f, 0f, 1f, 64, 7));
        Sampler s2 = new Sampler(new SamplerConfig(1f, 0, 1f, 0f, 1f, 64, 7));
        for (int i = 0; i < 50; i++) {
            a[i] = s1.sample(logits.clone(), null, 0);
            b[i] = s2.sample(logits.clone(), null, 0);
        }
        assertThat(a).containsExactly(b);
        assertThat(java.util.Arrays.stream(a).distinct().count()).isGreaterThan(1);
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogits() {
        float[] logits = {2f, -1f, 1.5f};
        Sampler s = new Sampler(new SamplerConfig(0f, 0, 1f, 0f, 2f, 64, 0));
        // token 0 penalised: 2 -> 1, so token 2 (1.5) wins greedily
        assertThat(s.sample(logits, new int[]{0, 1, 0}, 3)).isEqualTo(2);
        assertThat(logits).containsExactly(1f, -2f, 1.5f);
    }

    private static java.util.Set<Integer> drawn(SamplerConfig c, float[] logits) {
        Sampler s = new Sampler(c);
        java.util.Set<Integer> seen = new java.util.TreeSet<>();
        for (int i = 0; i < 5000; i++) seen.add(s.sample(logits.clone(), null, 0));
        return seen;
    }

    /** Top-k selection against the full sort it replaces: the same k candidates in the same order, ties included. */
    @Test
    void topKSelectionGivesTheFullSortsFirstK() {
        java.util.SplittableRandom r = new java.util.SplittableRandom(5);
        for (int trial = 0; trial < 20; trial++) {
            int n = 1 + r.nextInt(3000);
            float[] logits = new float[n];
            // few distinct values, so ties are common; some -inf
            for (int i = 0; i < n; i++) logits[i] = r.nextInt(10) == 0 ? Float.NEGATIVE_INFINITY : r.nextInt(50) / 7f - 3f;
            Sampler full = new Sampler(SamplerConfig.defaults(1));
            full.sortAll(logits);
            for (int k : new int[] {1, 2, 40, n - 1}) {
                if (k < 1 || k >= n) continue;
                Sampler sel = new Sampler(SamplerConfig.defaults(1));
                assertThat(sel.selectTopK(logits, k)).isEqualTo(k);
                assertThat(java.util.Arrays.copyOf(sel.candidates(), k)).as("n=%d k=%d", n, k)
                        .containsExactly(java.util.Arrays.copyOf(full.candidates(), k));
            }
        }
    }

    @Test
    void repetitionPenaltyAppliesOncePerCallAcrossManyCalls() {
        Sampler s = new Sampler(new SamplerConfig(0f, 0, 1f, 0f, 2f, 64, 0));
        int[] history = {0, 0, 2, 0};
        for (int call = 0; call < 3; call++) {
            float[] logits = {4f, 1f, -1f};
            s.sample(logits, history, history.length);
            assertThat(logits).as("call %d", call).containsExactly(2f, 1f, -2f);
        }
    }

    /** A warm sampler allocates nothing per token (128,256-token vocabulary, llama.cpp's default chain, penalty on). */
    @Test
    void warmSamplerAllocatesNothing() {
        int vocab = 128_256;
        float[] logits = new float[vocab], work = new float[vocab];
        java.util.SplittableRandom r = new java.util.SplittableRandom(9);
        for (int i = 0; i < vocab; i++) logits[i] = (float) r.nextGaussian() * 3;
        int[] history = new int[64];
        for (int i = 0; i < history.length; i++) history[i] = r.nextInt(vocab);
        Sampler s = new Sampler(new SamplerConfig(0.8f, 40, 0.95f, 0.05f, 1.1f, 64, 3));
        for (int i = 0; i < 20; i++) {
            System.arraycopy(logits, 0, work, 0, vocab);
            s.sample(work, history, history.length);
        }
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().threadId();
        mx.getThreadAllocatedBytes(id); // the counter's own first call may allocate
        long before = mx.getThreadAllocatedBytes(id);
        for (int i = 0; i < 200; i++) {
            System.arraycopy(logits, 0, work, 0, vocab);
            s.sample(work, history, history.length);
        }
        long allocated = mx.getThreadAllocatedBytes(id) - before;
        assertThat(allocated).as("bytes allocated by 200 warm calls").isZero();
    }
}
