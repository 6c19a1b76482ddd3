package jllm.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Locale;

/**
 * Native memory that is not zeroed by the JVM: on Linux an anonymous private {@code mmap}, whose pages the kernel
 * zero-fills on first touch, so the threads that first write them share the page faults; elsewhere (or if the call is
 * unavailable) {@link Arena#allocate}, which zeroes the whole block on the calling thread first.
 *
 * <p>Why: the load-time repacking ({@link Q4KRepack}) writes 900 MB for the 1B Q4_K file; on the benchmark VM a page
 * fault costs ~14 us, and the arena's single-threaded zeroing of that block took ~3 s before the repacking workers
 * could start. Opening that file and generating one token: 6.0-6.8 s with the arena, 4.7-5.0 s mapped here. Transparent
 * huge pages ({@code madvise(MADV_HUGEPAGE)}) made loading faster still (4.1-4.6 s) but decoding from them was slower on
 * that VM (Q4_0 weights copied into such memory: tg128 -10% against 4 KiB pages, six of six alternations), so they are
 * not asked for. Spec: POSIX {@code mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)} and
 * {@code munmap} when the arena closes; Linux's flag values.
 */
public final class AnonymousMemory {
    private AnonymousMemory() {}

    private static final int PROT_READ_WRITE = 0x3, MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;
    private static final MethodHandle MMAP, MUNMAP;

    static {
        MethodHandle mmap = null, munmap = null;
        if (System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            try {
                Linker linker = Linker.nativeLinker();
                var libc = linker.defaultLookup();
                mmap = linker.downcallHandle(libc.find("mmap").orElseThrow(), FunctionDescriptor.of(ValueLayout.ADDRESS,
                        ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_LONG));
                munmap = linker.downcallHandle(libc.find("munmap").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
            } catch (RuntimeException | Error e) {   // no native access, no libc symbol: the arena's allocator then
                mmap = null;
                munmap = null;
            }
        }
        MMAP = mmap;
        MUNMAP = munmap;
    }

    /** Whether {@link #allocate} maps memory itself (else it falls back to the arena's zeroed allocation). */
    public static boolean mapsItself() {
        return MMAP != null;
    }

    /**
     * {@code bytes} of native memory (page-aligned when mapped, else 64-byte aligned) that lives as long as {@code arena};
     * its contents read as zeros until written.
     */
    public static MemorySegment allocate(long bytes, Arena arena) {
        if (bytes <= 0) throw new IllegalArgumentException("allocation of " + bytes + " bytes");
        if (MMAP == null) return arena.allocate(bytes, 64);
        MemorySegment p;
        try {
            p = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, bytes, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0L);
        } catch (Throwable t) {
            return arena.allocate(bytes, 64);
        }
        if (p.address() == -1L || p.address() == 0L) {   // MAP_FAILED: out of address space or memory
            throw new OutOfMemoryError("mmap of " + bytes + " bytes failed");
        }
        return p.reinterpret(bytes, arena, AnonymousMemory::unmap);
    }

    private static void unmap(MemorySegment s) {
        try {
            int rc = (int) MUNMAP.invokeExact(s, s.byteSize());
        } catch (Throwable t) {
            throw new IllegalStateException("munmap failed", t);
        }
    }
}
