package jllm.format.gguf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import jllm.tensor.GGMLType;

/**
 * An opened GGUF file: typed metadata, the tensor-info table and the tensor data, memory-mapped with the FFM API
 * (so files larger than 2 GiB and larger than the heap work; bytes are never copied onto the heap).
 * Spec: ggml docs/gguf.md (versions 2 and 3). Close it to unmap.
 */
public final class GGUFFile implements AutoCloseable {
    public static final int DEFAULT_ALIGNMENT = 32;

    private final Path path;
    private final Arena arena;
    private final int version;
    private final Map<String, GGUFValue> metadata;
    private final Map<String, GGUFTensorInfo> tensors;
    private final int alignment;
    private final MemorySegment file;
    private final long headerSize;
    private final long dataOffset;

    GGUFFile(Path path, Arena arena, MemorySegment file, int version, Map<String, GGUFValue> metadata,
             List<GGUFTensorInfo> tensors, int alignment, long headerSize, long dataOffset) {
        this.path = path;
        this.arena = arena;
        this.file = file;
        this.version = version;
        this.metadata = Collections.unmodifiableMap(metadata);
        LinkedHashMap<String, GGUFTensorInfo> byName = new LinkedHashMap<>();
        for (GGUFTensorInfo t : tensors) byName.put(t.name(), t);
        this.tensors = Collections.unmodifiableMap(byName);
        this.alignment = alignment;
        this.headerSize = headerSize;
        this.dataOffset = dataOffset;
    }

    /** Memory-maps and parses {@code path}; throws {@link GGUFFormatException} naming the bad field. */
    public static GGUFFile open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < GGUFReader.MIN_HEADER_BYTES) {
                throw new GGUFFormatException(path.getFileName() + ": truncated header: file has " + size
                        + " bytes, a GGUF header needs at least " + GGUFReader.MIN_HEADER_BYTES);
            }
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return GGUFReader.parse(path, arena, seg);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public Path path() { return path; }
    public int version() { return version; }
    public int alignment() { return alignment; }
    /** Bytes of the header (magic through the last tensor info), before the padding that aligns the data section. */
    public long headerSize() { return headerSize; }
    /** Byte offset of the tensor-data section in the file: {@code headerSize} rounded up to the alignment. */
    public long dataOffset() { return dataOffset; }
    public long fileSize() { return file.byteSize(); }
    /** Metadata in file order. */
    public Map<String, GGUFValue> metadata() { return metadata; }
    /** Tensor infos in file order, by name. */
    public Map<String, GGUFTensorInfo> tensors() { return tensors; }

    /** A read-only view of a tensor's bytes inside the mapped file. */
    public MemorySegment tensorData(GGUFTensorInfo info) {
        return file.asSlice(dataOffset + info.offset(), info.byteSize()).asReadOnly();
    }

    public MemorySegment tensorData(String name) {
        return tensorData(tensor(name));
    }

    public GGUFTensorInfo tensor(String name) {
        GGUFTensorInfo t = tensors.get(name);
        if (t == null) throw new GGUFFormatException(path.getFileName() + ": missing tensor '" + name + "'");
        return t;
    }

    public Optional<GGUFTensorInfo> findTensor(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    // ---- typed metadata access ----

    public boolean has(String key) { return metadata.containsKey(key); }

    public GGUFValue value(String key) {
        GGUFValue v = metadata.get(key);
        if (v == null) throw new GGUFFormatException(path.getFileName() + ": missing metadata key '" + key + "'");
        return v;
    }

    public String getString(String key) {
        GGUFValue v = value(key);
        if (v.type() != GGUFValueType.STRING) throw wrongType(key, v, "STRING");
        return (String) v.value();
    }

    public String getString(String key, String dflt) { return has(key) ? getString(key) : dflt; }

    public long getLong(String key) {
        GGUFValue v = value(key);
        try {
            return v.asLong();
        } catch (IllegalStateException e) {
            throw wrongType(key, v, "an integer");
        }
    }

    public long getLong(String key, long dflt) { return has(key) ? getLong(key) : dflt; }

    /** An integer value that must fit in an int (e.g. a dimension). */
    public int getInt(String key) {
        long v = getLong(key);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new GGUFFormatException(path.getFileName() + ": metadata '" + key + "' = " + v + " is out of range");
        }
        return (int) v;
    }

    public int getInt(String key, int dflt) { return has(key) ? getInt(key) : dflt; }

    public double getDouble(String key) {
        GGUFValue v = value(key);
        try {
            return v.asDouble();
        } catch (IllegalStateException e) {
            throw wrongType(key, v, "a number");
        }
    }

    public float getFloat(String key, float dflt) { return has(key) ? (float) getDouble(key) : dflt; }

    public boolean getBool(String key, boolean dflt) {
        if (!has(key)) return dflt;
        GGUFValue v = value(key);
        if (v.type() != GGUFValueType.BOOL) throw wrongType(key, v, "BOOL");
        return (Boolean) v.value();
    }

    public GGUFArray getArray(String key) {
        GGUFValue v = value(key);
        if (v.type() != GGUFValueType.ARRAY) throw wrongType(key, v, "ARRAY");
        return (GGUFArray) v.value();
    }

    public String[] getStringArray(String key) {
        GGUFArray a = getArray(key);
        if (a.elementType() != GGUFValueType.STRING) throw wrongArrayType(key, a, "STRING");
        return (String[]) a.values();
    }

    public float[] getFloatArray(String key) {
        GGUFArray a = getArray(key);
        if (a.elementType() != GGUFValueType.FLOAT32) throw wrongArrayType(key, a, "FLOAT32");
        return (float[]) a.values();
    }

    /** An INT32/UINT32 (or narrower integer) array as int[]. */
    public int[] getIntArray(String key) {
        GGUFArray a = getArray(key);
        return switch (a.elementType()) {
            case INT32, UINT32 -> (int[]) a.values();
            case INT8, UINT8 -> {
                byte[] b = (byte[]) a.values();
                int[] r = new int[b.length];
                boolean unsigned = a.elementType() == GGUFValueType.UINT8;
                for (int i = 0; i < b.length; i++) r[i] = unsigned ? Byte.toUnsignedInt(b[i]) : b[i];
                yield r;
            }
            case INT16, UINT16 -> {
                short[] s = (short[]) a.values();
                int[] r = new int[s.length];
                boolean unsigned = a.elementType() == GGUFValueType.UINT16;
                for (int i = 0; i < s.length; i++) r[i] = unsigned ? Short.toUnsignedInt(s[i]) : s[i];
                yield r;
            }
            default -> throw wrongArrayType(key, a, "an integer");
        };
    }

    private GGUFFormatException wrongType(String key, GGUFValue v, String expected) {
        return new GGUFFormatException(path.getFileName() + ": metadata '" + key + "' has type " + v.type() + ", expected " + expected);
    }

    private GGUFFormatException wrongArrayType(String key, GGUFArray a, String expected) {
        return new GGUFFormatException(path.getFileName() + ": metadata '" + key + "' is an array of " + a.elementType()
                + ", expected " + expected);
    }

    /** Bytes of tensor data per GGML type, for {@code jllm inspect}. */
    public Map<GGMLType, Long> bytesByType() {
        Map<GGMLType, Long> m = new LinkedHashMap<>();
        for (GGUFTensorInfo t : tensors.values()) m.merge(t.type(), t.byteSize(), Long::sum);
        return m;
    }

    @Override
    public void close() {
        arena.close();
    }
}
