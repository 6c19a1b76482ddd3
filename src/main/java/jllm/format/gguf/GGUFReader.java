package jllm.format.gguf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jllm.tensor.GGMLType;

/**
 * Parses the GGUF header (spec: ggml docs/gguf.md, versions 2 and 3, little-endian) from a mapped segment.
 *
 * <pre>
 *   u32 magic "GGUF" | u32 version | u64 tensor_count | u64 metadata_kv_count
 *   metadata_kv[]:  string key | u32 value_type | value
 *   tensor_info[]:  string name | u32 n_dims | u64 ne[n_dims] | u32 ggml_type | u64 offset
 *   padding to general.alignment (default 32) | tensor data
 *   string = u64 length | utf-8 bytes (no terminator)
 * </pre>
 *
 * Every count and length is checked against the bytes that remain before anything is allocated, so a hostile
 * file gets a {@link GGUFFormatException} naming the field, never an OutOfMemoryError or a hang.
 */
final class GGUFReader {
    static final int MAGIC = 0x46554747; // "GGUF" read as little-endian u32
    static final int MIN_HEADER_BYTES = 24;
    static final int MAX_DIMS = 4;
    static final int MAX_ARRAY_NESTING = 8;
    static final long MAX_KEY_LENGTH = 65_535;

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final String fileName;
    private final MemorySegment seg;
    private final long size;
    private long pos;

    private GGUFReader(Path path, MemorySegment seg) {
        this.fileName = path.getFileName().toString();
        this.seg = seg;
        this.size = seg.byteSize();
    }

    static GGUFFile parse(Path path, Arena arena, MemorySegment seg) {
        return new GGUFReader(path, seg).parse(path, arena);
    }

    private GGUFFile parse(Path path, Arena arena) {
        require(MIN_HEADER_BYTES, "header");
        int magic = seg.get(U32, 0);
        if (magic != MAGIC) {
            throw error("bad magic 0x" + Integer.toHexString(Integer.reverseBytes(magic)) + " (expected 0x47475546 'GGUF')");
        }
        pos = 4;
        int version = u32("version");
        if (version != 2 && version != 3) {
            if (Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3) {
                throw error("big-endian GGUF files are not supported (version field reads " + Integer.toUnsignedString(version) + ")");
            }
            throw error("unsupported version " + Integer.toUnsignedString(version) + " (jllm reads GGUF versions 2 and 3)");
        }
        long tensorCount = u64("tensor_count");
        long kvCount = u64("metadata_kv_count");
        // Each metadata entry needs at least key length (8) + value type (4) + 1 byte; each tensor info at least
        // name length (8) + n_dims (4) + type (4) + offset (8).
        if (kvCount < 0 || kvCount > (size - pos) / 13) {
            throw error("metadata_kv_count " + Long.toUnsignedString(kvCount) + " is impossible for a file of " + size + " bytes");
        }
        if (tensorCount < 0 || tensorCount > (size - pos) / 24) {
            throw error("tensor_count " + Long.toUnsignedString(tensorCount) + " is impossible for a file of " + size + " bytes");
        }

        Map<String, GGUFValue> metadata = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = string("metadata key #" + i, MAX_KEY_LENGTH);
            GGUFValueType type = GGUFValueType.fromId(u32("type of metadata '" + key + "'"), fileName + ": metadata '" + key + "'");
            GGUFValue value = value(type, "metadata '" + key + "'", 0);
            if (metadata.put(key, value) != null) throw error("duplicate metadata key '" + key + "'");
        }

        int alignment = GGUFFile.DEFAULT_ALIGNMENT;
        GGUFValue a = metadata.get("general.alignment");
        if (a != null) {
            long al;
            try {
                al = a.asLong();
            } catch (IllegalStateException e) {
                throw error("general.alignment has type " + a.type() + ", expected an integer");
            }
            if (a.type() == GGUFValueType.BOOL) throw error("general.alignment has type BOOL, expected an integer");
            if (al <= 0 || al > (1 << 30) || Long.bitCount(al) != 1) {
                throw error("general.alignment " + Long.toUnsignedString(al) + " is not a power of two in 1.." + (1 << 30));
            }
            alignment = (int) al;
        }

