package jllm.format.hf;

import jllm.format.AtomicFile;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.node.ObjectNode;

import jllm.tensor.Tensor;

/**
 * Builds a safetensors file (spec: huggingface/safetensors) from metadata strings and tensors, and writes it
 * atomically ({@link #write}: temporary file, fsync, rename). Tensor bytes are streamed from their segments
 * (views over mapped files stay views until written), so a model larger than the heap can be saved.
 *
 * <p>The header is written as the reference writer ({@code prepare} in safetensors/src/tensor.rs) writes it:
 * compact JSON from serde_json, {@code __metadata__} first, then the tensors in data order with fields
 * {@code dtype, shape, data_offsets}, padded with spaces to a multiple of 8 bytes so the data section is 8-byte
 * aligned. Tensors are laid out in the order they were added; {@link #sortLikeSafetensors()} reorders them as the
 * reference does (descending dtype, then name), which makes files written by Hugging Face's tools round-trip byte
 * for byte.
 */
public final class SafetensorsWriter {
    private record Entry(String name, SafetensorsDType dtype, long[] shape, MemorySegment data) {}

    private Map<String, String> metadata; // null: no __metadata__ entry
    private final List<Entry> tensors = new ArrayList<>();
    private final Set<String> names = new HashSet<>();

    /** Adds (or replaces) a {@code __metadata__} string. */
    public SafetensorsWriter metadata(String key, String value) {
        if (metadata == null) metadata = new LinkedHashMap<>();
        metadata.put(key, value);
        return this;
    }

    /** Replaces all metadata; null writes no {@code __metadata__} entry, an empty map writes {@code {}}. */
    public SafetensorsWriter metadata(Map<String, String> all) {
        metadata = all == null ? null : new LinkedHashMap<>(all);
        return this;
    }

