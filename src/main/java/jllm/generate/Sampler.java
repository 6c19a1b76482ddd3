package jllm.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from logits: repetition penalty, then top-k, top-p (Holtzman et al. 2019), min-p,
 * temperature, and a draw from the softmax (llama.cpp's default chain order). Temperature 0 is greedy.
 * Candidates are sorted as packed longs (order-preserving float bits, token id), so no boxing per token.
 */
public final class Sampler {
    private final SamplerConfig config;
    private final SplittableRandom random;
    private long[] keys = new long[0];
    private float[] probs = new float[0];

    public Sampler(SamplerConfig config) {
        this.config = config;
        this.random = new SplittableRandom(config.seed());
    }

    public SamplerConfig config() { return config; }

    /**
     * The next token. {@code logits} is modified in place by the repetition penalty.
     *
     * @param logits  (vocab) raw logits
     * @param history previously seen token ids, the last {@code historyLength} of which are penalised
     */
    public int sample(float[] logits, int[] history, int historyLength) {
        applyRepetitionPenalty(logits, history, historyLength);
        if (config.temperature() == 0f) return argmax(logits);
        int n = logits.length;
        if (keys.length < n) {
            keys = new long[n];
            probs = new float[n];
        }
        for (int i = 0; i < n; i++) keys[i] = pack(logits[i], i);
        Arrays.sort(keys, 0, n);
        int count = n;
        if (config.topK() > 0) count = Math.min(count, config.topK());
        // descending order: reverse the sorted keys
        for (int i = 0, j = n - 1; i < j; i++, j--) {
            long t = keys[j];
            keys[j] = keys[i];
            keys[i] = t;
        }
        // Probabilities at temperature 1 decide top-p and min-p (as llama.cpp applies temperature after them).
        count = softmaxInto(count, 1f);
        if (config.topP() < 1f) {
            double cum = 0;
            int keep = count;
            for (int i = 0; i < count; i++) {
                cum += probs[i];
                if (cum >= config.topP()) {
                    keep = i + 1;
                    break;
                }
            }
            count = keep;
        }
        if (config.minP() > 0f) {
            float threshold = probs[0] * config.minP();
            int keep = 1;
            while (keep < count && probs[keep] >= threshold) keep++;
            count = keep;
        }
        count = softmaxInto(count, config.temperature());
        double r = random.nextDouble();
        double cum = 0;
        for (int i = 0; i < count; i++) {
            cum += probs[i];
            if (r < cum) return index(keys[i]);
        }
        return index(keys[count - 1]);
    }

    private int softmaxInto(int count, float temperature) {
        float max = logit(keys[0]);
        double sum = 0;
        for (int i = 0; i < count; i++) {
            float p = (float) Math.exp((logit(keys[i]) - max) / temperature);
            probs[i] = p;
            sum += p;
        }
        for (int i = 0; i < count; i++) probs[i] /= (float) sum;
        return count;
    }

    private void applyRepetitionPenalty(float[] logits, int[] history, int historyLength) {
        float penalty = config.repeatPenalty();
        if (penalty == 1f || history == null) return;
        int from = Math.max(0, historyLength - config.repeatLastN());
        // penalise each distinct token once
        java.util.BitSet seen = new java.util.BitSet();
        for (int i = from; i < historyLength; i++) {
            int t = history[i];
            if (t < 0 || t >= logits.length || seen.get(t)) continue;
            seen.set(t);
            logits[t] = logits[t] > 0 ? logits[t] / penalty : logits[t] * penalty;
        }
    }

    /** Index of the largest logit; the lowest index wins ties. */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    /** A long whose natural order is the order of (logit, -index). */
    static long pack(float logit, int index) {
        int bits = Float.floatToIntBits(logit);
        int sortable = bits >= 0 ? bits : bits ^ 0x7fffffff; // order-preserving map of float bits to int
        return ((long) sortable << 32) | (0xffffffffL & ~index);
    }

    static int index(long key) {
        return ~(int) key;
    }

    static float logit(long key) {
        int sortable = (int) (key >> 32);
        int bits = sortable >= 0 ? sortable : sortable ^ 0x7fffffff;
        return Float.intBitsToFloat(bits);
    }
}
