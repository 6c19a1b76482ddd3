package jllm.format.gguf;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jllm.format.AtomicFile;
import jllm.tensor.GGMLType;

/**
 * Writes GGUF files (spec: ggml docs/gguf.md, versions 3 and 2, little-endian).
 *
 * <pre>
 *   u32 magic "GGUF" | u32 version | u64 tensor_count | u64 metadata_kv_count
 *   metadata_kv[] in insertion order:  string key | u32 value_type | value
 *   tensor_info[] in insertion order:  string name | u32 n_dims | u64 ne[n_dims] | u32 ggml_type | u64 offset
 *   zero padding to the alignment (general.alignment, else 32)
 *   tensor data: each tensor at its offset, followed by zero padding to the alignment
 * </pre>
 *
 * Offsets are packed as ggml and gguf-py pack them: {@code offset[i+1] = offset[i] + alignUp(bytes[i])}.
 * The padding after the last tensor (or, with no tensors, after the header) is written unless
 * {@link #padEnd(boolean) padEnd(false)}: writers differ there (ggml always pads; gguf-py's vocab-only files
 * end at the header), and {@link #copyOf(GGUFFile)} keeps what the source did so a copy is byte-identical.
 *
 * <p>Tensor data is streamed: a tensor is a {@link MemorySegment} (e.g. a view into a mapped file) or a
 * {@link TensorSource} that writes its bytes when asked, so a model larger than the heap can be written. Its
 * size is known up front from its type and shape, and the writer checks that the source wrote exactly that.
 *
 * <p>{@link #write(Path)} is atomic: the file is written under a temporary name in the target's folder, forced
 * to disk, then renamed over the target, so a crash leaves either the old file or the complete new one.
 *
 * <p>Everything the reader would reject is rejected here when it is added (duplicate tensor names, bad
 * shapes, a segment of the wrong size, an alignment that is not a power of two, strings that are not valid
 * Unicode), with an {@link IllegalArgumentException} naming the value.
 */
public final class GGUFWriter {

    /** Writes a tensor's bytes (exactly its byte size, little-endian, in GGML's block layout) to {@code out}. */
    @FunctionalInterface
    public interface TensorSource {
        void writeTo(WritableByteChannel out) throws IOException;
    }

    /** A tensor to be written: its info (offset relative to the data section) and where its bytes come from. */
    private record Entry(GGUFTensorInfo info, MemorySegment segment, TensorSource source) {}

    private static final int BUFFER_BYTES = 1 << 20;

    private int version = 3;
    private boolean padEnd = true;
    private final LinkedHashMap<String, GGUFValue> metadata = new LinkedHashMap<>();
    private final LinkedHashMap<String, Entry> tensors = new LinkedHashMap<>();

    /** An empty GGUF v3 writer. */
    public GGUFWriter() {}

    /**
     * A writer holding {@code src}'s version, metadata (in order), tensors (in order, as views of its mapped
     * data) and end padding; writing it unchanged reproduces the file byte for byte when the source's tensors
     * are packed in order (as ggml, gguf-py and jllm write them). Change it with {@link #put}, {@link #remove},
     * {@link #tensor}, {@link #replaceTensor} and {@link #removeTensor}. {@code src} must stay open until the copy is written.
     */
    public static GGUFWriter copyOf(GGUFFile src) {
        GGUFWriter w = new GGUFWriter().version(src.version());
        w.putAll(src.metadata());
        long contentEnd = src.headerSize();
        for (GGUFTensorInfo t : src.tensors().values()) {
            w.tensor(t.name(), t.type(), t.ne(), src.tensorData(t));
            contentEnd = Math.max(contentEnd, src.dataOffset() + t.offset() + t.byteSize());
        }
        // A file that ends exactly where its content ends was written without end padding.
        return w.padEnd(src.fileSize() != contentEnd);
    }

