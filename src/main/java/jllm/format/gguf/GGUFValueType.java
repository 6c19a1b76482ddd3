package jllm.format.gguf;

/**
 * Metadata value types of GGUF (spec: ggml's docs/gguf.md, {@code gguf_metadata_value_type}).
 * {@code size} is the encoded size in bytes of a scalar, or 0 for variable-length types.
 */
public enum GGUFValueType {
    UINT8(0, 1), INT8(1, 1), UINT16(2, 2), INT16(3, 2), UINT32(4, 4), INT32(5, 4), FLOAT32(6, 4),
    BOOL(7, 1), STRING(8, 0), ARRAY(9, 0), UINT64(10, 8), INT64(11, 8), FLOAT64(12, 8);

    public final int id;
    /** Encoded bytes of one scalar value; 0 for STRING and ARRAY. */
    public final int size;

    GGUFValueType(int id, int size) {
        this.id = id;
        this.size = size;
    }

    /** Smallest number of bytes one value of this type can occupy (a string: its 8-byte length). */
    public int minEncodedSize() {
        return switch (this) {
            case STRING -> 8;
            case ARRAY -> 12;
            default -> size;
        };
    }

    public static GGUFValueType fromId(int id, String field) {
        for (GGUFValueType t : values()) {
            if (t.id == id) return t;
        }
        throw new GGUFFormatException(field + ": unknown metadata value type " + Integer.toUnsignedString(id));
    }
}