        List<GGUFTensorInfo> infos = new ArrayList<>((int) Math.min(tensorCount, 1 << 16));
        java.util.HashSet<String> names = new java.util.HashSet<>();
        for (long i = 0; i < tensorCount; i++) {
            String name = string("name of tensor #" + i, MAX_KEY_LENGTH);
            String field = "tensor '" + name + "'";
            int nDims = u32(field + " n_dims");
            if (nDims < 1 || nDims > MAX_DIMS) throw error(field + ": n_dims " + Integer.toUnsignedString(nDims) + " is not in 1.." + MAX_DIMS);
            long[] ne = new long[nDims];
            long n = 1;
            for (int d = 0; d < nDims; d++) {
                ne[d] = u64(field + " ne[" + d + "]");
                if (ne[d] <= 0) throw error(field + ": dimension ne[" + d + "] = " + Long.toUnsignedString(ne[d]) + " is not positive");
                if (n > Long.MAX_VALUE / ne[d]) throw error(field + ": element count overflows (ne = " + Arrays.toString(ne) + ")");
                n *= ne[d];
            }
            int typeId = u32(field + " type");
            GGMLType type;
            try {
                type = GGMLType.fromId(typeId);
            } catch (IllegalArgumentException e) {
                throw error(field + ": " + e.getMessage());
            }
            if (ne[0] % type.blockSize != 0) {
                throw error(field + ": row length ne[0] = " + ne[0] + " is not a multiple of " + type + "'s block size " + type.blockSize);
            }
            long bytes;
            try {
                bytes = type.bytes(n);
            } catch (ArithmeticException e) {
                throw error(field + ": byte size of " + n + " " + type + " elements overflows (ne = " + Arrays.toString(ne) + ")");
            }
            long offset = u64(field + " offset");
            if (offset < 0 || offset > size) {
                throw error(field + ": offset " + Long.toUnsignedString(offset) + " lies past the end of the file (" + size + " bytes)");
            }
            if (offset % alignment != 0) {
                throw error(field + ": offset " + Long.toUnsignedString(offset) + " is not a multiple of the alignment " + alignment);
            }
            if (!names.add(name)) throw error("duplicate tensor name '" + name + "'");
            infos.add(new GGUFTensorInfo(name, ne, type, offset, bytes));
        }

