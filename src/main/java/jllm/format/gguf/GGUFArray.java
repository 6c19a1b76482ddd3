package jllm.format.gguf;

import java.lang.reflect.Array;
import java.util.Arrays;

/**
 * A metadata array: its element type and a Java array holding the values.
 * <pre>
 *   UINT8, INT8 -> byte[]     UINT16, INT16 -> short[]   UINT32, INT32 -> int[]   UINT64, INT64 -> long[]
 *   FLOAT32 -> float[]        FLOAT64 -> double[]        BOOL -> boolean[]        STRING -> String[]
 *   ARRAY -> GGUFArray[]
 * </pre>
 * Unsigned values are stored in the signed Java type of the same width (read them with the unsigned helpers).
 */
public record GGUFArray(GGUFValueType elementType, Object values) {
    public GGUFArray {
        Class<?> expected = switch (elementType) {
            case UINT8, INT8 -> byte[].class;
            case UINT16, INT16 -> short[].class;
            case UINT32, INT32 -> int[].class;
            case UINT64, INT64 -> long[].class;
            case FLOAT32 -> float[].class;
            case FLOAT64 -> double[].class;
            case BOOL -> boolean[].class;
            case STRING -> String[].class;
            case ARRAY -> GGUFArray[].class;
        };
        if (!expected.isInstance(values)) {
            throw new IllegalArgumentException("GGUF array of " + elementType + " needs a " + expected.getSimpleName()
                    + ", got " + (values == null ? "null" : values.getClass().getSimpleName()));
        }
    }

    public int length() {
        return Array.getLength(values);
    }

    /** Equal when the element types and the contents (compared element by element, nested arrays deeply) are. */
    @Override
    public boolean equals(Object o) {
        return o instanceof GGUFArray a && a.elementType == elementType && Arrays.deepEquals(new Object[] {values}, new Object[] {a.values});
    }

    @Override
    public int hashCode() {
        return 31 * elementType.hashCode() + Arrays.deepHashCode(new Object[] {values});
    }

    /** Element type, length and at most the first 8 elements. */
    @Override
    public String toString() {
        int n = length();
        StringBuilder sb = new StringBuilder("GGUFArray[").append(elementType).append(" x ").append(n).append(": ");
        for (int i = 0; i < Math.min(n, 8); i++) sb.append(i == 0 ? "" : ", ").append(Array.get(values, i));
        return sb.append(n > 8 ? ", ...]" : "]").toString();
    }
}
