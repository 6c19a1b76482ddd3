package jllm.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * An immutable view of a weight: its GGML element type, its shape and the raw block bytes.
 *
 * <p>Spec: GGML's {@code ggml_tensor} ({@code ne[]}, {@code type}, {@code data}) and the GGUF tensor-info
 * layout. The shape is in GGML order: {@code ne[0]} is the contiguous innermost dimension, the number of
 * columns of a matrix; the number of rows is the product of the other dimensions. A row of a block-quantized
 * type is {@code cols / blockSize} whole blocks, so {@code ne[0]} must be a multiple of the block size.
 *
 * <p>The bytes are a {@link MemorySegment}: a memory-mapped file region in production, or a segment made by
 * {@link #ofFloats} / {@link #quantize} (native memory from {@link Arena#ofAuto()}) in tests and for small
 * weights. The tensor never copies them; {@link #row} and {@link #sliceRows} are views.
 */
public final class Tensor {
    /** GGML's {@code GGML_MAX_DIMS}. */
    public static final int MAX_DIMS = 4;

    private final String name;
    private final GGMLType type;
    private final long[] ne;            // (ne[0] = cols, ne[1], ne[2], ne[3])
    private final long numElements;
    private final MemorySegment data;   // numElements / blockSize * typeSize bytes
    private final byte[] heapBytes;     // the array behind data when it is a heap segment over a byte[], else null

    private Tensor(String name, GGMLType type, long[] ne, long numElements, MemorySegment data) {
        this.name = name;
        this.type = type;
        this.ne = ne;
        this.numElements = numElements;
        this.data = data;
        this.heapBytes = data.heapBase().orElse(null) instanceof byte[] b ? b : null;
    }

    /**
     * A view of {@code data} as a tensor of {@code type} with shape {@code ne} (GGML order, 1 to 4 dimensions).
     *
     * @throws IllegalArgumentException naming the bad value when a dimension is not positive, {@code ne[0]} is
     *     not a multiple of the type's block size, or {@code data.byteSize()} differs from the bytes the shape needs
     */
    public static Tensor of(String name, GGMLType type, MemorySegment data, long... ne) {
        if (name == null || type == null || data == null || ne == null) {
            throw new NullPointerException("name, type, data and ne must not be null");
        }
        if (ne.length < 1 || ne.length > MAX_DIMS) {
            throw new IllegalArgumentException(name + ": " + ne.length + " dimensions; a tensor has 1 to " + MAX_DIMS);
        }
        long n = 1;
        for (int i = 0; i < ne.length; i++) {
            if (ne[i] < 1) {
                throw new IllegalArgumentException(name + ": dimension ne[" + i + "] = " + ne[i] + " is not positive");
            }
            n = Math.multiplyExact(n, ne[i]);
        }
        if (ne[0] % type.blockSize != 0) {
            throw new IllegalArgumentException(name + ": row length ne[0] = " + ne[0] + " is not a multiple of "
                    + type + "'s block size " + type.blockSize);
        }
        long need = type.bytes(n);
        if (data.byteSize() != need) {
            throw new IllegalArgumentException(name + ": " + type + " " + Arrays.toString(ne) + " needs " + need
                    + " bytes but the data has " + data.byteSize());
        }
        return new Tensor(name, type, ne.clone(), n, data);
    }

    /** An F32 tensor holding a copy of {@code values} in native memory; {@code values.length} must equal the shape's size. */
    public static Tensor ofFloats(String name, float[] values, long... ne) {
        checkCount(name, values, ne);
        MemorySegment seg = Arena.ofAuto().allocate((long) values.length * Float.BYTES, 64);
        MemorySegment.copy(values, 0, seg, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, values.length);
        return of(name, GGMLType.F32, seg, ne);
    }

    /**
     * A tensor of {@code type} holding {@code values} quantized row by row with ggml's reference quantizers
     * ({@link Quantize}), in native memory (the {@link GGMLType#isInterleaved} types, whose kernels read Java arrays, on a heap array).
     */
    public static Tensor quantize(String name, GGMLType type, float[] values, long... ne) {
        checkCount(name, values, ne);
        if (ne.length > 0 && ne[0] % type.blockSize != 0) {
            throw new IllegalArgumentException(name + ": row length ne[0] = " + ne[0] + " is not a multiple of "
                    + type + "'s block size " + type.blockSize);
        }
        MemorySegment seg = type.isInterleaved() ? MemorySegment.ofArray(new byte[Math.toIntExact(type.bytes(values.length))])
                : Arena.ofAuto().allocate(type.bytes(values.length), 64);
        Quantize.quantize(type, values, 0, values.length, seg, 0);
        return of(name, type, seg, ne);
    }

    private static void checkCount(String name, float[] values, long[] ne) {
        long n = 1;
        for (long d : ne) n = Math.multiplyExact(n, d);
        if (ne.length == 0 || n != values.length) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(ne) + " holds " + n
                    + " elements but " + values.length + " values were given");
        }
    }

    public String name() {
        return name;
    }

    public GGMLType type() {
        return type;
    }

    /** A copy of the shape, GGML order. */
    public long[] ne() {
        return ne.clone();
    }

    /** Dimension {@code i} of the shape, GGML order; 1 past the last dimension (as GGML pads with 1). */
    public long ne(int i) {
        if (i < 0 || i >= MAX_DIMS) throw new IndexOutOfBoundsException("dimension " + i + " of " + name);
        return i < ne.length ? ne[i] : 1;
    }

    public int nDims() {
        return ne.length;
    }

    public long numElements() {
        return numElements;
    }

    /** Number of columns, {@code ne[0]}: the length of one contiguous row. */
    public int cols() {
        return Math.toIntExact(ne[0]);
    }

    /** Number of rows: the product of {@code ne[1..]}. */
    public int rows() {
        return Math.toIntExact(numElements / ne[0]);
    }

    /**
     * Bytes this tensor takes in a model file: {@link #data()}'s size, except for a matrix repacked at load time into an
     * in-memory type, which counts as the {@link GGMLType#fileType} it was read as.
     */
    public long fileBytes() {
        return type.fileType().bytes(numElements);
    }

    /** Bytes of one row: {@code cols / blockSize * typeSize}. */
    public long rowBytes() {
        return type.bytes(ne[0]);
    }

    /** Byte offset of row {@code r} in {@link #data()}. */
    public long rowOffset(int r) {
        if (r < 0 || r >= rows()) {
            throw new IndexOutOfBoundsException(name + ": row " + r + " is outside [0, " + rows() + ")");
        }
        return r * rowBytes();
    }

    /**
     * The byte array holding {@link #data} when it is a heap segment over one (as {@link GGMLType#isInterleaved} tensors are),
     * else null; the data starts at {@link #heapOffset} in it. Kernels read such arrays directly, without a per-call
     * lookup that would allocate.
     */
    public byte[] heapBytes() {
        return heapBytes;
    }

    /** Where {@link #data} starts in {@link #heapBytes} (a heap segment's address is its array offset). */
    public int heapOffset() {
        return heapBytes == null ? 0 : Math.toIntExact(data.address());
    }

    /** The raw block bytes (a view, not a copy). */
    public MemorySegment data() {
        return data;
    }

    /** Row {@code r} as a 1-D tensor (a view). */
    public Tensor row(int r) {
        return new Tensor(name + "[" + r + "]", type, new long[] {ne[0]}, ne[0],
                data.asSlice(rowOffset(r), rowBytes()));
    }

    /** Rows {@code [from, from + count)} as a 2-D tensor of shape {@code (cols, count)} (a view). */
    public Tensor sliceRows(int from, int count) {
        if (from < 0 || count < 1 || (long) from + count > rows()) {
            throw new IndexOutOfBoundsException(name + ": rows [" + from + ", " + ((long) from + count)
                    + ") are outside [0, " + rows() + ")");
        }
        return new Tensor(name + "[" + from + ":" + (from + count) + "]", type, new long[] {ne[0], count},
                ne[0] * count, data.asSlice(from * rowBytes(), count * rowBytes()));
    }

    /** All elements dequantized to a new float array (row-major, GGML order). */
    public float[] toFloatArray() {
        float[] out = new float[Math.toIntExact(numElements)];
        DequantizeScalar.dequantize(type, data, 0, out, 0, out.length);
        return out;
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(ne);
    }
}
