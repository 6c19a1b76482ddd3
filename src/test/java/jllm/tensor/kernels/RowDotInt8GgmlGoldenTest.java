package jllm.tensor.kernels;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jllm.tensor.GGMLType;
import jllm.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The int8 path against ggml's CPU backend. Goldens recorded by {@code reference/llamacpp/record_quant_goldens.py}
 * from llama.cpp's libggml-cpu (commit c392e509, AVX-512 build): a 2048-element activation quantized by
 * {@code quantize_row_q8_0 / q8_1 / q8_K}, and {@code ggml_vec_dot_<type>_<q8>} of 3 weight rows of each type with
 * it. Tolerances: the activation's integers, scales, sums and bsums exactly; the dot products within 1e-6 of
 * {@code sum |w_i x_i|} (same integers, different float summation order).
 */
class RowDotInt8GgmlGoldenTest {
    static final String DIR = "/jllm/tensor/ggml-quant-golden/";
    static final int COLS = 2048;

    static ByteBuffer resource(String name) throws IOException {
        try (InputStream in = RowDotInt8GgmlGoldenTest.class.getResourceAsStream(DIR + name)) {
            if (in == null) throw new IllegalStateException("missing test resource " + DIR + name);
            return ByteBuffer.wrap(in.readAllBytes()).order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    static float[] floats(String name) throws IOException {
        ByteBuffer b = resource(name);
        float[] f = new float[b.remaining() / 4];
        b.asFloatBuffer().get(f);
        return f;
    }

    @Test
    void activationQuantizationMatchesGgml() throws IOException {
        float[] x = floats("act.f32");
        Q8Activation a = new Q8Activation();
        a.quantize(Q8Activation.Format.Q8_0, x, 0, COLS);
        ByteBuffer q81 = resource("act.q8_1.bin");
        ByteBuffer q80 = resource("act.q8_0.bin");
        for (int b = 0; b < COLS / 32; b++) {
            assertThat(a.d[b]).as("q8_0 d of block %d", b).isEqualTo(Float.float16ToFloat(q80.getShort(34 * b)));
            assertThat(a.d[b]).as("q8_1 d of block %d", b).isEqualTo(Float.float16ToFloat(q81.getShort(36 * b)));
            assertThat(a.s[b]).as("q8_1 s of block %d", b).isEqualTo(Float.float16ToFloat(q81.getShort(36 * b + 2)));
            for (int j = 0; j < 32; j++) {
                assertThat(a.q[32 * b + j]).as("q8_0 q[%d]", 32 * b + j).isEqualTo(q80.get(34 * b + 2 + j));
                assertThat(a.q[32 * b + j]).as("q8_1 q[%d]", 32 * b + j).isEqualTo(q81.get(36 * b + 4 + j));
            }
        }
        a.quantize(Q8Activation.Format.Q8_K, x, 0, COLS);
        ByteBuffer q8k = resource("act.q8_K.bin");
        for (int b = 0; b < COLS / 256; b++) {
            int p = 292 * b;
            assertThat(a.d[b]).as("q8_K d of block %d", b).isEqualTo(q8k.getFloat(p));
            for (int j = 0; j < 256; j++) assertThat(a.q[256 * b + j]).as("q8_K q[%d]", 256 * b + j).isEqualTo(q8k.get(p + 4 + j));
            for (int j = 0; j < 16; j++) assertThat(a.bsums[16 * b + j]).as("q8_K bsums[%d]", j).isEqualTo((int) q8k.getShort(p + 260 + 2 * j));
        }
    }

    @Test
    void dotProductsMatchGgmlVecDot() throws IOException {
        float[] x = floats("act.f32");
        for (GGMLType t : new GGMLType[] {GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K}) {
            ByteBuffer bytes = resource(t.name() + ".bin");
            MemorySegment seg = Arena.ofAuto().allocate(bytes.remaining());
            MemorySegment.copy(bytes.array(), 0, seg, ValueLayout.JAVA_BYTE, 0, bytes.remaining());
            int rows = (int) (seg.byteSize() / t.bytes(COLS));
            Tensor w = Tensor.of("w", t, seg, COLS, rows);
            float[] expected = floats("dot." + t.name() + ".f32");
            Q8Activation a = new Q8Activation();
            a.quantize(Q8Activation.formatFor(t), x, 0, COLS);
            float[] wf = w.toFloatArray();
            double worst = 0;
            try (WorkerPool pool = new WorkerPool(2)) {
                float[] out = new float[rows];
                new MatMul(pool, MatMul.Path.INT8).matVec(out, w, x);
                for (int r = 0; r < rows; r++) {
                    double scale = 0;
                    for (int i = 0; i < COLS; i++) scale += Math.abs((double) wf[r * COLS + i] * x[i]);
                    float vec = RowDotInt8.dot(t, seg, w.rowOffset(r), a);
                    float sca = RowDotInt8.dotScalar(t, seg, w.rowOffset(r), a);
                    for (float got : new float[] {vec, sca, out[r]}) {
                        double rel = Math.abs(got - expected[r]) / scale;
                        worst = Math.max(worst, rel);
                        assertThat(rel).as("%s row %d: %s vs ggml %s", t, r, got, expected[r]).isLessThanOrEqualTo(1e-6);
                    }
                }
            }
            System.out.printf("int8 %-5s vs ggml_vec_dot: max |diff| / sum|w x| = %.3g%n", t, worst);
        }
    }
}
