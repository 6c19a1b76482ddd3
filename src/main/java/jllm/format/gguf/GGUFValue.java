package jllm.format.gguf;

/**
 * One typed metadata value. {@code value} is a Byte, Short, Integer, Long (the unsigned types in the signed Java
 * type of the same width), Float, Double, Boolean, String or {@link GGUFArray}, matching {@code type}.
 */
public record GGUFValue(GGUFValueType type, Object value) {
    public GGUFValue {
        Class<?> expected = switch (type) {
            case UINT8, INT8 -> Byte.class;
            case UINT16, INT16 -> Short.class;
            case UINT32, INT32 -> Integer.class;
            case UINT64, INT64 -> Long.class;
            case FLOAT32 -> Float.class;
            case FLOAT64 -> Double.class;
            case BOOL -> Boolean.class;
            case STRING -> String.class;
            case ARRAY -> GGUFArray.class;
        };
        if (!expected.isInstance(value)) {
            throw new IllegalArgumentException("GGUF value of type " + type + " needs a " + expected.getSimpleName()
                    + ", got " + (value == null ? "null" : value.getClass().getSimpleName()));
        }
    }

    public static GGUFValue ofString(String s) { return new GGUFValue(GGUFValueType.STRING, s); }
    public static GGUFValue ofUInt32(int v) { return new GGUFValue(GGUFValueType.UINT32, v); }
    public static GGUFValue ofInt32(int v) { return new GGUFValue(GGUFValueType.INT32, v); }
    public static GGUFValue ofFloat32(float v) { return new GGUFValue(GGUFValueType.FLOAT32, v); }
    public static GGUFValue ofBool(boolean v) { return new GGUFValue(GGUFValueType.BOOL, v); }
    public static GGUFValue ofUInt64(long v) { return new GGUFValue(GGUFValueType.UINT64, v); }
    public static GGUFValue ofArray(GGUFArray a) { return new GGUFValue(GGUFValueType.ARRAY, a); }

    /** This value as a long, for any integer type (unsigned types zero-extended). */
    public long asLong() {
        return switch (type) {
            case UINT8 -> Byte.toUnsignedLong((Byte) value);
            case UINT16 -> Short.toUnsignedLong((Short) value);
            case UINT32 -> Integer.toUnsignedLong((Integer) value);
            case INT8, INT16, INT32, INT64, UINT64 -> ((Number) value).longValue();
            case BOOL -> ((Boolean) value) ? 1 : 0;
            default -> throw new IllegalStateException("metadata value of type " + type + " is not an integer");
        };
    }

    /** This value as a double, for any numeric type. */
    public double asDouble() {
        return switch (type) {
            case FLOAT32, FLOAT64 -> ((Number) value).doubleValue();
            default -> asLong();
        };
    }
}