    /** GGUF version to write: 3 (default) or 2 (the same layout; v2 readers do not know of big-endian files). */
    public GGUFWriter version(int version) {
        if (version != 2 && version != 3) throw new IllegalArgumentException("GGUF version " + version + " is not 2 or 3");
        this.version = version;
        return this;
    }

    /** Whether the file is padded to the alignment after its last tensor (or, with none, after the header). */
    public GGUFWriter padEnd(boolean padEnd) {
        this.padEnd = padEnd;
        return this;
    }

    public int version() { return version; }

    public boolean padEnd() { return padEnd; }

    /** Sets {@code key}: a new key goes last, an existing key keeps its position and gets the new value. */
    public GGUFWriter put(String key, GGUFValue value) {
        if (key == null || value == null) throw new IllegalArgumentException("metadata key and value must not be null");
        checkName("metadata key", key);
        checkValue("metadata '" + key + "'", value.type(), value.value(), 0);
        if (key.equals("general.alignment")) alignmentOf(value);
        metadata.put(key, value);
        return this;
    }

    /** {@link #put} for every entry, in the map's iteration order. */
    public GGUFWriter putAll(Map<String, GGUFValue> values) {
        for (Map.Entry<String, GGUFValue> e : values.entrySet()) put(e.getKey(), e.getValue());
        return this;
    }

    /** Removes {@code key} if present. */
    public GGUFWriter remove(String key) {
        metadata.remove(key);
        return this;
    }

    /** The metadata to be written, in order (unmodifiable view). */
    public Map<String, GGUFValue> metadata() {
        return Collections.unmodifiableMap(metadata);
    }

    /**
     * Adds a tensor (last) whose bytes are {@code data}, read when the file is written: it must stay valid until
     * then. Its bytes are copied as they are, so they must already be little-endian GGML blocks.
     */
    public GGUFWriter tensor(String name, GGMLType type, long[] ne, MemorySegment data) {
        return add(name, type, ne, data, null, false);
    }

    /** Adds a tensor (last) whose bytes {@code source} writes when the file is written. */
    public GGUFWriter tensor(String name, GGMLType type, long[] ne, TensorSource source) {
        return add(name, type, ne, null, source, false);
    }

    /** Replaces the existing tensor {@code name} (type, shape and bytes), keeping its position. */
    public GGUFWriter replaceTensor(String name, GGMLType type, long[] ne, MemorySegment data) {
        return add(name, type, ne, data, null, true);
    }

    /** Replaces the existing tensor {@code name} (type, shape and bytes), keeping its position. */
    public GGUFWriter replaceTensor(String name, GGMLType type, long[] ne, TensorSource source) {
        return add(name, type, ne, null, source, true);
    }

    private GGUFWriter add(String name, GGMLType type, long[] ne, MemorySegment data, TensorSource source, boolean replace) {
        if (name == null || type == null || ne == null) throw new IllegalArgumentException("tensor name, type and shape must not be null");
        if (!type.isFileType()) {
            throw new IllegalArgumentException("tensor '" + name + "' is " + type + ", jllm's in-memory layout, which GGUF files cannot hold");
        }
        if (replace && !tensors.containsKey(name)) throw new IllegalArgumentException("no tensor '" + name + "' to replace");
        if (!replace && tensors.containsKey(name)) throw new IllegalArgumentException("duplicate tensor name '" + name + "'");
        GGUFTensorInfo info = info(name, type, ne);
        if (source == null && (data == null || data.byteSize() != info.byteSize())) {
            throw new IllegalArgumentException("tensor '" + name + "': data has " + (data == null ? "no" : data.byteSize())
                    + " bytes, " + type + " " + Arrays.toString(ne) + " needs " + info.byteSize());
        }
        tensors.put(name, new Entry(info, data, source));
        return this;
    }

    /** Removes the tensor {@code name} if present. */
    public GGUFWriter removeTensor(String name) {
        tensors.remove(name);
        return this;
    }

