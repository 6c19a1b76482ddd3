package jllm.format.hf;

import java.util.Arrays;
import java.util.Objects;

import jllm.tensor.GGMLType;
import jllm.tensor.Tensor;

/**
 * One entry of a safetensors header: {@code "name": {"dtype": "F32", "shape": [rows, cols], "data_offsets": [begin, end]}}.
 * The shape is row-major (PyTorch order, outermost first); the offsets are relative to the start of the data
 * section, which follows the header. {@link #ne()} gives the shape in GGML order (innermost first), the order
 * jllm's {@link Tensor} uses, so a PyTorch {@code (out, in)} matrix is a jllm tensor with {@code ne = [in, out]}.
 *
 * @param shape row-major dimensions; empty for a scalar; a zero dimension means an empty tensor
 * @param begin first byte, relative to the data section
 * @param end   one past the last byte; {@code end - begin == numElements * dtype.size}
 */
public record SafetensorsTensorInfo(String name, SafetensorsDType dtype, long[] shape, long begin, long end) {

    public SafetensorsTensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long byteSize() {
        return end - begin;
    }

    /** The product of the shape (1 for a scalar). */
    public long numElements() {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    /** The shape in GGML order (reversed; a scalar becomes {@code [1]}). */
    public long[] ne() {
        if (shape.length == 0) return new long[] {1};
        long[] ne = new long[shape.length];
        for (int i = 0; i < shape.length; i++) ne[i] = shape[shape.length - 1 - i];
        return ne;
    }

    /**
     * The jllm tensor type of this entry.
     *
     * @throws SafetensorsFormatException naming the tensor when its dtype is not F32, F16 or BF16, when it has no
     *     elements, or more than {@link Tensor#MAX_DIMS} dimensions
     */
    public GGMLType ggmlType() {
        GGMLType t = dtype.ggmlType();
        if (t == null) {
            throw new SafetensorsFormatException("tensor '" + name + "' has dtype " + dtype
                    + ", which is not a jllm tensor type (F32, F16, BF16)");
        }
        if (shape.length > Tensor.MAX_DIMS) {
            throw new SafetensorsFormatException("tensor '" + name + "' has " + shape.length + " dimensions "
                    + Arrays.toString(shape) + "; jllm tensors have at most " + Tensor.MAX_DIMS);
        }
        for (long d : shape) {
            if (d == 0) throw new SafetensorsFormatException("tensor '" + name + "' is empty (shape " + Arrays.toString(shape) + ")");
        }
        return t;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SafetensorsTensorInfo t && name.equals(t.name) && dtype == t.dtype
                && Arrays.equals(shape, t.shape) && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), begin, end);
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + Arrays.toString(shape) + " [" + begin + ", " + end + ")";
    }
}
