package jllm.model;

/**
 * Rotary position embedding (Su et al. 2021, "RoFormer"). Pair j of a head is rotated by the angle
 * <pre>  theta_j(pos) = freqScale * pos * base^(-2j/ropeDim) / freqFactor[j]</pre>
 * where freqFactor comes from a GGUF {@code rope_freqs.weight} tensor (Llama 3.1 frequency scaling) or is 1.
 * The pair ordering follows {@link ModelConfig.RopeType}: NORM rotates (x[2j], x[2j+1]); NEOX rotates
 * (x[j], x[j + ropeDim/2]). The angles are accumulated as llama.cpp does (theta *= base^(-2/ropeDim) in float),
 * so positions agree with it to the last bit of the angle.
 */
public final class RoPE {
    private final ModelConfig.RopeType type;
    private final int ropeDim;
    private final float thetaScale;
    private final float freqScale;
    private final float[] freqFactors; // (ropeDim/2) or null

    public RoPE(ModelConfig config, float[] freqFactors) {
        this.type = config.ropeType();
        this.ropeDim = config.ropeDim();
        this.thetaScale = (float) Math.pow(config.ropeTheta(), -2.0 / ropeDim);
        this.freqScale = config.ropeFreqScale();
        if (freqFactors != null && freqFactors.length != ropeDim / 2) {
            throw new IllegalArgumentException("rope_freqs has " + freqFactors.length + " entries, expected " + ropeDim / 2);
        }
        this.freqFactors = freqFactors;
    }

    /** cos[j], sin[j] of the angles for position {@code pos}, j in [0, ropeDim/2). */
    public void angles(float[] cos, float[] sin, int pos) {
        angles(cos, sin, 0, pos);
    }

    /** cos[off + j], sin[off + j] of the angles for position {@code pos}, j in [0, ropeDim/2). */
    public void angles(float[] cos, float[] sin, int off, int pos) {
        float theta = pos;
        for (int j = 0; j < ropeDim / 2; j++) {
            float t = freqFactors == null ? theta : theta / freqFactors[j];
            t *= freqScale;
            cos[off + j] = (float) Math.cos(t);
            sin[off + j] = (float) Math.sin(t);
            theta *= thetaScale;
        }
    }

    /** Rotates {@code nHeads} heads of width headDim stored contiguously in x starting at off, in place. */
    public void rotate(float[] x, int off, int nHeads, int headDim, float[] cos, float[] sin) {
        rotate(x, off, nHeads, headDim, cos, sin, 0, 1f);
    }

    /**
     * Backward of {@link #rotate}: the transpose rotation (angle -theta) applied to a gradient, in place. The angle
     * tables are only read, so threads may share them.
     */
    public void rotateBackward(float[] g, int off, int nHeads, int headDim, float[] cos, float[] sin) {
        rotate(g, off, nHeads, headDim, cos, sin, 0, -1f);
    }

    /** Rotation by the angles at cos[aOff..], sin[aOff..], forward (sign 1) or transposed (sign -1). */
    public void rotate(float[] x, int off, int nHeads, int headDim, float[] cos, float[] sin, int aOff, float sign) {
        int half = ropeDim / 2;
        for (int h = 0; h < nHeads; h++) {
            int base = off + h * headDim;
            if (type == ModelConfig.RopeType.NORM) {
                for (int j = 0; j < half; j++) {
                    int i0 = base + 2 * j;
                    float c = cos[aOff + j], sn = sign * sin[aOff + j];
                    float x0 = x[i0], x1 = x[i0 + 1];
                    x[i0] = x0 * c - x1 * sn;
                    x[i0 + 1] = x0 * sn + x1 * c;
                }
            } else {
                for (int j = 0; j < half; j++) {
                    int i0 = base + j, i1 = base + j + half;
                    float c = cos[aOff + j], sn = sign * sin[aOff + j];
                    float x0 = x[i0], x1 = x[i1];
                    x[i0] = x0 * c - x1 * sn;
                    x[i1] = x0 * sn + x1 * c;
                }
            }
        }
    }

    public int ropeDim() { return ropeDim; }
}