    /**
     * Adds a tensor of {@code dtype} and row-major {@code shape} whose bytes are {@code data} (little-endian, as
     * safetensors stores them; not copied).
     *
     * @throws IllegalArgumentException naming the tensor when the name is taken or reserved, a dimension is
     *     negative, or {@code data} does not hold exactly the shape's bytes
     */
    public SafetensorsWriter tensor(String name, SafetensorsDType dtype, long[] shape, MemorySegment data) {
        if (name.equals("__metadata__")) throw new IllegalArgumentException("'__metadata__' is reserved and cannot name a tensor");
        if (!names.add(name)) throw new IllegalArgumentException("duplicate tensor name '" + name + "'");
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException(name + ": dimension " + d + " in shape " + Arrays.toString(shape) + " is negative");
            n = Math.multiplyExact(n, d);
        }
        long bytes = Math.multiplyExact(n, (long) dtype.size);
        if (data.byteSize() != bytes) {
            names.remove(name);
            throw new IllegalArgumentException(name + ": " + dtype + " " + Arrays.toString(shape) + " needs " + bytes
                    + " bytes but the data has " + data.byteSize());
        }
        tensors.add(new Entry(name, dtype, shape.clone(), data));
        return this;
    }

    /** Adds a jllm F32, F16 or BF16 tensor under {@code name}, its GGML shape reversed into row-major order (a view). */
    public SafetensorsWriter tensor(String name, Tensor t) {
        long[] ne = t.ne();
        long[] shape = new long[ne.length];
        for (int i = 0; i < ne.length; i++) shape[i] = ne[ne.length - 1 - i];
        return tensor(name, SafetensorsDType.of(t.type()), shape, t.data());
    }

    /** Adds an F32 tensor holding a copy of {@code values} with row-major {@code shape}. */
    public SafetensorsWriter floats(String name, float[] values, long... shape) {
        MemorySegment seg = Arena.ofAuto().allocate((long) values.length * Float.BYTES, 8);
        MemorySegment.copy(values, 0, seg, LittleEndian.F32, 0, values.length);
        return tensor(name, SafetensorsDType.F32, shape, seg);
    }

    /** A writer holding {@code f}'s metadata and tensors (views) in file order: writing it reproduces {@code f}'s layout. */
    public static SafetensorsWriter copyOf(SafetensorsFile f) {
        SafetensorsWriter w = new SafetensorsWriter();
        if (f.hasMetadataEntry()) w.metadata(f.metadata());
        for (SafetensorsTensorInfo t : f.tensors().values()) w.tensor(t.name(), t.dtype(), t.shape(), f.data(t.name()));
        return w;
    }

    /** Orders the tensors as the reference writer does: by dtype, largest alignment first, then by name (UTF-8 bytes). */
    public SafetensorsWriter sortLikeSafetensors() {
        tensors.sort(Comparator.comparing((Entry e) -> e.dtype).reversed()
                .thenComparing((a, b) -> Arrays.compareUnsigned(utf8(a.name), utf8(b.name))));
        return this;
    }

    /** The header entries the file will have, in data order. */
    public List<SafetensorsTensorInfo> tensorInfos() {
        List<SafetensorsTensorInfo> out = new ArrayList<>(tensors.size());
        long offset = 0;
        for (Entry e : tensors) {
            out.add(new SafetensorsTensorInfo(e.name, e.dtype, e.shape, offset, offset + e.data.byteSize()));
            offset += e.data.byteSize();
        }
        return Collections.unmodifiableList(out);
    }

    /** The 8-byte length and the padded JSON header. */
    public byte[] header() {
        StringBuilder json = new StringBuilder("{");
        boolean first = true;
        if (metadata != null) {
            json.append("\"__metadata__\":{");
            boolean firstKey = true;
            for (Map.Entry<String, String> m : metadata.entrySet()) {
                if (!firstKey) json.append(',');
                Json.appendSerdeString(json, m.getKey());
                json.append(':');
                Json.appendSerdeString(json, m.getValue());
                firstKey = false;
            }
            json.append('}');
            first = false;
        }
        for (SafetensorsTensorInfo t : tensorInfos()) {
            if (!first) json.append(',');
            Json.appendSerdeString(json, t.name());
            json.append(":{\"dtype\":\"").append(t.dtype().name()).append("\",\"shape\":[");
            long[] shape = t.shape();
            for (int i = 0; i < shape.length; i++) json.append(i > 0 ? "," : "").append(shape[i]);
            json.append("],\"data_offsets\":[").append(t.begin()).append(',').append(t.end()).append("]}");
            first = false;
        }
        json.append('}');
        byte[] body = json.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (body.length + 7) / 8 * 8;
        byte[] out = new byte[8 + padded];
        ByteBuffer.wrap(out).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(padded);
        System.arraycopy(body, 0, out, 8, body.length);
        Arrays.fill(out, 8 + body.length, out.length, (byte) ' ');
        return out;
    }

    /** Total bytes of the tensor data. */
    public long dataSize() {
        long n = 0;
        for (Entry e : tensors) n += e.data.byteSize();
        return n;
    }

    /** Writes the file atomically: a crash leaves either the old file or the complete new one. */
    public void write(Path path) throws IOException {
        byte[] header = header();
        AtomicFile.write(path, ch -> {
            AtomicFile.writeFully(ch, header);
            for (Entry e : tensors) writeSegment(ch, e.data);
        });
    }

    /** Streams the whole file to {@code out} (not atomic; {@link #write} is). */
    public void writeTo(WritableByteChannel out) throws IOException {
        AtomicFile.writeFully(out, header());
        for (Entry e : tensors) writeSegment(out, e.data);
    }

    /**
     * Writes the tensors as Hugging Face shards into {@code dir}: {@code prefix-00001-of-0000K.safetensors}, each
     * holding whole tensors up to {@code maxShardBytes} of data (a larger tensor gets a shard of its own), each with
     * this writer's metadata, then {@code prefix.safetensors.index.json} with {@code metadata.total_size} and the
     * {@code weight_map} from tensor name to shard file (keys sorted, as transformers writes it). The index is
     * written last, so it never names a shard that is not complete on disk.
     *
     * @return the shard files, in order
     */
    public List<Path> writeSharded(Path dir, String prefix, long maxShardBytes) throws IOException {
        if (maxShardBytes <= 0) throw new IllegalArgumentException("maxShardBytes " + maxShardBytes + " must be positive");
        List<List<Entry>> shards = new ArrayList<>();
        List<Entry> current = new ArrayList<>();
        long bytes = 0;
        for (Entry e : tensors) {
            if (!current.isEmpty() && bytes + e.data.byteSize() > maxShardBytes) {
                shards.add(current);
                current = new ArrayList<>();
                bytes = 0;
            }
            current.add(e);
            bytes += e.data.byteSize();
        }
        if (!current.isEmpty() || shards.isEmpty()) shards.add(current);
        List<Path> files = new ArrayList<>();
        TreeMap<String, String> weightMap = new TreeMap<>();
        for (int i = 0; i < shards.size(); i++) {
            String file = String.format("%s-%05d-of-%05d.safetensors", prefix, i + 1, shards.size());
            SafetensorsWriter w = new SafetensorsWriter().metadata(metadata);
            for (Entry e : shards.get(i)) {
                w.tensor(e.name, e.dtype, e.shape, e.data);
                weightMap.put(e.name, file);
            }
            w.write(dir.resolve(file));
            files.add(dir.resolve(file));
        }
        ObjectNode index = Json.MAPPER.createObjectNode();
        index.putObject("metadata").put("total_size", dataSize());
        ObjectNode map = index.putObject("weight_map");
        weightMap.forEach(map::put);
        Json.writePretty(dir.resolve(prefix + ".safetensors.index.json"), index);
        return files;
    }

    private static void writeSegment(WritableByteChannel ch, MemorySegment seg) throws IOException {
        final long chunk = 1L << 30;
        for (long off = 0; off < seg.byteSize(); off += chunk) {
            ByteBuffer b = seg.asSlice(off, Math.min(chunk, seg.byteSize() - off)).asByteBuffer();
            while (b.hasRemaining()) ch.write(b);
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