    /** The tensor infos to be written, in order, with the offsets they will get. */
    public List<GGUFTensorInfo> tensorInfos() {
        List<GGUFTensorInfo> out = new ArrayList<>(tensors.size());
        long offset = 0;
        int alignment = alignment();
        for (Entry e : tensors.values()) {
            GGUFTensorInfo t = e.info();
            out.add(new GGUFTensorInfo(t.name(), t.ne().clone(), t.type(), offset, t.byteSize()));
            offset = Math.addExact(offset, GGUFReader.alignUp(t.byteSize(), alignment));
        }
        return out;
    }

    /** The alignment the file will use: general.alignment if set, else 32. */
    public int alignment() {
        GGUFValue a = metadata.get("general.alignment");
        return a == null ? GGUFFile.DEFAULT_ALIGNMENT : alignmentOf(a);
    }

    /**
     * Writes the file atomically: to a temporary file in {@code path}'s folder, forced to disk, then moved over
     * {@code path}. On any failure the temporary file is deleted and {@code path} is left as it was.
     */
    public void write(Path path) throws IOException {
        AtomicFile.write(path, this::writeTo);
    }

    /** Streams the whole file to {@code out} (not atomic; {@link #write(Path)} is). */
    public void writeTo(WritableByteChannel out) throws IOException {
        int alignment = alignment();
        List<GGUFTensorInfo> infos = tensorInfos();
        Out o = new Out(out);
        o.u32(GGUFReader.MAGIC);
        o.u32(version);
        o.u64(infos.size());
        o.u64(metadata.size());
        for (Map.Entry<String, GGUFValue> kv : metadata.entrySet()) {
            o.string(utf8(kv.getKey()));
            o.u32(kv.getValue().type().id);
            writeValue(o, kv.getValue().type(), kv.getValue().value());
        }
        for (GGUFTensorInfo t : infos) {
            o.string(utf8(t.name()));
            o.u32(t.ne().length);
            for (long d : t.ne()) o.u64(d);
            o.u32(t.type().id);
            o.u64(t.offset());
        }
        if (!infos.isEmpty() || padEnd) o.zeros(GGUFReader.alignUp(o.position, alignment) - o.position);
        long dataOffset = o.position;
        int i = 0;
        for (Entry e : tensors.values()) {
            GGUFTensorInfo t = infos.get(i++);
            if (o.position - dataOffset != t.offset()) throw new AssertionError("tensor '" + t.name() + "' misplaced");
            if (e.segment() != null) o.segment(e.segment());
            else o.stream(t, e.source());
            if (i < infos.size() || padEnd) o.zeros(GGUFReader.alignUp(o.position, alignment) - o.position);
        }
        o.flush();
    }

    // ---- validation ----

    private GGUFTensorInfo info(String name, GGMLType type, long[] ne) {
        checkName("tensor name", name);
        String field = "tensor '" + name + "'";
        if (ne.length < 1 || ne.length > GGUFReader.MAX_DIMS) {
            throw new IllegalArgumentException(field + ": n_dims " + ne.length + " is not in 1.." + GGUFReader.MAX_DIMS);
        }
        long n = 1;
        for (int d = 0; d < ne.length; d++) {
            if (ne[d] <= 0) throw new IllegalArgumentException(field + ": dimension ne[" + d + "] = " + ne[d] + " is not positive");
            if (n > Long.MAX_VALUE / ne[d]) throw new IllegalArgumentException(field + ": element count of " + Arrays.toString(ne) + " overflows");
            n *= ne[d];
        }
        if (ne[0] % type.blockSize != 0) {
            throw new IllegalArgumentException(field + ": row length ne[0] = " + ne[0] + " is not a multiple of " + type
                    + "'s block size " + type.blockSize);
        }
        long bytes;
        try {
            bytes = type.bytes(n);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(field + ": byte size of " + n + " " + type + " elements overflows");
        }
        return new GGUFTensorInfo(name, ne.clone(), type, 0, bytes);
    }

