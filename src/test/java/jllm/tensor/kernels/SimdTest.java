package jllm.tensor.kernels;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The kernels' vector width: the preferred one clamped to 8 or 16 float lanes, or the one {@code jllm.simd.bits} forces. */
class SimdTest {
    @Test
    void theWidthIsTheForcedOneOrAClampedPreferredOne() {
        String forced = System.getProperty("jllm.simd.bits");
        if (forced != null) {
            // the build's second test run (simd-256) must really run the kernels 8 lanes wide
            assertThat(Simd.L * 32).isEqualTo(Integer.parseInt(forced.trim()));
        } else {
            assertThat(Simd.L).isIn(8, 16);
        }
        assertThat(Simd.B.vectorBitSize()).isEqualTo(8 * Simd.L);
        assertThat(Simd.B4.vectorBitSize()).isEqualTo(Simd.F.vectorBitSize());
        assertThat(Simd.I.length()).isEqualTo(Simd.L);
    }
}
