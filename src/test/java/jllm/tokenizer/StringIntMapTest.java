package jllm.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link StringIntMap} against {@code HashMap} on random, colliding and repeated keys, through growth. */
class StringIntMapTest {
    @Test
    void agreesWithHashMap() {
        Random rnd = new Random(5);
        StringIntMap m = new StringIntMap(4);   // starts small: grows many times
        Map<String, Integer> ref = new HashMap<>();
        for (int i = 0; i < 200_000; i++) {
            // short keys from a small alphabet repeat often; "Aa" and "BB" share a hashCode
            String k = rnd.nextInt(4) == 0 ? (rnd.nextBoolean() ? "Aa" : "BB") + rnd.nextInt(50) : Integer.toString(rnd.nextInt(300_000), 36);
            int v = rnd.nextInt(Integer.MAX_VALUE);
            if (rnd.nextBoolean()) {
                m.put(k, v);
                ref.put(k, v);
            } else {
                assertThat(m.putIfAbsent(k, v)).isEqualTo(!ref.containsKey(k));
                ref.putIfAbsent(k, v);
            }
        }
        assertThat(m.size()).isEqualTo(ref.size());
        for (Map.Entry<String, Integer> e : ref.entrySet()) assertThat(m.get(e.getKey())).as(e.getKey()).isEqualTo(e.getValue());
        for (int i = 0; i < 10_000; i++) {
            String absent = "absent-" + i;
            assertThat(m.get(absent)).isEqualTo(-1);
        }
        assertThat(m.get("")).isEqualTo(ref.getOrDefault("", -1));
    }

    @Test
    void refusesNegativeValues() {
        assertThatThrownBy(() -> new StringIntMap(1).put("x", -1)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("negative");
    }
}