    private static void checkName(String what, String name) {
        byte[] b = utf8(name);
        if (b.length > GGUFReader.MAX_KEY_LENGTH) {
            throw new IllegalArgumentException(what + " of " + b.length + " UTF-8 bytes is longer than " + GGUFReader.MAX_KEY_LENGTH);
        }
    }

    private static void checkValue(String field, GGUFValueType type, Object value, int depth) {
        switch (type) {
            case STRING -> utf8(field, (String) value);
            case ARRAY -> {
                if (depth >= GGUFReader.MAX_ARRAY_NESTING) {
                    throw new IllegalArgumentException(field + ": arrays nested deeper than " + GGUFReader.MAX_ARRAY_NESTING);
                }
                GGUFArray a = (GGUFArray) value;
                if (a.elementType() == GGUFValueType.STRING) {
                    String[] s = (String[]) a.values();
                    for (int i = 0; i < s.length; i++) {
                        if (s[i] == null) throw new IllegalArgumentException(field + "[" + i + "] is null");
                        utf8(field, s[i]);
                    }
                } else if (a.elementType() == GGUFValueType.ARRAY) {
                    GGUFArray[] v = (GGUFArray[]) a.values();
                    for (int i = 0; i < v.length; i++) {
                        if (v[i] == null) throw new IllegalArgumentException(field + "[" + i + "] is null");
                        checkValue(field + "[" + i + "]", GGUFValueType.ARRAY, v[i], depth + 1);
                    }
                }
            }
            default -> { }
        }
    }

    private static int alignmentOf(GGUFValue a) {
        if (a.type() == GGUFValueType.BOOL || a.type() == GGUFValueType.FLOAT32 || a.type() == GGUFValueType.FLOAT64
                || a.type() == GGUFValueType.STRING || a.type() == GGUFValueType.ARRAY) {
            throw new IllegalArgumentException("general.alignment has type " + a.type() + ", expected an integer");
        }
        long al = a.asLong();
        if (al <= 0 || al > (1 << 30) || Long.bitCount(al) != 1) {
            throw new IllegalArgumentException("general.alignment " + Long.toUnsignedString(al) + " is not a power of two in 1.." + (1 << 30));
        }
        return (int) al;
    }

    private static byte[] utf8(String s) {
        return utf8("string", s);
    }

    /** Strict UTF-8: a string with an unpaired surrogate would not read back equal, so it is refused. */
    private static byte[] utf8(String field, String s) {
        try {
            ByteBuffer b = StandardCharsets.UTF_8.newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .encode(CharBuffer.wrap(s));
            byte[] out = new byte[b.remaining()];
            b.get(out);
            return out;
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(field + ": string is not valid Unicode (unpaired surrogate)");
        }
    }

    // ---- encoding ----

    private static void writeValue(Out o, GGUFValueType type, Object v) throws IOException {
        switch (type) {
            case UINT8, INT8 -> o.u8((Byte) v);
            case UINT16, INT16 -> o.u16((Short) v);
            case UINT32, INT32 -> o.u32((Integer) v);
            case UINT64, INT64 -> o.u64((Long) v);
            case FLOAT32 -> o.u32(Float.floatToRawIntBits((Float) v));
            case FLOAT64 -> o.u64(Double.doubleToRawLongBits((Double) v));
            case BOOL -> o.u8((Boolean) v ? 1 : 0);
            case STRING -> o.string(utf8((String) v));
            case ARRAY -> writeArray(o, (GGUFArray) v);
        }
    }

