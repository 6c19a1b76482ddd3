package jllm.tensor.kernels;

import static jllm.tensor.kernels.Simd.B;
import static jllm.tensor.kernels.Simd.F;
import static jllm.tensor.kernels.Simd.I;
import static jllm.tensor.kernels.Simd.L;
import static jllm.tensor.kernels.Simd.LE;
import static jllm.tensor.kernels.Simd.f16;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jllm.tensor.GGMLType;

/**
 * The int8 path: dot products of Q8_0 / Q4_0 weight rows with a {@link Q8Activation}, integer within each block
 * of 32 and scaled once per block, {@code sum_b d_w(b) d_x(b) sum_j q_w q_x}, with the Vector API; the scalar twin
 * is {@link #dotScalar}.
 *
 * <p>Spec: ggml's {@code ggml_vec_dot_q8_0_q8_0} and {@code ggml_vec_dot_q4_0_q8_0}. The integer block sums are
 * exact; only the float accumulation order differs between the vector and scalar versions.
 */
public final class RowDotInt8 {
    private RowDotInt8() {}

    /** Whether the int8 path has a kernel for {@code type}. */
    public static boolean supports(GGMLType type) {
        return type == GGMLType.Q8_0 || type == GGMLType.Q4_0;
    }

    /** {@code sum_i w_i x_i} for the {@code n = a.length()} elements of a Q8_0 or Q4_0 row at byte {@code off}. */
    public static float dot(GGMLType type, MemorySegment w, long off, Q8Activation a) {
        return switch (type) {
            case Q8_0 -> q8_0(w, off, a.q, a.d, a.n);
            case Q4_0 -> q4_0(w, off, a.q, a.d, a.n);
            default -> throw new IllegalArgumentException("the int8 path has no kernel for " + type);
        };
    }

    static float q8_0(MemorySegment w, long off, byte[] qx, float[] dx, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 32; b++) {
            long p = off + 34L * b;
            IntVector s = IntVector.zero(I);
            for (int k = 0; k < 32; k += L) {
                IntVector wq = (IntVector) ByteVector.fromMemorySegment(B, w, p + 2 + k, LE).convertShape(VectorOperators.B2I, I, 0);
                IntVector xq = (IntVector) ByteVector.fromArray(B, qx, 32 * b + k).convertShape(VectorOperators.B2I, I, 0);
                s = s.add(wq.mul(xq));
            }
            acc = ((FloatVector) s.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, f16(w, p) * dx[b]), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    static float q4_0(MemorySegment w, long off, byte[] qx, float[] dx, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / 32; b++) {
            long p = off + 18L * b;
            IntVector s = IntVector.zero(I);
            for (int k = 0; k < 16; k += L) {
                IntVector wq = (IntVector) ByteVector.fromMemorySegment(B, w, p + 2 + k, LE).convertShape(VectorOperators.B2I, I, 0);
                IntVector lo = wq.and(0x0F).sub(8);
                IntVector hi = wq.lanewise(VectorOperators.LSHR, 4).and(0x0F).sub(8);
                IntVector x0 = (IntVector) ByteVector.fromArray(B, qx, 32 * b + k).convertShape(VectorOperators.B2I, I, 0);
                IntVector x1 = (IntVector) ByteVector.fromArray(B, qx, 32 * b + 16 + k).convertShape(VectorOperators.B2I, I, 0);
                s = s.add(lo.mul(x0)).add(hi.mul(x1));
            }
            acc = ((FloatVector) s.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, f16(w, p) * dx[b]), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** Scalar twin: exact integer block sums, each scaled by {@code d_w d_x} and added in double. */
    public static float dotScalar(GGMLType type, MemorySegment w, long off, Q8Activation a) {
        double acc = 0;
        for (int b = 0; b < a.n / 32; b++) {
            int s = 0;
            float dw;
            if (type == GGMLType.Q8_0) {
                long p = off + 34L * b;
                dw = f16(w, p);
                for (int j = 0; j < 32; j++) s += w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, p + 2 + j) * a.q[32 * b + j];
            } else if (type == GGMLType.Q4_0) {
                long p = off + 18L * b;
                dw = f16(w, p);
                for (int j = 0; j < 16; j++) {
                    int q = Simd.u8(w, p + 2 + j);
                    s += ((q & 0x0F) - 8) * a.q[32 * b + j] + ((q >> 4) - 8) * a.q[32 * b + 16 + j];
                }
            } else {
                throw new IllegalArgumentException("the int8 path has no kernel for " + type);
            }
            acc += (double) (dw * a.d[b]) * s;
        }
        return (float) acc;
    }
}
