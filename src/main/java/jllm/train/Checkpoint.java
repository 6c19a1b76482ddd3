package jllm.train;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import jllm.format.gguf.GGUFFile;
import jllm.format.gguf.GGUFLlamaMapping;
import jllm.format.gguf.GGUFTensorInfo;
import jllm.format.gguf.GGUFValue;
import jllm.format.gguf.GGUFWriter;
import jllm.tensor.GGMLType;
import jllm.tensor.Tensor;

/**
 * A training checkpoint: one GGUF file holding the model (config metadata and float32 master weights, as
 * {@link GGUFLlamaMapping#writer} lays them out, plus any tokenizer metadata), the optimizer state as tensors named
 * {@code opt.<state>} (e.g. {@code opt.m.blk.0.attn_q.weight}, one dimension), and the loop's position:
 * <pre>
 *   jllm.train.step           optimizer steps taken (u64)
 *   jllm.train.data_position  data rows consumed (u64)
 *   jllm.train.optimizer      "adamw" or "sgd"
 *   jllm.train.mixed_precision
 * </pre>
 * Written atomically ({@link GGUFWriter#write}: a temporary file in the same folder, forced to disk, renamed over
 * the old one, the folder forced), so a process killed while saving leaves the previous checkpoint intact; stale
 * temporary files of such a kill are removed by the next save.
 */
public final class Checkpoint {
    private Checkpoint() {}

    /** What a checkpoint restores. */
    public record State(Parameters params, Map<String, float[]> optimizer, long step, long dataPosition, String optimizerName) {}

    public static void save(Path file, Parameters params, Optimizer optimizer, String optimizerName, long dataPosition,
                            Map<String, GGUFValue> extraMetadata) throws IOException {
        removeStaleTemporaries(file);
        GGUFWriter w = GGUFLlamaMapping.writer(params.config(), name -> params.entry(name).value(), params.ropeFreqs(), "jllm checkpoint");
        if (extraMetadata != null) extraMetadata.forEach(w::put);
        w.put("jllm.train.step", GGUFValue.ofUInt64(optimizer.steps()));
        w.put("jllm.train.data_position", GGUFValue.ofUInt64(dataPosition));
        w.put("jllm.train.optimizer", GGUFValue.ofString(optimizerName));
        w.put("jllm.train.mixed_precision", GGUFValue.ofBool(params.mixedPrecision()));
        for (var e : optimizer.state().entrySet()) {
            w.tensor("opt." + e.getKey(), GGMLType.F32, new long[] {e.getValue().length}, MemorySegment.ofArray(e.getValue()));
        }
        w.write(file);
    }

    public static State load(Path file, boolean mixedPrecision) throws IOException {
        try (GGUFFile f = GGUFFile.open(file)) {
            if (!f.has("jllm.train.step")) throw new IllegalArgumentException(file + " is not a jllm training checkpoint (no jllm.train.step)");
            GGUFLlamaMapping.Loaded ld = GGUFLlamaMapping.load(f);
            Parameters p = Parameters.copyOf(ld.config(), ld.weights(), mixedPrecision);
            Map<String, float[]> opt = new LinkedHashMap<>();
            for (GGUFTensorInfo t : f.tensors().values()) {
                if (!t.name().startsWith("opt.")) continue;
                opt.put(t.name().substring(4), Tensor.of(t.name(), t.type(), f.tensorData(t), t.ne()).toFloatArray());
            }
            return new State(p, opt, f.getLong("jllm.train.step"), f.getLong("jllm.train.data_position"),
                    f.getString("jllm.train.optimizer"));
        }
    }

    /** Deletes ".NAME.*.tmp" files GGUFWriter leaves when a process is killed mid-write. */
    static void removeStaleTemporaries(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) return;
        String prefix = "." + file.getFileName() + ".";
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, p -> {
            String n = p.getFileName().toString();
            return n.startsWith(prefix) && n.endsWith(".tmp");
        })) {
            for (Path p : ds) Files.deleteIfExists(p);
        }
    }
}
