package jllm.generate;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import jllm.model.KvCache;
import jllm.model.Linear;
import jllm.model.ModelConfig;
import jllm.model.LlamaWeights;
import jllm.tensor.BlockInterleave;
import jllm.tensor.GGMLType;
import jllm.tensor.Q4KRepack;
import jllm.tensor.Tensor;

/**
 * The load-time step that puts weights where and how the decoding kernels read them fastest, whole matrices per worker
 * of the engine, onto Java heap arrays (read with {@code fromArray} or as heap segments; as many matrices as the heap
 * takes while keeping 64 MiB spare and, from the engine, the {@link #headroom} a session needs: the KV cache at the
 * default context and activation buffers):
 * <ul>
 *   <li>Q4_0 and Q8_0 matrices whose rows are whole 512-weight groups become {@link GGMLType#Q4_0_R} and
 *       {@link GGMLType#Q8_0_R} ({@link BlockInterleave}; same bytes);</li>
 *   <li>Q4_K matrices whose rows are whole 512-weight groups become {@link GGMLType#Q4_K_R16}
 *       ({@link Q4KRepack#interleave}; same values, 6 bits per weight instead of 4.5);</li>
 *   <li>F16 matrices are copied as they are into {@code short[]}s.</li>
 * </ul>
 * Other Q4_K matrices become {@link GGMLType#Q4_K_R} in native memory ({@link Q4KRepack}; rows repacked in parallel),
 * other tensors keep the file's layout. The file's pages of a copied matrix are then dropped from the resident set
 * ({@link MemorySegment#unload}, madvise DONTNEED: they stay in the page cache), so the copy replaces the mapping's
 * share of memory instead of adding to it.
 *
 * <p>Why: from the mapping, every vector load also checks the segment's liveness inside the kernel's loop, and the
 * file's 4 KiB pages break the hardware's streams; from heap arrays (with the launcher's transparent huge pages) the
 * 1B files decode 1.4x (F16) to 1.7x (Q4_0, Q8_0, Q4_K) as fast on the benchmark machine (bench/README.md section 7).
 *
 * <p>The cost is load time, most of it the first touch of the new memory, and for Q4_K memory: in session 8's runs on the
 * benchmark VM (with the launcher's collector flags, which keep these arrays out of the young generation), the first
 * token of the 1B files came 1.0-2.9 s (Q4_0), 2.4-3.5 s (Q8_0), 2.1-2.5 s (Q4_K) and up to 11 s (F16) later than in
 * the file's layout, as fast as fresh memory faulted in; {@code bench/README.md} section 7 has the figures.
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
     * {@code w} with its eligible matrices on heap arrays (see the class comment; as many as the heap takes with 64 MiB to
     * spare, the others in the file's layout), its other Q4_K matrices repacked to Q4_K_R in memory of {@code arena};
     * other tensors are kept as they are.
     */
    static LlamaWeights apply(LlamaWeights w, Linear linear, Arena arena) {
        return apply(w, linear, arena, 0);
    }

    /**
     * Heap to leave free for what a session allocates after loading: the KV cache at the default context (the model's
     * trained one, at most {@link Engine#DEFAULT_CONTEXT_CAP} positions) and 128 MiB for activation buffers.
     */
    static long headroom(ModelConfig c) {
        return KvCache.bytes(c, Math.min(Math.max(c.contextLength(), 1), Engine.DEFAULT_CONTEXT_CAP)) + (128L << 20);
    }

    /** As {@link #apply(LlamaWeights, Linear, Arena)}, leaving {@code keepFree} bytes of the heap free besides. */
    static LlamaWeights apply(LlamaWeights w, Linear linear, Arena arena, long keepFree) {
        // whole matrices per worker, so that each worker allocates (and the JVM zeroes, page by page) its own arrays: the
        // first touch of fresh memory is most of the cost, and this spreads it over the threads
        List<Tensor> heap = new ArrayList<>();
        long room = heapRoom() - keepFree;
        for (Tensor t : matrices(w)) {
            long bytes = heapBytes(t);
            if (bytes <= room) {
                heap.add(t);
                room -= bytes;
            }
        }
        Tensor[] copies = new Tensor[heap.size()];
        linear.parallelFor(heap.size(), (i, worker) -> copies[i] = onHeap(heap.get(i)));
        Map<Tensor, Tensor> bySource = new IdentityHashMap<>();
        for (int i = 0; i < copies.length; i++) bySource.put(heap.get(i), copies[i]);
        return w.withMatrices(t -> bySource.containsKey(t) ? bySource.get(t) : t.type() == GGMLType.Q4_K ? q4K(t, linear, arena) : t);
    }

    /** The heap bytes {@link #onHeap} needs for {@code t}, or {@link Long#MAX_VALUE} if it keeps {@code t} where it is. */
    static long heapBytes(Tensor t) {
        if (BlockInterleave.eligible(t)) return t.fileBytes();
        if (Q4KRepack.interleavable(t)) return GGMLType.Q4_K_R16.bytes(t.numElements());
        if (t.type() == GGMLType.F16 && t.numElements() <= MAX_SHORTS) return t.fileBytes();
        return Long.MAX_VALUE;
    }

    /** The most elements a {@code short[]} holds, with room to spare. */
    private static final long MAX_SHORTS = Integer.MAX_VALUE - 64;

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
     * One matrix onto the heap on the calling thread ({@link #heapBytes} must allow it): a Q4_0, Q8_0 or Q4_K matrix
     * interleaved ({@link GGMLType#Q4_0_R}, {@link GGMLType#Q8_0_R}, {@link GGMLType#Q4_K_R16}), an F16 matrix copied
     * into a {@code short[]}; a mapped source's pages are dropped. A Q4_0 or Q8_0 matrix with an Inf or NaN block scale
     * keeps the file's layout (the kernels' scale decoding assumes finite ones).
     */
    static Tensor onHeap(Tensor t) {
        if (t.type() == GGMLType.Q4_K) return replacing(t, Q4KRepack.interleave(t));
        if (t.type() == GGMLType.F16) {
            short[] a = new short[Math.toIntExact(t.numElements())];
            MemorySegment.copy(t.data(), ValueLayout.JAVA_SHORT_UNALIGNED, 0, a, 0, a.length);   // byte for byte
            return replacing(t, Tensor.of(t.name(), t.type(), MemorySegment.ofArray(a), t.ne()));
        }
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
