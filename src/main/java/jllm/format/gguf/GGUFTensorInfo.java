package jllm.format.gguf;

import java.util.Arrays;
import java.util.Objects;

import jllm.tensor.GGMLType;

/**
 * One entry of the GGUF tensor-info table.
 *
 * @param name       tensor name, e.g. {@code blk.0.attn_q.weight}
 * @param ne         dimensions in GGML order: ne[0] is the contiguous (innermost) one
 * @param type       element type
 * @param offset     byte offset of the data relative to the start of the tensor-data section
 * @param byteSize   bytes of data, {@code type.bytes(product(ne))}
 */
public record GGUFTensorInfo(String name, long[] ne, GGMLType type, long offset, long byteSize) {
    public long elementCount() {
        long n = 1;
        for (long d : ne) n = Math.multiplyExact(n, d);
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GGUFTensorInfo t && t.name.equals(name) && Arrays.equals(t.ne, ne) && t.type == type
                && t.offset == offset && t.byteSize == byteSize;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, Arrays.hashCode(ne), type, offset, byteSize);
    }

    @Override
    public String toString() {
        return "GGUFTensorInfo[" + name + " " + type + " " + Arrays.toString(ne) + " offset " + offset + " bytes " + byteSize + "]";
    }
}
