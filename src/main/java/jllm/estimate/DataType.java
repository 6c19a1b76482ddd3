package jllm.estimate;

import java.util.Locale;

import jllm.sizes.Sizes;
import jllm.tensor.GGMLType;

/**
 * How weights or cache entries are stored, and so how many bytes a tensor takes.
 *
 * <p>Three storage policies, each as its source stores a model:
 * <ul>
 *   <li>{@code FLAT}: every element at the same width: fp32 (4 B), fp16/bf16 (2 B), fp8 and int8 (1 B), int4
 *       (0.5 B). This is also how HF accelerate's {@code estimate-memory} counts int8 and int4.</li>
 *   <li>{@code GGML}: llama.cpp's GGUF types. Two-dimensional tensors are stored in the block type, each row
 *       cut into blocks with their scales ({@link GGMLType}: Q8_0 is 8.5 bits per weight, Q4_0 and Q4_K 4.5,
 *       Q6_K 6.5625); one-dimensional tensors (norms, biases) stay F32, as llama.cpp's quantizer leaves them.
 *       Bytes come from {@link Sizes#weightBytes}, the function the engine's loader uses.</li>
 *   <li>{@code BNB}: bitsandbytes as the Hugging Face integration applies it: only linear layers are quantized;
 *       embeddings, the output head and vectors stay in 16 bits. NF4 (Dettmers et al. 2023, QLoRA) stores 4-bit
 *       codes plus one fp32 absmax per 64 weights, 4 + 32/64 = 4.5 bits; with double quantization the absmax is
 *       itself 8-bit with one fp32 constant per 256 blocks: 4 + 8/64 + 32/(64*256) = 4.127 bits (QLoRA, Sec. 3,
 *       "0.127 bits per parameter").</li>
 * </ul>
 *
 * @param name   canonical name as accepted by {@link #parse}
 * @param bits   bits per element for FLAT and BNB storage, or the block type's bits per weight for GGML
 * @param policy which tensors the width applies to
 * @param ggml   the GGML block type for GGML storage, else null
 */
public record DataType(String name, double bits, Policy policy, GGMLType ggml) {

    /** Which tensors take the type's width. */
    public enum Policy { FLAT, GGML, BNB }

    public static final DataType FP32 = new DataType("fp32", 32, Policy.FLAT, null);
    public static final DataType FP16 = new DataType("fp16", 16, Policy.FLAT, null);
    public static final DataType BF16 = new DataType("bf16", 16, Policy.FLAT, null);
    public static final DataType NF4 = new DataType("nf4", 4 + 32.0 / 64, Policy.BNB, null);
    public static final DataType NF4_DQ = new DataType("nf4-dq", 4 + 8.0 / 64 + 32.0 / (64 * 256), Policy.BNB, null);

    /**
     * Parses a type name: {@code fp32 fp16 bf16 fp8 int8 int4 nf4 nf4-dq} or a GGML type
     * ({@code q8_0 q4_0 q4_1 q4_k q5_k q6_k}; {@code f32 f16} are the float types).
     */
    public static DataType parse(String s) {
        String n = s.trim().toLowerCase(Locale.ROOT);
        return switch (n) {
            case "fp32", "f32", "float32" -> FP32;
            case "fp16", "f16", "float16", "half" -> FP16;
            case "bf16", "bfloat16" -> BF16;
            case "fp8", "float8", "e4m3", "e5m2" -> new DataType("fp8", 8, Policy.FLAT, null);
            case "int8" -> new DataType("int8", 8, Policy.FLAT, null);
            case "int4" -> new DataType("int4", 4, Policy.FLAT, null);
            case "nf4" -> NF4;
            case "nf4-dq", "nf4dq" -> NF4_DQ;
            default -> {
                for (GGMLType t : GGMLType.values()) {
                    if (t.isQuantized() && t.name().equalsIgnoreCase(n)) {
                        yield new DataType(t.name().toLowerCase(Locale.ROOT), t.bitsPerWeight(), Policy.GGML, t);
                    }
                }
                throw new IllegalArgumentException("unknown data type '" + s
                        + "' (known: fp32 fp16 bf16 fp8 int8 int4 nf4 nf4-dq q8_0 q4_0 q4_1 q4_k q5_k q6_k)");
            }
        };
    }

    /** Bytes per element of a cache or activation stored in this type (GGML types include their block scales). */
    public double bytesPerElement() {
        return bits / 8.0;
    }

    /** True for a quantized type (anything narrower than 16 bits). */
    public boolean isQuantized() {
        return bits < 16;
    }

    /** Bytes that {@code t} (all {@code t.count()} copies) occupies when the model is stored in this type. */
    public long bytes(ModelShape.Tensor t) {
        return switch (policy) {
            case FLAT -> flat(t.elements(), bits);
            case GGML -> {
                if (t.kind() == ModelShape.Kind.VECTOR) yield Sizes.weightBytes(GGMLType.F32, t.elements());
                if (t.cols() % ggml.blockSize != 0) {
                    throw new IllegalArgumentException("tensor " + t.name() + " has rows of " + t.cols()
                            + " elements, not a multiple of the " + ggml + " block size " + ggml.blockSize
                            + "; llama.cpp would store it in another type");
                }
                yield Math.multiplyExact(Math.multiplyExact(t.rows(), t.count()), Sizes.weightBytes(ggml, t.cols()));
            }
            case BNB -> t.kind() == ModelShape.Kind.MATRIX ? flat(t.elements(), bits) : flat(t.elements(), 16);
        };
    }

    /** Bytes of every weight of {@code shape} stored in this type. */
    public long bytes(ModelShape shape) {
        long s = 0;
        for (ModelShape.Tensor t : shape.tensors()) s = Math.addExact(s, bytes(t));
        return s;
    }

    private static long flat(long elements, double bits) {
        return (long) Math.ceil(elements * bits / 8.0);
    }

    @Override
    public String toString() {
        return name;
    }
}
