package jllm.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/**
 * The KV cache grows as positions fill: decoding across several growths gives bit-identical logits to a cache sized
 * for the whole context up front (the same arithmetic; only where the arrays live differs), the capacity doubles from
 * {@link KvCache#INITIAL_POSITIONS} and stops at nCtx, and {@link KvCache#bytes()} is what the arrays hold.
 */
class KvCacheTest {
    @Test
    void growingCacheDecodesExactlyLikeAFullOne() {
        ModelConfig c = TinyModels.config("llama");
        Map<String, float[]> arrays = TinyModels.randomArrays(c, 3);
        int nCtx = 2 * KvCache.INITIAL_POSITIONS + 40, V = c.vocab();
        SplittableRandom r = new SplittableRandom(4);
        int[] tokens = new int[nCtx];
        for (int i = 0; i < nCtx; i++) tokens[i] = r.nextInt(V);
        try (Linear linear = new Linear(2)) {
            LlamaModel m = new LlamaModel(c, TinyModels.weights(c, arrays), linear);
            KvCache grown = new KvCache(c, nCtx), full = new KvCache(c, nCtx);
            full.ensureCapacity(nCtx);
            assertThat(grown.capacity()).isEqualTo(KvCache.INITIAL_POSITIONS);
            assertThat(grown.bytes()).isEqualTo(KvCache.bytes(c, KvCache.INITIAL_POSITIONS));
            assertThat(full.bytes()).isEqualTo(KvCache.bytes(c, nCtx));
            LlamaModel.State a = m.newState(64), b = m.newState(64);
            // a prompt of 200 positions, then single tokens up to the end of the context
            float[] pa = m.forward(tokens, 0, 200, 0, grown, a, false).clone();
            float[] pb = m.forward(tokens, 0, 200, 0, full, b, false).clone();
            assertThat(pa).isEqualTo(pb);
            for (int t = 200; t < nCtx; t++) {
                float[] la = m.forward(tokens, t, 1, t, grown, a, false);
                float[] lb = m.forward(tokens, t, 1, t, full, b, false);
                assertThat(la).as("logits at position %d", t).isEqualTo(lb);
                int expected = t < KvCache.INITIAL_POSITIONS ? KvCache.INITIAL_POSITIONS
                        : t < 2 * KvCache.INITIAL_POSITIONS ? 2 * KvCache.INITIAL_POSITIONS : nCtx;
                assertThat(grown.capacity()).as("capacity after position %d", t).isEqualTo(expected);
            }
            assertThat(grown.bytes()).isEqualTo(full.bytes()).isEqualTo(KvCache.bytes(c, nCtx));
            assertThatThrownBy(() -> grown.ensureCapacity(nCtx + 1)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("context of " + nCtx);
        }
    }

    /**
     * The cache is refused up front when the heap's free room (not only its maximum) cannot take it once full, as when
     * the engine holds the weights on the heap; a room that looks short is measured again after a collection.
     */
    @Test
    void aCacheTheFreeHeapCannotTakeIsRefusedUpFront() {
        long[] free = {100, 100};
        int[] collections = {0};
        Runnable collect = () -> {
            collections[0]++;
            free[0] = free[1];
        };
        KvCache.checkRoom(8, 90, 1000, () -> free[0], collect);   // fits: no collection
        assertThat(collections[0]).isZero();
        free[0] = 50;
        free[1] = 95;                                               // garbage: after the collection it fits
        KvCache.checkRoom(8, 90, 1000, () -> free[0], collect);
        assertThat(collections[0]).isEqualTo(1);
        free[0] = 50;
        free[1] = 60;                                               // live data: still short after the collection
        assertThatThrownBy(() -> KvCache.checkRoom(8, 90, 1000, () -> free[0], collect))
                .hasMessageContaining("needs 90 bytes but only 60 of the heap's 1000 are free")
                .hasMessageContaining("-Djllm.repack=false");
        assertThatThrownBy(() -> KvCache.checkRoom(8, 2000, 1000, () -> 5000, collect)).hasMessageContaining("the heap allows 1000");
    }
}
