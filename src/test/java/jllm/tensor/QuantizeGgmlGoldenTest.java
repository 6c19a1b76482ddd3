package jllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/**
 * jllm's quantizers write the same bytes as ggml's reference quantizers. The goldens were recorded by
 * {@code reference/llamacpp/record_quant_goldens.py}: llama.cpp's libggml-base (commit c392e509) ran
 * {@code quantize_row_*_ref}, {@code ggml_fp32_to_fp16_row} and {@code ggml_fp32_to_bf16_row_ref} on 24 super-blocks
 * of fixed inputs (Gaussians of several scales, heavy tails, zero, constant, one-signed, outlier, tiny, large,
 * exact-tie and mixed-scale blocks), and ggml's dequantization of its bytes. Tolerance: none, bit for bit.
 */
class QuantizeGgmlGoldenTest {
    static final String DIR = "/jllm/tensor/ggml-quant-golden/";

    static byte[] resource(String name) throws IOException {
        try (InputStream in = QuantizeGgmlGoldenTest.class.getResourceAsStream(DIR + name)) {
            if (in == null) throw new IllegalStateException("missing test resource " + DIR + name);
            return in.readAllBytes();
        }
    }

    @Test
    void everyTypeMatchesGgmlReferenceBytes() throws IOException {
        byte[] raw = resource("input.f32");
        float[] x = new float[raw.length / 4];
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(x);
        for (GGMLType t : new GGMLType[] {GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q4_K, GGMLType.Q5_K,
                GGMLType.Q6_K, GGMLType.F16, GGMLType.BF16}) {
            byte[] expected = resource(t.name() + ".bin");
            MemorySegment seg = Arena.ofAuto().allocate(t.bytes(x.length));
            Quantize.quantize(t, x, 0, x.length, seg, 0);
            byte[] got = seg.toArray(ValueLayout.JAVA_BYTE);
            assertThat(got.length).isEqualTo(expected.length);
            int badBlocks = 0, firstBad = -1;
            for (int b = 0; b < got.length / t.typeSize; b++) {
                for (int i = b * t.typeSize; i < (b + 1) * t.typeSize; i++) {
                    if (got[i] != expected[i]) {
                        badBlocks++;
                        if (firstBad < 0) firstBad = b;
                        break;
                    }
                }
            }
            System.out.printf("%-5s %d blocks, %d differ from ggml%n", t, got.length / t.typeSize, badBlocks);
            assertThat(badBlocks).as("%s blocks that differ from ggml's bytes (first: %d)", t, firstBad).isZero();
        }
    }

    /** Dequantizing ggml's bytes gives ggml's floats bit for bit, in the scalar reference and the Vector API version. */
    @Test
    void dequantizationMatchesGgmlBitForBit() throws IOException {
        for (GGMLType t : new GGMLType[] {GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q4_K, GGMLType.Q5_K,
                GGMLType.Q6_K, GGMLType.F16, GGMLType.BF16}) {
            byte[] bytes = resource(t.name() + ".bin");
            byte[] rawExpected = resource(t.name() + ".dequant.f32");
            float[] expected = new float[rawExpected.length / 4];
            ByteBuffer.wrap(rawExpected).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(expected);
            MemorySegment seg = Arena.ofAuto().allocate(bytes.length);
            MemorySegment.copy(bytes, 0, seg, ValueLayout.JAVA_BYTE, 0, bytes.length);
            float[] scalar = new float[expected.length];
            DequantizeScalar.dequantize(t, seg, 0, scalar, 0, scalar.length);
            float[] vector = new float[expected.length];
            jllm.tensor.kernels.Dequantize.dequantize(vector, 0, t, seg, 0, vector.length);
            assertThat(scalar).as("%s scalar dequantization", t).containsExactly(expected);
            assertThat(vector).as("%s vector dequantization", t).containsExactly(expected);
        }
    }
}
