package jllm.tensor.kernels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** The pool covers every index exactly once, on chunk boundaries that are multiples of the grain. */
class WorkerPoolTest {

    @Test
    void everyIndexRunsExactlyOnceWith1To3Threads() {
        for (int threads = 1; threads <= 3; threads++) {
            try (WorkerPool pool = new WorkerPool(threads, 50_000)) {
                for (int n : new int[] {1, 2, 5, 16, 37, 1000, 4099}) {
                    for (int grain : new int[] {1, 4, 16}) {
                        for (int rep = 0; rep < 20; rep++) {
                            AtomicIntegerArray hits = new AtomicIntegerArray(n);
                            int g = grain;
                            int nn = n;
                            pool.parallelFor(n, grain, (from, to, worker) -> {
                                if (from % g != 0 || (to % g != 0 && to != nn)) throw new AssertionError("bad chunk " + from + ".." + to);
                                if (worker < 0 || worker >= pool.threads()) throw new AssertionError("worker " + worker);
                                for (int i = from; i < to; i++) hits.incrementAndGet(i);
                            });
                            for (int i = 0; i < n; i++) assertThat(hits.get(i)).as("n %d grain %d index %d", n, grain, i).isEqualTo(1);
                        }
                    }
                }
            }
        }
    }

    @Test
    void exceptionInAWorkerIsRethrownAndPoolStaysUsable() {
        try (WorkerPool pool = new WorkerPool(3)) {
            assertThatThrownBy(() -> pool.parallelFor(100, 1, (from, to, w) -> {
                if (from <= 50 && 50 < to) throw new IllegalStateException("boom at 50");
            })).isInstanceOf(IllegalStateException.class).hasMessage("boom at 50");
            AtomicIntegerArray hits = new AtomicIntegerArray(100);
            pool.parallelFor(100, 1, (from, to, w) -> { for (int i = from; i < to; i++) hits.incrementAndGet(i); });
            for (int i = 0; i < 100; i++) assertThat(hits.get(i)).isEqualTo(1);
        }
    }

    @Test
    void idleWorkersParkAndWakeUp() throws InterruptedException {
        try (WorkerPool pool = new WorkerPool(2, 0)) {
            for (int rep = 0; rep < 5; rep++) {
                Thread.sleep(5);   // workers park (spin time 0)
                AtomicIntegerArray hits = new AtomicIntegerArray(64);
                pool.parallelFor(64, 1, (from, to, w) -> { for (int i = from; i < to; i++) hits.incrementAndGet(i); });
                for (int i = 0; i < 64; i++) assertThat(hits.get(i)).isEqualTo(1);
            }
        }
    }
}