        long headerSize = pos;
        long dataOffset = alignUp(pos, alignment);
        if (tensorCount > 0 && dataOffset > size) {
            throw error("tensor data section would start at " + dataOffset + ", past the end of the file (" + size + " bytes)");
        }
        long dataSize = size - Math.min(dataOffset, size);
        for (GGUFTensorInfo t : infos) {
            if (t.offset() > dataSize || t.byteSize() > dataSize - t.offset()) {
                throw error("tensor '" + t.name() + "': " + t.byteSize() + " bytes at offset " + t.offset()
                        + " run past the end of the data section (" + dataSize + " bytes; file truncated?)");
            }
        }
        GGUFTensorInfo[] byOffset = infos.toArray(GGUFTensorInfo[]::new);
        Arrays.sort(byOffset, (x, y) -> Long.compare(x.offset(), y.offset()));
        for (int i = 1; i < byOffset.length; i++) {
            GGUFTensorInfo prev = byOffset[i - 1];
            if (prev.offset() + prev.byteSize() > byOffset[i].offset()) {
                throw error("tensors '" + prev.name() + "' and '" + byOffset[i].name() + "' overlap at offset " + byOffset[i].offset());
            }
        }
        return new GGUFFile(path, arena, seg, version, metadata, infos, alignment, headerSize, dataOffset);
    }

    static long alignUp(long x, long alignment) {
        return (x + alignment - 1) / alignment * alignment;
    }

    private GGUFValue value(GGUFValueType type, String field, int depth) {
        return switch (type) {
            case UINT8, INT8 -> new GGUFValue(type, u8(field));
            case UINT16, INT16 -> { require(2, field); short v = seg.get(U16, pos); pos += 2; yield new GGUFValue(type, v); }
            case UINT32, INT32 -> new GGUFValue(type, u32(field));
            case UINT64, INT64 -> new GGUFValue(type, u64(field));
            case FLOAT32 -> { require(4, field); float v = seg.get(F32, pos); pos += 4; yield new GGUFValue(type, v); }
            case FLOAT64 -> { require(8, field); double v = seg.get(F64, pos); pos += 8; yield new GGUFValue(type, v); }
            case BOOL -> {
                byte b = u8(field);
                if (b != 0 && b != 1) throw error(field + ": bool value " + b + " is not 0 or 1");
                yield new GGUFValue(type, b == 1);
            }
            case STRING -> new GGUFValue(type, string(field, Long.MAX_VALUE));
            case ARRAY -> new GGUFValue(type, array(field, depth));
        };
    }

    private GGUFArray array(String field, int depth) {
        if (depth >= MAX_ARRAY_NESTING) throw error(field + ": arrays nested deeper than " + MAX_ARRAY_NESTING);
        GGUFValueType et = GGUFValueType.fromId(u32(field + " array type"), fileName + ": " + field + " array");
        long count = u64(field + " array length");
        if (count < 0 || count > (size - pos) / et.minEncodedSize() || count > Integer.MAX_VALUE - 8) {
            throw error(field + ": array length " + Long.toUnsignedString(count) + " of " + et
                    + " exceeds the " + (size - pos) + " bytes left in the file");
        }
        int n = (int) count;
        switch (et) {
            case UINT8, INT8 -> {
                byte[] v = new byte[n];
                MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, pos, v, 0, n);
                pos += n;
                return new GGUFArray(et, v);
            }
            case UINT16, INT16 -> {
                short[] v = new short[n];
                MemorySegment.copy(seg, U16, pos, v, 0, n);
                pos += 2L * n;
                return new GGUFArray(et, v);
            }
            case UINT32, INT32 -> {
                int[] v = new int[n];
                MemorySegment.copy(seg, U32, pos, v, 0, n);
                pos += 4L * n;
                return new GGUFArray(et, v);
            }
            case UINT64, INT64 -> {
                long[] v = new long[n];
                MemorySegment.copy(seg, U64, pos, v, 0, n);
                pos += 8L * n;
                return new GGUFArray(et, v);
            }
            case FLOAT32 -> {
                float[] v = new float[n];
                MemorySegment.copy(seg, F32, pos, v, 0, n);
                pos += 4L * n;
                return new GGUFArray(et, v);
            }
            case FLOAT64 -> {
                double[] v = new double[n];
                MemorySegment.copy(seg, F64, pos, v, 0, n);
                pos += 8L * n;
                return new GGUFArray(et, v);
            }
            case BOOL -> {
                boolean[] v = new boolean[n];
                for (int i = 0; i < n; i++) {
                    if (pos >= size) require(1, element(field, i));
                    byte b = seg.get(ValueLayout.JAVA_BYTE, pos++);
                    if (b != 0 && b != 1) throw error(field + "[" + i + "]: bool value " + b + " is not 0 or 1");
                    v[i] = b == 1;
                }
                return new GGUFArray(et, v);
            }
            case STRING -> {
                String[] v = new String[n];
                for (int i = 0; i < n; i++) v[i] = string(field, i, Long.MAX_VALUE);
                return new GGUFArray(et, v);
            }
            case ARRAY -> {
                GGUFArray[] v = new GGUFArray[n];
                for (int i = 0; i < n; i++) v[i] = array(field + "[" + i + "]", depth + 1);
                return new GGUFArray(et, v);
            }
        }
        throw new AssertionError(et);
    }

    private String string(String field, long maxLength) {
        return string(field, -1, maxLength);
    }

    /**
     * A string; {@code index >= 0} names element {@code field[index]}, a name built only for an error message
     * (a vocabulary holds 10^5 strings). Decoding is lenient (invalid UTF-8 becomes U+FFFD): GGUF strings are
     * UTF-8, but some vocabularies hold partial byte sequences, and refusing those files would help no one.
     */
    private String string(String field, int index, long maxLength) {
        if (pos + 8 > size) require(8, element(field, index) + " length");
        long len = seg.get(U64, pos);
        pos += 8;
        if (len < 0 || len > size - pos) {
            throw error(element(field, index) + ": string length " + Long.toUnsignedString(len) + " exceeds the "
                    + (size - pos) + " bytes left in the file");
        }
        if (len > maxLength || len > Integer.MAX_VALUE - 8) throw error(element(field, index) + ": string length " + len + " is too long");
        byte[] b = new byte[(int) len];
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, pos, b, 0, b.length);
        pos += len;
        return new String(b, StandardCharsets.UTF_8);
    }

    private static String element(String field, int index) {
        return index < 0 ? field : field + "[" + index + "]";
    }

    private byte u8(String field) {
        require(1, field);
        return seg.get(ValueLayout.JAVA_BYTE, pos++);
    }

    private int u32(String field) {
        require(4, field);
        int v = seg.get(U32, pos);
        pos += 4;
        return v;
    }

    private long u64(String field) {
        require(8, field);
        long v = seg.get(U64, pos);
        pos += 8;
        return v;
    }

    private void require(long n, String field) {
        if (pos + n > size) throw error("truncated file: " + field + " at offset " + pos + " needs " + n + " bytes, file has " + size);
    }

    private GGUFFormatException error(String msg) {
        return new GGUFFormatException(fileName + ": " + msg);
    }
}