    private static void writeArray(Out o, GGUFArray a) throws IOException {
        o.u32(a.elementType().id);
        o.u64(a.length());
        switch (a.elementType()) {
            case UINT8, INT8 -> o.bytes((byte[]) a.values());
            case UINT16, INT16 -> { for (short x : (short[]) a.values()) o.u16(x); }
            case UINT32, INT32 -> { for (int x : (int[]) a.values()) o.u32(x); }
            case UINT64, INT64 -> { for (long x : (long[]) a.values()) o.u64(x); }
            case FLOAT32 -> { for (float x : (float[]) a.values()) o.u32(Float.floatToRawIntBits(x)); }
            case FLOAT64 -> { for (double x : (double[]) a.values()) o.u64(Double.doubleToRawLongBits(x)); }
            case BOOL -> { for (boolean x : (boolean[]) a.values()) o.u8(x ? 1 : 0); }
            case STRING -> { for (String x : (String[]) a.values()) o.string(utf8(x)); }
            case ARRAY -> { for (GGUFArray x : (GGUFArray[]) a.values()) writeArray(o, x); }
        }
    }


    /** A little-endian buffered output that counts the bytes it has written. */
    private static final class Out {
        private final WritableByteChannel ch;
        private final ByteBuffer buf = ByteBuffer.allocateDirect(BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        private final MemorySegment bufSeg = MemorySegment.ofBuffer(buf);
        long position;

        Out(WritableByteChannel ch) {
            this.ch = ch;
        }

        private void room(int n) throws IOException {
            if (buf.remaining() < n) flush();
        }

        void u8(int v) throws IOException { room(1); buf.put((byte) v); position += 1; }
        void u16(short v) throws IOException { room(2); buf.putShort(v); position += 2; }
        void u32(int v) throws IOException { room(4); buf.putInt(v); position += 4; }
        void u64(long v) throws IOException { room(8); buf.putLong(v); position += 8; }

        void string(byte[] b) throws IOException {
            u64(b.length);
            bytes(b);
        }

        void bytes(byte[] b) throws IOException {
            for (int off = 0; off < b.length; ) {
                if (!buf.hasRemaining()) flush();
                int n = Math.min(buf.remaining(), b.length - off);
                buf.put(b, off, n);
                off += n;
                position += n;
            }
        }

        void zeros(long n) throws IOException {
            while (n > 0) {
                if (!buf.hasRemaining()) flush();
                int k = (int) Math.min(buf.remaining(), n);
                bufSeg.asSlice(buf.position(), k).fill((byte) 0);
                buf.position(buf.position() + k);
                position += k;
                n -= k;
            }
        }

        void segment(MemorySegment s) throws IOException {
            long size = s.byteSize();
            for (long off = 0; off < size; ) {
                if (!buf.hasRemaining()) flush();
                int n = (int) Math.min(buf.remaining(), size - off);
                MemorySegment.copy(s, off, bufSeg, buf.position(), n);
                buf.position(buf.position() + n);
                off += n;
                position += n;
            }
        }

        /** Lets {@code source} write straight to the channel, refusing any byte beyond the tensor's size. */
        void stream(GGUFTensorInfo t, TensorSource source) throws IOException {
            flush();
            long expected = t.byteSize();
            long[] count = {0};
            WritableByteChannel counted = new WritableByteChannel() {
                private boolean open = true;

                @Override
                public int write(ByteBuffer src) throws IOException {
                    if (!open) throw new ClosedChannelException();
                    if (src.remaining() > expected - count[0]) {
                        throw new IllegalStateException("tensor '" + t.name() + "': source wrote more than its "
                                + expected + " bytes (" + (count[0] + src.remaining()) + " so far)");
                    }
                    int n = 0;
                    while (src.hasRemaining()) n += ch.write(src);
                    count[0] += n;
                    return n;
                }

                @Override
                public boolean isOpen() { return open; }

                @Override
                public void close() { open = false; }
            };
            source.writeTo(counted);
            if (count[0] != expected) {
                throw new IllegalStateException("tensor '" + t.name() + "': source wrote " + count[0] + " bytes, expected " + expected);
            }
            position += expected;
        }

        void flush() throws IOException {
            buf.flip();
            while (buf.hasRemaining()) ch.write(buf);
            buf.clear();
        }
    }
}
