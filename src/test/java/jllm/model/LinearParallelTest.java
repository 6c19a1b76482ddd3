package jllm.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.junit.jupiter.api.Test;

/**
 * Linear's parallel-for: every item runs exactly once (counted per item), and a call with a task made once allocates
 * nothing on the calling thread (the decode path makes hundreds of these calls per token).
 */
class LinearParallelTest {

    @Test
    void everyItemRunsOnceAndWarmCallsAllocateNothing() {
        try (Linear linear = new Linear(2)) {
            int n = 1000;
            AtomicIntegerArray hits = new AtomicIntegerArray(n);
            Linear.Task item = (i, worker) -> hits.incrementAndGet(i);
            Linear.RangeTask range = (from, to, worker) -> {
                for (int i = from; i < to; i++) hits.incrementAndGet(i);
            };
            int calls = 300;
            for (int c = 0; c < calls; c++) {
                linear.parallelFor(n, item);
                linear.parallelRange(n, range);
            }
            for (int i = 0; i < n; i++) assertThat(hits.get(i)).as("item %d", i).isEqualTo(2 * calls);

            com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long id = Thread.currentThread().threadId();
            mx.getThreadAllocatedBytes(id); // the counter's own first call may allocate
            long before = mx.getThreadAllocatedBytes(id);
            for (int c = 0; c < calls; c++) {
                linear.parallelFor(n, item);
                linear.parallelRange(n, range);
            }
            assertThat(mx.getThreadAllocatedBytes(id) - before).as("bytes allocated by %d warm calls", 2 * calls).isZero();
        }
    }
}
