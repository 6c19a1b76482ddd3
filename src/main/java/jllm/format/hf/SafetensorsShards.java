package jllm.format.hf;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A model split over several safetensors files, as Hugging Face's {@code save_pretrained} shards large models:
 * {@code model.safetensors.index.json} holds {@code {"metadata": {"total_size": N}, "weight_map": {tensor: file}}}
 * and the shards lie beside it. Each shard is opened and validated as a {@link SafetensorsFile}; then the index is
 * checked against them: every shard file name is a plain name in the same folder (no path separators, no "..",
 * so an index cannot point outside its folder), every tensor of the weight map is in the shard it names, and every
 * tensor of every shard is listed in the weight map for that shard (so no tensor is found twice or silently
 * dropped). {@code total_size} is reported, not checked: tools disagree on what it counts.
 */
public final class SafetensorsShards implements SafetensorsStore {
    private final Path index;
    private final List<SafetensorsFile> shards;
    private final Map<String, SafetensorsTensorInfo> tensors;
    private final Map<String, SafetensorsFile> shardOf;
    private final OptionalLong totalSize;

    private SafetensorsShards(Path index, List<SafetensorsFile> shards, Map<String, SafetensorsTensorInfo> tensors,
                              Map<String, SafetensorsFile> shardOf, OptionalLong totalSize) {
        this.index = index;
        this.shards = List.copyOf(shards);
        this.tensors = Collections.unmodifiableMap(tensors);
        this.shardOf = shardOf;
        this.totalSize = totalSize;
    }

    /** Reads {@code indexFile} and opens the shards it names; throws {@link HfFormatException} naming the bad entry. */
    public static SafetensorsShards open(Path indexFile) throws IOException {
        String fileName = indexFile.getFileName().toString();
        HfJson json = HfJson.read(indexFile);
        JsonNode weightMap = json.node().get("weight_map");
        if (weightMap == null || !weightMap.isObject()) {
            throw new HfFormatException(fileName + ": weight_map is " + (weightMap == null ? "missing" : SafetensorsReader.kind(weightMap))
                    + ", expected an object from tensor name to shard file");
        }
        OptionalLong totalSize = OptionalLong.empty();
        HfJson meta = json.objectOrNull("metadata");
        if (meta != null && meta.has("total_size")) totalSize = OptionalLong.of(meta.getLong("total_size"));

        LinkedHashMap<String, String> fileOf = new LinkedHashMap<>();
        List<String> files = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = weightMap.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            if (!v.isTextual()) {
                throw new HfFormatException(fileName + ": weight_map '" + e.getKey() + "' is " + SafetensorsReader.kind(v) + ", expected a file name");
            }
            String f = v.textValue();
            if (!isPlainFileName(f)) {
                throw new HfFormatException(fileName + ": weight_map '" + e.getKey() + "' names shard \"" + f
                        + "\", which is not a plain file name in the index's folder");
            }
            fileOf.put(e.getKey(), f);
            if (!files.contains(f)) files.add(f);
        }

        Path dir = indexFile.toAbsolutePath().getParent();
        List<SafetensorsFile> opened = new ArrayList<>();
        try {
            Map<String, SafetensorsFile> byFile = new HashMap<>();
            for (String f : files) {
                Path p = dir.resolve(f);
                if (!Files.isRegularFile(p)) throw new HfFormatException(fileName + ": shard " + f + " named in weight_map does not exist");
                SafetensorsFile sf = SafetensorsFile.open(p);
                opened.add(sf);
                byFile.put(f, sf);
            }
            LinkedHashMap<String, SafetensorsTensorInfo> tensors = new LinkedHashMap<>();
            Map<String, SafetensorsFile> shardOf = new HashMap<>();
            for (SafetensorsFile sf : opened) {
                String f = sf.path().getFileName().toString();
                for (SafetensorsTensorInfo t : sf.tensors().values()) {
                    String listed = fileOf.get(t.name());
                    if (listed == null) {
                        throw new HfFormatException(fileName + ": shard " + f + " holds tensor '" + t.name() + "', which weight_map does not list");
                    }
                    if (!listed.equals(f)) {
                        throw new HfFormatException(fileName + ": tensor '" + t.name() + "' is in shard " + f
                                + " but weight_map places it in " + listed);
                    }
                    tensors.put(t.name(), t);
                    shardOf.put(t.name(), sf);
                }
            }
            for (Map.Entry<String, String> e : fileOf.entrySet()) {
                if (!tensors.containsKey(e.getKey())) {
                    throw new HfFormatException(fileName + ": weight_map places tensor '" + e.getKey() + "' in " + e.getValue()
                            + ", which has no such tensor");
                }
            }
            return new SafetensorsShards(indexFile, opened, tensors, shardOf, totalSize);
        } catch (IOException | RuntimeException e) {
            for (SafetensorsFile sf : opened) sf.close();
            throw e;
        }
    }

    static boolean isPlainFileName(String f) {
        return !f.isEmpty() && !f.equals(".") && !f.equals("..") && f.indexOf('/') < 0 && f.indexOf('\\') < 0
                && f.indexOf('\0') < 0 && f.indexOf(':') < 0;
    }

    @Override
    public Path path() { return index; }

    /** The shard files, in the order the weight map first names them. */
    public List<SafetensorsFile> shards() { return shards; }

    /** {@code metadata.total_size} of the index, if given. */
    public OptionalLong totalSize() { return totalSize; }

    @Override
    public Map<String, SafetensorsTensorInfo> tensors() { return tensors; }

    @Override
    public MemorySegment data(String name) {
        info(name);
        return shardOf.get(name).data(name);
    }

    @Override
    public void close() {
        for (SafetensorsFile sf : shards) sf.close();
    }
}
