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
 */
final class Simd {
    private Simd() {}

    static final VectorSpecies<Float> F = pickFloatSpecies();
    static final int L = F.length();
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, VectorShape.forBitSize(L * 32));
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);

    private static VectorSpecies<Float> pickFloatSpecies() {
        VectorSpecies<Float> p = FloatVector.SPECIES_PREFERRED;
        if (p.length() >= 16) return FloatVector.SPECIES_512;
        if (p.length() >= 8) return p;
        return FloatVector.SPECIES_256;
    }

    /** IEEE half at byte {@code off}, little-endian. */
    static float f16(MemorySegment s, long off) {
        return Float.float16ToFloat(s.get(I16, off));
    }

    static int u8(MemorySegment s, long off) {
        return s.get(ValueLayout.JAVA_BYTE, off) & 0xFF;
    }

    /** {@code L} signed bytes at {@code off} as floats. */
    static FloatVector bytesToFloats(ByteVector b) {
        return (FloatVector) b.convertShape(VectorOperators.B2F, F, 0);
    }

    static ByteVector loadBytes(MemorySegment s, long off) {
        return ByteVector.fromMemorySegment(B, s, off, LE);
    }

    private static final float TWO_POW_112 = 0x1p112f;

    /**
     * {@code L} IEEE halves at {@code off} as floats, exactly (the same values as {@link Float#float16ToFloat}):
     * the exponent and mantissa bits shifted into float position and rebased by a multiply with 2^112 (which
     * also normalizes subnormals), infinities and NaNs given the all-ones exponent, then the sign.
     */
    static FloatVector halvesToFloats(MemorySegment s, long off) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(S, s, off, LE).convertShape(VectorOperators.S2I, I, 0);
        IntVector mag = h.and(0x7FFF);
        IntVector bits = mag.lanewise(VectorOperators.LSHL, 13);
        FloatVector f = bits.reinterpretAsFloats().mul(TWO_POW_112);
        IntVector fb = f.reinterpretAsInts();
        fb = fb.blend(bits.or(0x7F800000), mag.compare(VectorOperators.GE, 0x7C00));
        fb = fb.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16));
        return fb.reinterpretAsFloats();
    }

    /** {@code L} bfloat16 values at {@code off} as floats: the bits shifted into the top half. */
    static FloatVector bf16ToFloats(MemorySegment s, long off) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(S, s, off, LE).convertShape(VectorOperators.S2I, I, 0);
        return h.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }
}
