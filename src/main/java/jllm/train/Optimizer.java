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

    /** Bytes of the optimizer state. */
    long stateBytes();
}
