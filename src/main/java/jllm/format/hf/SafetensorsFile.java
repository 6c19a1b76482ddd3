package jllm.format.hf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An opened safetensors file (spec: huggingface/safetensors): metadata, the tensor table, and the data section
 * memory-mapped with the FFM API, so files larger than 2 GiB or than the heap work and tensor bytes are never
 * copied. The header is validated completely on open ({@link SafetensorsReader}). Close it to unmap.
 */
public final class SafetensorsFile implements SafetensorsStore {
    private final Path path;
    private final Arena arena;
    private final MemorySegment file;
    private final long headerLength;
    private final Map<String, String> metadata;
    private final boolean hasMetadataEntry;
    private final Map<String, SafetensorsTensorInfo> tensors;

    private SafetensorsFile(Path path, Arena arena, MemorySegment file, SafetensorsReader.Header h) {
        this.path = path;
        this.arena = arena;
        this.file = file;
        this.headerLength = h.headerLength();
        this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(h.metadata()));
        this.hasMetadataEntry = h.hasMetadataEntry();
        LinkedHashMap<String, SafetensorsTensorInfo> byName = new LinkedHashMap<>();
        for (SafetensorsTensorInfo t : h.tensors()) byName.put(t.name(), t);
        this.tensors = Collections.unmodifiableMap(byName);
    }

    /** Memory-maps and validates {@code path}; throws {@link SafetensorsFormatException} naming the bad field. */
    public static SafetensorsFile open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            String name = path.getFileName().toString();
            if (size < 8) {
                throw new SafetensorsFormatException(name + ": truncated file: " + size
                        + " bytes; a safetensors file starts with an 8-byte header length");
            }
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return new SafetensorsFile(path, arena, seg, SafetensorsReader.parse(name, seg));
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    @Override
    public Path path() { return path; }

    /** The header's length N as stored in the first 8 bytes (including any padding spaces). */
    public long headerLength() { return headerLength; }

    /** Byte offset of the data section in the file: 8 + N. */
    public long dataOffset() { return 8 + headerLength; }

    public long fileSize() { return file.byteSize(); }

    /** The {@code __metadata__} strings in file order (empty when the file has none). */
    public Map<String, String> metadata() { return metadata; }

    /** Whether the header has a {@code __metadata__} entry at all (it may be empty). */
    public boolean hasMetadataEntry() { return hasMetadataEntry; }

    /** Header entries by name, in data-section order. */
    @Override
    public Map<String, SafetensorsTensorInfo> tensors() { return tensors; }

    @Override
    public MemorySegment data(String name) {
        SafetensorsTensorInfo t = info(name);
        return file.asSlice(dataOffset() + t.begin(), t.byteSize()).asReadOnly();
    }

    @Override
    public void close() {
        arena.close();
    }
}
