package jllm.estimate;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import jllm.format.gguf.GGUFFile;
import jllm.format.gguf.GGUFTensorInfo;
import jllm.sizes.Sizes;

/**
 * A GGUF file written by another tool (test data: tiny-random-llama, llama architecture, F16 matrices, F32 norms):
 * the shape read from its metadata predicts exactly the tensors it holds, and the stored weights are the file's
 * own tensor sizes.
 */
class GgufModelTest {

    static Path file() {
        Path p = HfConfigTest.testdata().resolve("gguf/tiny-random-llama-gguf/llama-2-tiny-random.gguf");
        if (!Files.isRegularFile(p)) throw new IllegalStateException("test data file missing: " + p);
        return p;
    }

    @Test
    void shapeFromMetadataPredictsTheTensors() throws IOException {
        ModelSpec m = GgufModel.read(file());
        try (GGUFFile f = GGUFFile.open(file())) {
            long elements = 0, bytes = 0;
            for (GGUFTensorInfo t : f.tensors().values()) {
                elements += t.elementCount();
                bytes += t.byteSize();
            }
            assertThat(m.shape().params()).isEqualTo(elements);
            assertThat(m.params()).isEqualTo(elements);
            assertThat(m.stored().bytes()).isEqualTo(bytes);
            assertThat(m.shape().tensors().stream().mapToLong(ModelShape.Tensor::count).sum())
                    .isEqualTo(f.tensors().size());
        }
    }

    @Test
    void inferencePlanUsesStoredWeightsAndMetadataKv() throws IOException {
        ModelSpec m = GgufModel.read(file());
        ModelShape s = m.shape();
        Estimate e = new InferenceMemory(m, null, DataType.FP32, DataType.FP32, 1, 64, 1, true, 0, 0).estimate();
        assertThat(e.getLong("weights_bytes")).isEqualTo(m.stored().bytes());
        assertThat(e.getLong("kv_cache_bytes")).isEqualTo(Sizes.kvCacheBytes(s.layers(), 64, s.kvHeads(), s.headDim(), 4, 1));
    }
}
