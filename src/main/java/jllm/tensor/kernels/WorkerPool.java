package jllm.tensor.kernels;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed pool of persistent worker threads that splits a range of rows across cores: a parallel-for with
 * no allocation per call, built for the hundreds of short matrix-vector products of one decoded token.
 *
 * <p>Design (as ggml's CPU thread pool): the calling thread is worker 0 and takes part; {@code threads - 1}
 * daemon threads wait for work by spinning briefly ({@link Thread#onSpinWait}) and then parking. A call cuts
 * {@code [0, n)} into chunks (multiples of {@code grain}, about four per thread) and publishes them in one
 * atomic word holding (generation, chunk count, next chunk); every participant claims chunks with a
 * compare-and-set, so a thread that wakes late takes whatever is left and a claim can never cross into the
 * next call. The caller returns when all chunks are done. An exception thrown by the task is rethrown in
 * the caller after the call's chunks finish.
 *
 * <p>Not reentrant: one {@code parallelFor} at a time per pool (calls from several threads are serialized).
 */
public final class WorkerPool implements AutoCloseable {

    /** The body of a parallel-for: process rows {@code [from, to)} on worker {@code worker} (0 = caller). */
    @FunctionalInterface
    public interface RangeTask {
        void run(int from, int to, int worker);
    }

    /** How long an idle worker spins before parking, by default. */
    public static final long DEFAULT_SPIN_NANOS = 200_000;

    private static final int CHUNK_BITS = 20;
    private static final long CHUNK_MASK = (1L << CHUNK_BITS) - 1;
    private static final int MAX_CHUNKS = (int) CHUNK_MASK;

    private final int threads;
    private final long spinNanos;
    private final Thread[] workers;                 // (threads - 1) background threads
    private final AtomicInteger[] parked;           // 1 while worker i+1 is parked or about to park
    /** generation (24 bits) | chunk count (20 bits) | next chunk (20 bits). */
    private final AtomicLong claims = new AtomicLong();
    private final AtomicInteger done = new AtomicInteger();
    private volatile Thread waiter;                 // the caller, while parked waiting for the last chunk
    private volatile Throwable failure;
    private volatile boolean closed;

    // The current call; written by the caller before the claims word is published, read by a worker only
    // after it has claimed a chunk of this call, so each read sees this call's values.
    private RangeTask task;
    private int n;
    private int chunkSize;
    private long generation;

    /** A pool of {@code threads} workers (the caller counts as one) with the default spin time. */
    public WorkerPool(int threads) {
        this(threads, DEFAULT_SPIN_NANOS);
    }

    public WorkerPool(int threads, long spinNanos) {
        if (threads < 1 || threads > 1024) throw new IllegalArgumentException("thread count " + threads + " is not in [1, 1024]");
        if (spinNanos < 0) throw new IllegalArgumentException("spin time " + spinNanos + " ns is negative");
        this.threads = threads;
        this.spinNanos = spinNanos;
        this.workers = new Thread[threads - 1];
        this.parked = new AtomicInteger[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            parked[i] = new AtomicInteger();
            int id = i + 1;
            Thread t = new Thread(() -> workerLoop(id), "jllm-worker-" + id);
            t.setDaemon(true);
            workers[i] = t;
        }
        for (Thread t : workers) t.start();
    }

    /** A pool with one worker per available processor. */
    public static WorkerPool create() {
        return new WorkerPool(Runtime.getRuntime().availableProcessors());
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code task} over {@code [0, n)} in chunks whose boundaries are multiples of {@code grain} (the last
     * chunk ends at {@code n}); returns when every chunk has run.
     */
    public synchronized void parallelFor(int n, int grain, RangeTask task) {
        if (closed) throw new IllegalStateException("worker pool is closed");
        if (grain < 1) throw new IllegalArgumentException("grain " + grain + " is not positive");
        if (n <= 0) return;
        int units = (n + grain - 1) / grain;
        if (threads == 1 || units == 1) {
            task.run(0, n, 0);
            return;
        }
        int perChunk = Math.max(1, units / (4 * threads));
        int size = perChunk * grain;
        int chunks = (n + size - 1) / size;
        if (chunks > MAX_CHUNKS) {
            size = (int) (((long) n + MAX_CHUNKS - 1) / MAX_CHUNKS + grain - 1) / grain * grain;
            chunks = (n + size - 1) / size;
        }
        this.task = task;
        this.n = n;
        this.chunkSize = size;
        this.failure = null;
        done.set(0);
        generation = (generation + 1) & 0xFFFFFF;
        claims.set(generation << (2 * CHUNK_BITS) | (long) chunks << CHUNK_BITS);   // publishes the fields above
        for (int i = 0; i < workers.length; i++) {
            if (parked[i].get() != 0) LockSupport.unpark(workers[i]);
        }
        runChunks(0);
        awaitChunks(chunks);
        this.task = null;
        Throwable f = failure;
        if (f != null) {
            failure = null;
            if (f instanceof RuntimeException re) throw re;
            if (f instanceof Error e) throw e;
            throw new RuntimeException(f);
        }
    }

    /** Claims and runs chunks of the current call until none is left; true if it ran at least one. */
    private boolean runChunks(int worker) {
        boolean ran = false;
        while (true) {
            long c = claims.get();
            long next = c & CHUNK_MASK;
            long count = (c >>> CHUNK_BITS) & CHUNK_MASK;
            if (next >= count) return ran;
            if (!claims.compareAndSet(c, c + 1)) continue;
            ran = true;
            int from = (int) next * chunkSize;
            int to = (int) Math.min((long) from + chunkSize, n);
            try {
                task.run(from, to, worker);
            } catch (Throwable t) {
                if (failure == null) failure = t;
            }
            if (done.incrementAndGet() == count) {
                Thread w = waiter;
                if (w != null) LockSupport.unpark(w);
            }
        }
    }

    private boolean hasWork() {
        long c = claims.get();
        return (c & CHUNK_MASK) < ((c >>> CHUNK_BITS) & CHUNK_MASK);
    }

    private void awaitChunks(int chunks) {
        long start = System.nanoTime();
        int spins = 0;
        while (done.get() < chunks) {
            if (((++spins) & 63) != 0 || System.nanoTime() - start < spinNanos) {
                Thread.onSpinWait();
                continue;
            }
            waiter = Thread.currentThread();
            if (done.get() < chunks) LockSupport.parkNanos(this, 1_000_000);
            waiter = null;
        }
    }

    private void workerLoop(int id) {
        AtomicInteger myParked = parked[id - 1];
        long idleSince = System.nanoTime();
        int spins = 0;
        while (!closed) {
            if (runChunks(id)) {
                idleSince = System.nanoTime();
                spins = 0;
                continue;
            }
            if (((++spins) & 63) != 0 || System.nanoTime() - idleSince < spinNanos) {
                Thread.onSpinWait();
                continue;
            }
            myParked.set(1);
            if (!hasWork() && !closed) LockSupport.park(this);
            myParked.set(0);
            idleSince = System.nanoTime();
            spins = 0;
        }
    }

    /** Stops the worker threads (waits for them to finish their current chunk). */
    @Override
    public void close() {
        closed = true;
        for (Thread t : workers) LockSupport.unpark(t);
        for (Thread t : workers) {
            try {
                t.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
