package jllm.train;

import java.util.Map;

/**
 * A first-order optimizer over named parameters and their gradients (float arrays, updated in place).
 * Its state (moment estimates, momentum buffers, step count) can be saved and restored exactly, so a resumed run
 * continues bit for bit.
 */
public interface Optimizer {
    /** One update of every parameter from its gradient at learning rate {@code lr}. */
    void step(double lr);

    /** Updates taken so far. */
    long steps();

    /** The state arrays by name (e.g. "m.blk.0.attn_q.weight"), views for saving. */
    Map<String, float[]> state();

    /** Restores the state saved from {@link #state} and {@link #steps}. */
    void restore(Map<String, float[]> state, long steps);

    /** Copies {@code saved} into this optimizer's {@link #state()} arrays; every array must be present with its size. */
    default void copyState(Map<String, float[]> saved) {
        for (var e : state().entrySet()) {
            float[] src = saved.get(e.getKey());
            if (src == null || src.length != e.getValue().length) {
                throw new IllegalArgumentException("optimizer state " + e.getKey() + " is missing or has the wrong size");
            }
            System.arraycopy(src, 0, e.getValue(), 0, src.length);
        }
    }

    /** Bytes of the optimizer state: the arrays {@link #state()} holds. */
    default long stateBytes() {
        long n = 0;
        for (float[] a : state().values()) n += a.length;
        return n * Float.BYTES;
    }
}
