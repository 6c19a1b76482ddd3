package jllm.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from logits: repetition penalty, then top-k, top-p (Holtzman et al. 2019), min-p,
 * temperature, and a draw from the softmax (llama.cpp's default chain order). Temperature 0 is greedy.
 * Candidates are sorted as packed longs (order-preserving float bits, token id), so no boxing per token. With top-k
 * only the k best are selected (a size-k min-heap over the vocabulary, O(V log k) at worst, then a sort of k) rather
 * than sorting all V; the order is the same as the full sort's since no two keys are equal. Buffers are reused, so a
 * call allocates nothing once they have grown to the vocabulary.
 */
public final class Sampler {
    private final SamplerConfig config;
    private final SplittableRandom random;
    private long[] keys = new long[0];
    private float[] probs = new float[0];
    private int[] penalised = new int[0];   // (vocab) the call stamp that last penalised each token
    private int stamp;

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
        int count = config.topK() > 0 && config.topK() < n ? selectTopK(logits, config.topK()) : sortAll(logits);
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

    /** keys[0, n) = every candidate, best first; returns n. */
    int sortAll(float[] logits) {
        int n = logits.length;
        if (keys.length < n) keys = new long[n];
        for (int i = 0; i < n; i++) keys[i] = pack(logits[i], i);
        Arrays.sort(keys, 0, n);
        reverse(keys, n);
        return n;
    }

    /** keys[0, k) = the k best candidates, best first (0 < k < vocab); returns k. */
    int selectTopK(float[] logits, int k) {
        if (keys.length < logits.length) keys = new long[logits.length];
        long[] heap = keys; // a min-heap of the k best so far: heap[0] is the worst of them
        for (int i = 0; i < k; i++) {
            heap[i] = pack(logits[i], i);
            siftUp(heap, i);
        }
        for (int i = k; i < logits.length; i++) {
            long key = pack(logits[i], i);
            if (key > heap[0]) {
                heap[0] = key;
                siftDown(heap, k);
            }
        }
        Arrays.sort(heap, 0, k);
        reverse(heap, k);
        return k;
    }

    private static void siftUp(long[] h, int i) {
        long x = h[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (h[parent] <= x) break;
            h[i] = h[parent];
            i = parent;
        }
        h[i] = x;
    }

    private static void siftDown(long[] h, int n) {
        long x = h[0];
        int i = 0;
        while (true) {
            int c = 2 * i + 1;
            if (c >= n) break;
            if (c + 1 < n && h[c + 1] < h[c]) c++;
            if (x <= h[c]) break;
            h[i] = h[c];
            i = c;
        }
        h[i] = x;
    }

    private static void reverse(long[] a, int n) {
        for (int i = 0, j = n - 1; i < j; i++, j--) {
            long t = a[j];
            a[j] = a[i];
            a[i] = t;
        }
    }

    /** The candidate buffer of the last call (packed keys, best first), for tests. */
    long[] candidates() { return keys; }

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
        // penalise each distinct token once: a token is marked with this call's stamp when penalised
        if (penalised.length < logits.length) penalised = new int[logits.length];
        if (++stamp == 0) {
            Arrays.fill(penalised, 0);
            stamp = 1;
        }
        for (int i = from; i < historyLength; i++) {
            int t = history[i];
            if (t < 0 || t >= logits.length || penalised[t] == stamp) continue;
            penalised[t] = stamp;
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
