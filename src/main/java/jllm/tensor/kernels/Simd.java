package jllm.tensor.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector shapes every kernel shares, and the few lane conversions they need.
 *
 * <p>Spec: the JDK Vector API ({@code jdk.incubator.vector}). {@code F} is the preferred float species clamped
 * to 8 or 16 lanes ({@code L}); block decoders load exactly {@code L} bytes ({@code B}), shorts ({@code S}) or
 * ints ({@code I}) at a time so that one conversion yields one float vector. Kernels are written for
 * {@code L} dividing 16, which covers AVX2 (8) and AVX-512 (16).
 *
 * <p>There are deliberately no helper methods that take or return vectors: when C2 has already compiled such
 * a helper on its own into a big method it refuses to inline it, and every vector crossing the call is then
 * boxed on the heap. Kernels write their conversions inline.
 */
final class Simd {
    private Simd() {}

    static final VectorSpecies<Float> F = pickFloatSpecies();
    static final int L = F.length();
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));
    /** Bytes of {@code L} shorts, to load f16 scales from a byte array. */
    static final VectorSpecies<Byte> B2 = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 16));
    /** Bytes of {@code L} floats, to load float scales from a byte array. */
    static final VectorSpecies<Byte> B4 = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 32));
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, VectorShape.forBitSize(L * 32));
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);

    /**
     * The preferred float species, clamped to 8..16 lanes; the system property {@code jllm.simd.bits} (256 or
     * 512) overrides it, e.g. to test the AVX2 shape on an AVX-512 machine.
     */
    private static VectorSpecies<Float> pickFloatSpecies() {
        String forced = System.getProperty("jllm.simd.bits");
        if (forced != null) {
            return switch (forced.trim()) {
                case "256" -> FloatVector.SPECIES_256;
                case "512" -> FloatVector.SPECIES_512;
                default -> throw new IllegalArgumentException("jllm.simd.bits = " + forced + " (use 256 or 512)");
            };
        }
        VectorSpecies<Float> p = FloatVector.SPECIES_PREFERRED;
        if (p.length() >= 16) return FloatVector.SPECIES_512;
        if (p.length() >= 8) return p;
        return FloatVector.SPECIES_256;
    }

    /**
     * The fast half decoders ({@code RowDot.f16Dot}, {@code Dequantize.f16Row}) take {@code (h << 13) & HALF_MAGNITUDE}
     * as float bits and rebase them by 2^112; a lane at or above {@code HALF_INF_MAGNITUDE} held an Inf or a NaN,
     * which that decodes wrongly, and sends its row to the exact decoder.
     */
    static final int HALF_MAGNITUDE = 0x7FFF << 13, HALF_INF_MAGNITUDE = 0x7C00 << 13;

    /** IEEE half at byte {@code off}, little-endian. */
    static float f16(MemorySegment s, long off) {
        return Float.float16ToFloat(s.get(I16, off));
    }

    static int u8(MemorySegment s, long off) {
        return s.get(ValueLayout.JAVA_BYTE, off) & 0xFF;
    }
}
