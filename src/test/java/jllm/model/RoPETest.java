package jllm.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** RoPE against the closed form: pair j rotated by pos * base^(-2j/d), for both pair orderings. */
class RoPETest {
    static ModelConfig config(ModelConfig.RopeType type, int headDim, float base) {
        return new ModelConfig("llama", headDim, 1, 1, 1, headDim, 8, 16, 4096, type, base, headDim, 1f, 1e-5f, false, false);
    }

    @Test
    void normRotatesAdjacentPairsByClosedFormAngle() {
        int d = 8, pos = 7;
        RoPE rope = new RoPE(config(ModelConfig.RopeType.NORM, d, 10000f), null);
        float[] x = {1, 2, 3, 4, 5, 6, 7, 8};
        float[] cos = new float[d / 2], sin = new float[d / 2];
        rope.angles(cos, sin, pos);
        float[] y = x.clone();
        rope.rotate(y, 0, 1, d, cos, sin);
        for (int j = 0; j < d / 2; j++) {
            double theta = pos * Math.pow(10000, -2.0 * j / d);
            assertThat((double) y[2 * j]).isCloseTo(x[2 * j] * Math.cos(theta) - x[2 * j + 1] * Math.sin(theta), within(1e-5));
            assertThat((double) y[2 * j + 1]).isCloseTo(x[2 * j] * Math.sin(theta) + x[2 * j + 1] * Math.cos(theta), within(1e-5));
        }
    }

    @Test
    void neoxRotatesHalvesAndFreqFactorsDivideTheAngle() {
        int d = 8, pos = 11;
        float[] factors = {1f, 2f, 4f, 8f};
        RoPE rope = new RoPE(config(ModelConfig.RopeType.NEOX, d, 500000f), factors);
        float[] x = {1, -2, 3, -4, 5, -6, 7, -8};
        float[] cos = new float[d / 2], sin = new float[d / 2];
        rope.angles(cos, sin, pos);
        float[] y = x.clone();
        rope.rotate(y, 0, 1, d, cos, sin);
        for (int j = 0; j < d / 2; j++) {
            double theta = pos * Math.pow(500000, -2.0 * j / d) / factors[j];
            assertThat((double) y[j]).isCloseTo(x[j] * Math.cos(theta) - x[j + 4] * Math.sin(theta), within(1e-4));
            assertThat((double) y[j + 4]).isCloseTo(x[j] * Math.sin(theta) + x[j + 4] * Math.cos(theta), within(1e-4));
        }
    }

    @Test
    void rotationPreservesNormAndBackwardInverts() {
        int d = 16;
        RoPE rope = new RoPE(config(ModelConfig.RopeType.NORM, d, 10000f), null);
        float[] x = AttentionTest.random(new java.util.SplittableRandom(3), d, 1f);
        float[] cos = new float[d / 2], sin = new float[d / 2];
        rope.angles(cos, sin, 1234);
        float[] y = x.clone();
        rope.rotate(y, 0, 1, d, cos, sin);
        double nx = 0, ny = 0;
        for (int i = 0; i < d; i++) { nx += x[i] * x[i]; ny += y[i] * y[i]; }
        assertThat(ny).isCloseTo(nx, within(1e-4));
        rope.rotateBackward(y, 0, 1, d, cos, sin);
        for (int i = 0; i < d; i++) assertThat(y[i]).isCloseTo(x[i], within(1e-5f));
    }
}
