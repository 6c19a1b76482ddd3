package jllm.train;

import java.util.SplittableRandom;

/**
 * Batches of B rows of a {@link Dataset}: in file order ({@code --no-shuffle}: each batch is the next B rows,
 * wrapping to the start), or in a fresh seeded permutation of the rows for every epoch (Fisher-Yates with a
 * generator seeded by (seed, epoch)). The only state is the number of rows consumed, so a resumed run that seeks
 * to it reads exactly the batches an uninterrupted run would.
 */
public final class DataLoader implements Batch.Source {
    private final Dataset data;
    private final int B, T;
    private final boolean shuffle;
    private final long seed;
    private long position;
    private long permEpoch = -1;
    private int[] perm;

    public DataLoader(Dataset data, int B, int T, boolean shuffle, long seed) {
        if (B <= 0) throw new IllegalArgumentException("--batch must be positive, got " + B);
        this.data = data;
        this.B = B;
        this.T = T;
        this.shuffle = shuffle;
        this.seed = seed;
    }

    @Override
    public Batch next() {
        int[] tokens = new int[B * T], targets = new int[B * T];
        for (int b = 0; b < B; b++) data.fill(tokens, targets, b, T, data.row(rowAt(position++)));
        return new Batch(tokens, targets, B, T);
    }

    /** The dataset row read at global position p (rows consumed before it). */
    int rowAt(long p) {
        int n = data.size();
        long epoch = p / n;
        int i = (int) (p % n);
        if (!shuffle) return i;
        if (epoch != permEpoch) {
            perm = new int[n];
            for (int k = 0; k < n; k++) perm[k] = k;
            SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch);
            for (int k = n - 1; k > 0; k--) {
                int j = r.nextInt(k + 1);
                int t = perm[k];
                perm[k] = perm[j];
                perm[j] = t;
            }
            permEpoch = epoch;
        }
        return perm[i];
    }

    @Override
    public long position() { return position; }

    @Override
    public void seek(long position) {
        if (position < 0) throw new IllegalArgumentException("data position " + position + " is negative");
        this.position = position;
    }
}
