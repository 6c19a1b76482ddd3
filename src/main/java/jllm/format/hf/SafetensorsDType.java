package jllm.format.hf;

import jllm.tensor.GGMLType;

/**
 * The element types of a safetensors file (spec: huggingface/safetensors, {@code Dtype} in safetensors/src/tensor.rs),
 * declared in the same order as the reference's enum, which is increasing alignment: the reference writer sorts
 * tensors by descending dtype in this order, then by name ({@link SafetensorsWriter#sortLikeSafetensors()}).
 *
 * <p>Only the floating-point types that jllm's tensors hold (F32, F16, BF16) become {@link jllm.tensor.Tensor}
 * views; the others are read, validated and copied through, but have no {@link #ggmlType()}.
 */
public enum SafetensorsDType {
    BOOL(1),
    U8(1),
    I8(1),
    F8_E5M2(1),
    F8_E4M3(1),
    I16(2),
    U16(2),
    F16(2),
    BF16(2),
    I32(4),
    U32(4),
    F32(4),
    F64(8),
    I64(8),
    U64(8);

    /** Bytes per element. */
    public final int size;

    SafetensorsDType(int size) {
        this.size = size;
    }

    /** The jllm tensor type holding this dtype's bytes unchanged, or null when there is none. */
    public GGMLType ggmlType() {
        return switch (this) {
            case F32 -> GGMLType.F32;
            case F16 -> GGMLType.F16;
            case BF16 -> GGMLType.BF16;
            default -> null;
        };
    }

    /** The dtype that stores a jllm tensor type's bytes unchanged; quantized types have none. */
    public static SafetensorsDType of(GGMLType t) {
        return switch (t) {
            case F32 -> F32;
            case F16 -> F16;
            case BF16 -> BF16;
            default -> throw new IllegalArgumentException(t + " tensors have no safetensors dtype (only F32, F16, BF16)");
        };
    }

    /** The dtype named {@code name} exactly as a safetensors header spells it, or null. */
    public static SafetensorsDType byName(String name) {
        for (SafetensorsDType d : values()) {
            if (d.name().equals(name)) return d;
        }
        return null;
    }
}
