package jllm.format.hf;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Map;

import jllm.tensor.GGMLType;
import jllm.tensor.Tensor;

/**
 * Named tensors in one safetensors file ({@link SafetensorsFile}) or in the shards of a sharded model
 * ({@link SafetensorsShards}). Tensor data stays in the memory-mapped files: {@link #data} and {@link #tensor}
 * are views, valid until {@link #close()}; {@link #floats} is a copy.
 */
public interface SafetensorsStore extends AutoCloseable {

    /** Where the tensors were read from (the file, or the index file of a sharded model). */
    Path path();

    /** Every tensor's header entry, by name (in data order for one file; in shard order for a sharded model). */
    Map<String, SafetensorsTensorInfo> tensors();

    /** A read-only view of the tensor's bytes in its mapped file. */
    MemorySegment data(String name);

    /** The header entry of {@code name}; throws naming the tensor and the file when there is none. */
    default SafetensorsTensorInfo info(String name) {
        SafetensorsTensorInfo t = tensors().get(name);
        if (t == null) throw new SafetensorsFormatException(path().getFileName() + ": missing tensor '" + name + "'");
        return t;
    }

    default boolean has(String name) {
        return tensors().containsKey(name);
    }

    /**
     * The tensor as a jllm {@link Tensor} view over the mapped bytes (no copy): an F32, F16 or BF16 tensor with the
     * shape reversed into GGML order, so a PyTorch {@code (out, in)} weight has {@code ne = [in, out]} and rows of
     * length {@code in}.
     */
    default Tensor tensor(String name) {
        SafetensorsTensorInfo t = info(name);
        GGMLType type;
        try {
            type = t.ggmlType();
        } catch (SafetensorsFormatException e) {
            throw new SafetensorsFormatException(path().getFileName() + ": " + e.getMessage(), e);
        }
        return Tensor.of(name, type, data(name), t.ne());
    }

    /** The elements of a floating-point tensor (F32, F16, BF16, F64) converted to a new float array, row-major. */
    default float[] floats(String name) {
        SafetensorsTensorInfo t = info(name);
        long n = t.numElements();
        if (n > Integer.MAX_VALUE - 8) {
            throw new SafetensorsFormatException(path().getFileName() + ": tensor '" + name + "' has " + n
                    + " elements, too many for one float array");
        }
        MemorySegment d = data(name);
        float[] out = new float[(int) n];
        switch (t.dtype()) {
            case F32 -> MemorySegment.copy(d, LittleEndian.F32, 0, out, 0, out.length);
            case F16 -> { for (int i = 0; i < out.length; i++) out[i] = Float.float16ToFloat(d.get(LittleEndian.I16, 2L * i)); }
            case BF16 -> { for (int i = 0; i < out.length; i++) out[i] = Float.intBitsToFloat(d.get(LittleEndian.I16, 2L * i) << 16); }
            case F64 -> { for (int i = 0; i < out.length; i++) out[i] = (float) d.get(LittleEndian.F64, 8L * i); }
            default -> throw new SafetensorsFormatException(path().getFileName() + ": tensor '" + name + "' has dtype "
                    + t.dtype() + ", not a floating-point type");
        }
        return out;
    }

    /** Unmaps the files; views obtained earlier become invalid. */
    @Override
    void close();
}
