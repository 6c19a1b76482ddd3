package jllm.format.gguf;

import java.lang.reflect.Array;

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
}
