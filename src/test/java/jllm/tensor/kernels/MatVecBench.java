package jllm.tensor.kernels;

import java.util.Random;
import jllm.tensor.GGMLType;
import jllm.tensor.Tensor;

/**
 * A throwaway timing printout (not a test, nothing asserted): matVec GB/s of weight bytes for a 2048 x 8192
 * matrix (2048 rows of 8192 columns) per type, float and int8 paths, and matMul GFLOP/s for T = 64.
 * Run: {@code java --add-modules jdk.incubator.vector -cp target/classes:target/test-classes jllm.tensor.kernels.MatVecBench [threads] [types...]}
 */
public final class MatVecBench {
    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        String[] types = args.length > 1 ? java.util.Arrays.copyOfRange(args, 1, args.length) : new String[] {"Q8_0", "Q4_0", "F16", "Q4_K", "Q6_K"};
        int rows = 2048, cols = 8192;
        Random rnd = new Random(1);
        float[] wf = RandomTensors.gaussian(rnd, rows * cols, 1.0);
        float[] x = RandomTensors.gaussian(rnd, cols * 64, 1.0);
        System.out.println("species lanes: " + Simd.L + ", threads: " + threads);
        try (WorkerPool pool = new WorkerPool(threads)) {
            for (String tn : types) {
                GGMLType type = GGMLType.valueOf(tn);
                Tensor w = Tensor.quantize("w", type, wf, cols, rows);
                MatMul mm = new MatMul(pool);
                MatMul mm8 = new MatMul(pool, MatMul.Path.INT8);
                float[] out = new float[rows * 64];
                long bytes = w.data().byteSize();
                double best = 0;
                for (int rep = 0; rep < 8; rep++) {
                    int iters = 20;
                    long t0 = System.nanoTime();
                    for (int i = 0; i < iters; i++) mm.matVec(out, w, x);
                    double s = (System.nanoTime() - t0) / 1e9 / iters;
                    best = Math.max(best, bytes / s / 1e9);
                }
                double best8 = 0;
                if (RowDotInt8.supports(type)) {
                    for (int rep = 0; rep < 8; rep++) {
                        int iters = 20;
                        long t0 = System.nanoTime();
                        for (int i = 0; i < iters; i++) mm8.matVec(out, w, x);
                        double s = (System.nanoTime() - t0) / 1e9 / iters;
                        best8 = Math.max(best8, bytes / s / 1e9);
                    }
                }
                double bestMm = 0;
                for (int rep = 0; rep < 3; rep++) {
                    long t0 = System.nanoTime();
                    mm.matMul(out, w, x, 64);
                    double s = (System.nanoTime() - t0) / 1e9;
                    bestMm = Math.max(bestMm, 2.0 * rows * cols * 64 / s / 1e9);
                }
                System.out.printf("%-5s %6.1f MB  matVec float %6.2f GB/s (%.3f ms)  int8 %s   matMul T=64 %6.1f GFLOP/s%n",
                        type, bytes / 1e6, best, bytes / best / 1e6,
                        best8 > 0 ? String.format("%6.2f GB/s", best8) : "   -      ", bestMm);
            }
            // per-call cost on a small matrix (a KV projection of a 1B model: 256 x 2048 Q8_0)
            Tensor small = Tensor.quantize("k", GGMLType.Q8_0, java.util.Arrays.copyOf(wf, 256 * 2048), 2048, 256);
            MatMul mm = new MatMul(pool);
            float[] out = new float[256];
            double bestUs = Double.MAX_VALUE;
            for (int rep = 0; rep < 10; rep++) {
                int iters = 2000;
                long t0 = System.nanoTime();
                for (int i = 0; i < iters; i++) mm.matVec(out, small, x);
                bestUs = Math.min(bestUs, (System.nanoTime() - t0) / 1e3 / iters);
            }
            System.out.printf("small Q8_0 256 x 2048 matVec: %.1f us per call%n", bestUs);
        }
    }
}
