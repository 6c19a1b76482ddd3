package jllm.bench;

import java.util.SplittableRandom;

import jllm.tensor.GGMLType;
import jllm.tensor.Tensor;

/** Seeded random weight matrices of a given type for the benchmarks (quantized with jllm's ggml-exact quantizers). */
final class Weights {
    private Weights() {}

    /** A (rows, cols) matrix of {@code type} with N(0, 1/cols) values from {@code seed}. */
    static Tensor random(GGMLType type, int rows, int cols, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[Math.multiplyExact(rows, cols)];
        double scale = 1 / Math.sqrt(cols);
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextGaussian() * scale);
        return type == GGMLType.F32 ? Tensor.ofFloats("w", v, cols, rows) : Tensor.quantize("w", type, v, cols, rows);
    }

    static float[] activations(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }
}
