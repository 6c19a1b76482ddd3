package jllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.junit.jupiter.api.Test;

/** {@link AnonymousMemory}: zeros until written, writable from several threads, unmapped with its arena. */
class AnonymousMemoryTest {
    @Test
    void readsZerosHoldsWritesAndDiesWithItsArena() throws Exception {
        long bytes = (5L << 20) + 123;   // not a multiple of a page or of a huge page
        MemorySegment s;
        try (Arena arena = Arena.ofShared()) {
            s = AnonymousMemory.allocate(bytes, arena);
            assertThat(s.byteSize()).isEqualTo(bytes);
            for (long o = 0; o < bytes; o += 4093) assertThat(s.get(ValueLayout.JAVA_BYTE, o)).isZero();
            assertThat(s.get(ValueLayout.JAVA_BYTE, bytes - 1)).isZero();
            MemorySegment seg = s;
            long half = bytes / 2 / 8 * 8;   // another thread first-touches the lower half, this one the upper
            Thread t = new Thread(() -> { for (long o = 0; o < half; o += 8) seg.set(ValueLayout.JAVA_LONG_UNALIGNED, o, o); });
            t.start();
            for (long o = half; o + 8 <= bytes; o += 8) s.set(ValueLayout.JAVA_LONG_UNALIGNED, o, -o);
            t.join();
            for (long o = 0; o < half; o += 8 * 1001) assertThat(s.get(ValueLayout.JAVA_LONG_UNALIGNED, o)).isEqualTo(o);
            for (long o = half; o + 8 <= bytes; o += 8 * 1001) assertThat(s.get(ValueLayout.JAVA_LONG_UNALIGNED, o)).isEqualTo(-o);
        }
        MemorySegment closed = s;
        assertThatThrownBy(() -> closed.get(ValueLayout.JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);
        if (System.getProperty("os.name").toLowerCase().contains("linux")) assertThat(AnonymousMemory.mapsItself()).isTrue();
        assertThatThrownBy(() -> AnonymousMemory.allocate(0, Arena.ofAuto())).hasMessageContaining("allocation of 0 bytes");
    }
}
