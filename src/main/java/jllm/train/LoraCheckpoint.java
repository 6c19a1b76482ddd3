package jllm.train;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jllm.format.gguf.GGUFFile;
import jllm.format.gguf.GGUFTensorInfo;
import jllm.format.gguf.GGUFValue;
import jllm.format.gguf.GGUFWriter;
import jllm.tensor.Tensor;

/**
 * The checkpoint of a LoRA training run: one GGUF file holding the adapter's arrays as tensors named
 * {@code lora.<name>} (e.g. {@code lora.blk.0.attn_q.lora_a}, one dimension), the optimizer state as
 * {@code opt.<state>}, and the loop's position under the keys {@link Checkpoint} uses ({@code jllm.train.step},
 * {@code jllm.train.data_position}, {@code jllm.train.optimizer}) plus {@code jllm.lora.rank}. No base weights: the
 * base is frozen and read again from the model. Written atomically ({@link GGUFWriter#write}), so a process killed
 * while saving leaves the previous checkpoint intact.
 */
public final class LoraCheckpoint {
    private LoraCheckpoint() {}

    /** What a checkpoint restores. */
    public record State(Map<String, float[]> values, Map<String, float[]> optimizer, long step, long dataPosition,
                        String optimizerName, int rank) {}

    public static void save(Path file, List<Parameters.Entry> entries, int rank, Optimizer optimizer, String optimizerName,
                            long dataPosition) throws IOException {
        Checkpoint.removeStaleTemporaries(file);
        GGUFWriter w = new GGUFWriter();
        w.put("general.type", GGUFValue.ofString("jllm-lora-checkpoint"));
        w.put("jllm.lora.rank", GGUFValue.ofUInt32(rank));
        w.put("jllm.train.step", GGUFValue.ofUInt64(optimizer.steps()));
        w.put("jllm.train.data_position", GGUFValue.ofUInt64(dataPosition));
        w.put("jllm.train.optimizer", GGUFValue.ofString(optimizerName));
        for (Parameters.Entry e : entries) {
            w.tensor("lora." + e.name(), jllm.tensor.GGMLType.F32, new long[] {e.value().length}, MemorySegment.ofArray(e.value()));
        }
        for (var e : optimizer.state().entrySet()) {
            w.tensor("opt." + e.getKey(), jllm.tensor.GGMLType.F32, new long[] {e.getValue().length}, MemorySegment.ofArray(e.getValue()));
        }
        w.write(file);
    }

    public static State load(Path file) throws IOException {
        try (GGUFFile f = GGUFFile.open(file)) {
            if (!f.has("jllm.lora.rank") || !f.has("jllm.train.step")) {
                throw new IllegalArgumentException(file + " is not a jllm LoRA training checkpoint (no jllm.lora.rank)");
            }
            Map<String, float[]> values = new LinkedHashMap<>(), opt = new LinkedHashMap<>();
            for (GGUFTensorInfo t : f.tensors().values()) {
                float[] v = Tensor.of(t.name(), t.type(), f.tensorData(t), t.ne()).toFloatArray();
                if (t.name().startsWith("lora.")) values.put(t.name().substring(5), v);
                else if (t.name().startsWith("opt.")) opt.put(t.name().substring(4), v);
            }
            return new State(values, opt, f.getLong("jllm.train.step"), f.getLong("jllm.train.data_position"),
                    f.getString("jllm.train.optimizer"), f.getInt("jllm.lora.rank"));
        }
    }

    /** Copies the checkpoint's values into the entries; every entry must be there with its size. */
    static void restore(State s, List<Parameters.Entry> entries) {
        for (Parameters.Entry e : entries) {
            float[] v = s.values().get(e.name());
            if (v == null || v.length != e.value().length) {
                throw new IllegalArgumentException("--resume: the checkpoint has " + (v == null ? "no " + e.name()
                        : e.name() + " of " + v.length + " values, not " + e.value().length)
                        + "; resume with the --rank and --targets of the first run");
            }
            System.arraycopy(v, 0, e.value(), 0, v.length);
        }
        if (s.values().size() != entries.size()) {
            throw new IllegalArgumentException("--resume: the checkpoint holds " + s.values().size() + " adapter arrays, this run "
                    + entries.size() + "; resume with the --rank and --targets of the first run");
        }
    }
}
