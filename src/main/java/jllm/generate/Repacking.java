package jllm.generate;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import jllm.model.Linear;
import jllm.model.LlamaWeights;
import jllm.tensor.BlockInterleave;
import jllm.tensor.GGMLType;
import jllm.tensor.Q4KRepack;
import jllm.tensor.Tensor;

/**
 * The load-time step that puts weights into the layouts the decoding kernels read fastest: every Q4_K matrix whose rows
 * are whole 512-weight groups becomes {@link GGMLType#Q4_K_R16} on a heap array ({@link Q4KRepack#interleave}; same
 * values, 6 bits per weight instead of 4.5), other Q4_K matrices {@link GGMLType#Q4_K_R} in native memory
 * ({@link Q4KRepack}; the Q4_K int8 kernel's decoding speed doubled), their rows repacked in parallel on the engine's
 * workers; every Q4_0 or Q8_0 matrix whose rows
 * are whole 512-weight groups becomes {@link GGMLType#Q4_0_R} or {@link GGMLType#Q8_0_R} on a heap array
 * ({@link BlockInterleave}; same bytes, decoding ~1.6x as fast for Q4_0 and ~1.9x for Q8_0 on one core), whole
 * matrices per worker. The file's pages of a repacked matrix are then dropped from the resident set
 * ({@link MemorySegment#unload}, madvise DONTNEED: they stay in the page cache), so the copy replaces the mapping's
 * share of memory instead of adding to it.
 *
 * <p>The cost is load time, and memory for Q4_K: the 1B Q4_K file is held in 884 MiB instead of 663 and opens ~2 s
 * later on the benchmark VM, the 1B Q4_0 file ~3 s later (2.5 s with huge pages), most of it the first touch of the new
 * memory ({@link jllm.tensor.AnonymousMemory}; llama.cpp pays 3.5 s there for its Q4_0 repack); {@code bench/README.md}
 * section 7 has the figures.
 *
 * <p>On by default; the system property {@code jllm.repack=false} keeps the file's layout (less memory and load time,
 * slower decoding). Commands that write the weights back (LoRA merge) open the engine without it.
 */
final class Repacking {
    private Repacking() {}

    /** The system property that turns repacking off ({@code -Djllm.repack=false}). */
    static final String PROPERTY = "jllm.repack";
    private static final int CHUNK_ROWS = 64;

    static boolean enabledByDefault() {
        return !"false".equalsIgnoreCase(System.getProperty(PROPERTY, "true").trim());
    }

    /**
     * {@code w} with its eligible Q4_0, Q8_0 and Q4_K matrices interleaved onto heap arrays ({@link BlockInterleave},
     * {@link Q4KRepack#interleave}; as many as the heap takes with 64 MiB to spare), the other Q4_0 and Q8_0 matrices
     * in the file's layout, the other Q4_K matrices repacked to Q4_K_R in memory of {@code arena}; other tensors are
     * kept as they are.
     */
    static LlamaWeights apply(LlamaWeights w, Linear linear, Arena arena) {
        // Q4_0, Q8_0: whole matrices per worker, so that each worker allocates (and the JVM zeroes, page by page) its own
        // arrays: the first touch of fresh memory is most of the cost, and this spreads it over the threads
        List<Tensor> blocks = new ArrayList<>();
        long room = heapRoom();
        for (Tensor t : matrices(w)) {
            long bytes = BlockInterleave.eligible(t) ? t.fileBytes()
                    : Q4KRepack.interleavable(t) ? GGMLType.Q4_K_R16.bytes(t.numElements()) : Long.MAX_VALUE;
            if (bytes <= room) {
                blocks.add(t);
                room -= bytes;
            }
        }
        Tensor[] packed = new Tensor[blocks.size()];
        linear.parallelFor(blocks.size(), (i, worker) -> packed[i] = interleaved(blocks.get(i)));
        Map<Tensor, Tensor> bySource = new IdentityHashMap<>();
        for (int i = 0; i < packed.length; i++) bySource.put(blocks.get(i), packed[i]);
        return w.withMatrices(t -> bySource.containsKey(t) ? bySource.get(t) : t.type() == GGMLType.Q4_K ? q4K(t, linear, arena) : t);
    }

    /** The distinct matrices of {@code w}, in its order. */
    private static List<Tensor> matrices(LlamaWeights w) {
        List<Tensor> all = new ArrayList<>();
        w.withMatrices(t -> {
            all.add(t);
            return t;
        });
        return all;
    }

    /** Bytes the heap can still take, keeping 64 MiB spare. */
    static long heapRoom() {
        Runtime rt = Runtime.getRuntime();
        return rt.maxMemory() - (rt.totalMemory() - rt.freeMemory()) - (64L << 20);
    }

    /**
     * One Q4_0, Q8_0 or Q4_K matrix interleaved ({@link GGMLType#Q4_0_R}, {@link GGMLType#Q8_0_R}, {@link GGMLType#Q4_K_R16}) on the calling thread; a
     * mapped source's pages are dropped. A matrix with an Inf or NaN block scale keeps the file's layout (the kernels'
     * scale decoding assumes finite ones).
     */
    static Tensor interleaved(Tensor t) {
        if (t.type() == GGMLType.Q4_K) return replacing(t, Q4KRepack.interleave(t));
        Tensor out = BlockInterleave.allocate(t);
        if (!BlockInterleave.repackRows(t, out, 0, t.rows())) return t;
        return replacing(t, out);
    }

    /** One Q4_K matrix repacked on {@code linear}'s workers into {@code arena}; a mapped source's pages are dropped. */
    static Tensor q4K(Tensor t, Linear linear, Arena arena) {
        Tensor out = Q4KRepack.allocate(t, arena);
        int rows = t.rows();
        linear.parallelFor((rows + CHUNK_ROWS - 1) / CHUNK_ROWS,
                (i, worker) -> Q4KRepack.repackRows(t, out, i * CHUNK_ROWS, Math.min(rows, (i + 1) * CHUNK_ROWS)));
        return replacing(t, out);
    }

    /** {@code out}, after dropping {@code t}'s file pages (if mapped) from the resident set: the copy replaces them. */
    private static Tensor replacing(Tensor t, Tensor out) {
        MemorySegment src = t.data();
        if (src.isMapped()) src.unload();
        return out;
    }
}
