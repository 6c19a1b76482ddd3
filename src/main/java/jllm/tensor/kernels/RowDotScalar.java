package jllm.tensor.kernels;

import java.lang.foreign.MemorySegment;
import jllm.tensor.DequantizeScalar;
import jllm.tensor.GGMLType;

/**
 * Scalar twin of {@link RowDot}: each block dequantized by the definition ({@link DequantizeScalar}) and
 * multiplied with the activation, accumulated in double. The reference the Vector API row dot is tested against.
 *
 * <p>Spec: ggml-quants.c {@code dequantize_row_*} (element values) and the plain dot product.
 */
public final class RowDotScalar {
    private RowDotScalar() {}

    /** {@code sum_i w_i x[xo + i]} over {@code n} elements of {@code type} from byte {@code off} of {@code w}. */
    public static float dot(GGMLType type, MemorySegment w, long off, float[] x, int xo, int n) {
        int bs = type.blockSize == 1 ? 32 : type.blockSize;
        float[] buf = new float[bs];
        double s = 0;
        int i = 0;
        for (; i + bs <= n; i += bs) {
            DequantizeScalar.dequantize(type, w, off + type.bytes(i), buf, 0, bs);
            for (int j = 0; j < bs; j++) s += (double) buf[j] * x[xo + i + j];
        }
        for (; i < n; i++) {   // tail of an unblocked type
            DequantizeScalar.dequantize(type, w, off + type.bytes(i), buf, 0, 1);
            s += (double) buf[0] * x[xo + i];
        }
        return (float) s;
    }
}
