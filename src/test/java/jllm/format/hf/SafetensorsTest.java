package jllm.format.hf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import jllm.tensor.GGMLType;
import jllm.tensor.Tensor;
import jllm.testing.TestData;

/**
 * SafetensorsFile and SafetensorsWriter against the reference's published byte vectors (the tests of
 * safetensors/src/tensor.rs), byte-identical round trips of files written by Hugging Face's tools
 * (../shared/testdata/hf) and of jllm's own files, tensor views, and atomic replacement.
 */
class SafetensorsTest {
    @TempDir Path tmp;

    private static byte[] bytesOf(SafetensorsWriter w) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        w.writeTo(Channels.newChannel(bos));
        return bos.toByteArray();
    }

    private static byte[] le(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return b.array();
    }

    private static int[] unsigned(byte[] b) {
        int[] u = new int[b.length];
        for (int i = 0; i < b.length; i++) u[i] = b[i] & 0xff;
        return u;
    }

    /** safetensors' test_serialization: one F32 tensor "attn.0" of shape [1, 2, 3] holding 0..5. */
    @Test
    void referenceSerializationVector() throws IOException {
        int[] expected = {64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
                116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
                58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
                101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
                0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64};
        SafetensorsWriter w = new SafetensorsWriter().floats("attn.0", new float[] {0, 1, 2, 3, 4, 5}, 1, 2, 3);
        assertThat(unsigned(bytesOf(w))).containsExactly(expected);
    }

    /** safetensors' test_serialization_forced_alignement: a 65-byte header is padded with 7 spaces to 72. */
    @Test
    void referencePaddingVector() throws IOException {
        SafetensorsWriter w = new SafetensorsWriter().floats("attn0", new float[] {0, 1, 2, 3, 4, 5}, 1, 1, 2, 3);
        byte[] b = bytesOf(w);
        String json = "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}";
        assertThat(b[0]).isEqualTo((byte) 72);
        assertThat(new String(b, 8, 72, StandardCharsets.UTF_8)).isEqualTo(json + " ".repeat(7));
        assertThat(Arrays.copyOfRange(b, 80, b.length)).isEqualTo(le(0, 1, 2, 3, 4, 5));
    }

    /** safetensors' test_empty: no tensors gives "{}" padded to 8; with metadata {"framework": "pt"}, 40 bytes. */
    @Test
    void referenceEmptyVectors() throws IOException {
        assertThat(unsigned(bytesOf(new SafetensorsWriter())))
                .containsExactly(8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32);
        assertThat(unsigned(bytesOf(new SafetensorsWriter().metadata("framework", "pt")))).containsExactly(
                40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95,
                95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112,
                116, 34, 125, 125, 32, 32, 32, 32, 32);
        Path p = tmp.resolve("empty.safetensors");
        new SafetensorsWriter().metadata("framework", "pt").write(p);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertThat(f.tensors()).isEmpty();
            assertThat(f.metadata()).containsExactly(Map.entry("framework", "pt"));
        }
    }

    /**
     * The Hugging Face files open; every tensor's bytes equal those found by an independent reading of the header
     * (Jackson tree + offsets, in this test), and copying the file, in file order or sorted as the reference
     * writer sorts, gives back the same bytes.
     */
    @ParameterizedTest
    @ValueSource(strings = {"hf/hf-fake-gpt2/model.safetensors", "hf/hf-tiny-gpt2/model.safetensors"})
    void huggingFaceFilesRoundTripByteForByte(String rel) throws IOException {
        Path src = TestData.file(rel);
        byte[] original = Files.readAllBytes(src);
        long n = ByteBuffer.wrap(original).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        JsonNode header = new ObjectMapper().readTree(new String(original, 8, (int) n, StandardCharsets.UTF_8));
        try (SafetensorsFile f = SafetensorsFile.open(src)) {
            assertThat(f.metadata()).containsExactly(Map.entry("format", "pt"));
            assertThat(f.tensors()).hasSize(header.size() - 1).hasSize(16);
            for (SafetensorsTensorInfo t : f.tensors().values()) {
                JsonNode e = header.get(t.name());
                long begin = e.get("data_offsets").get(0).longValue(), end = e.get("data_offsets").get(1).longValue();
                assertThat(t.begin()).isEqualTo(begin);
                assertThat(t.end()).isEqualTo(end);
                assertThat(t.dtype().name()).isEqualTo(e.get("dtype").textValue());
                assertThat(f.data(t.name()).toArray(ValueLayout.JAVA_BYTE))
                        .isEqualTo(Arrays.copyOfRange(original, (int) (8 + n + begin), (int) (8 + n + end)));
            }
            assertThat(bytesOf(SafetensorsWriter.copyOf(f))).isEqualTo(original);
            assertThat(bytesOf(SafetensorsWriter.copyOf(f).sortLikeSafetensors())).isEqualTo(original);
            Path copy = tmp.resolve("copy.safetensors");
            SafetensorsWriter.copyOf(f).write(copy);
            assertThat(Files.readAllBytes(copy)).isEqualTo(original);
        }
    }

    @Test
    void tensorViewsReverseTheShapeIntoGgmlOrder() throws IOException {
        float[] v = new float[12];
        for (int i = 0; i < v.length; i++) v[i] = i * 0.5f - 2;
        Tensor f16 = Tensor.quantize("h", GGMLType.F16, v, 4, 3);
        Tensor bf16 = Tensor.quantize("b", GGMLType.BF16, v, 4, 3);
        Path p = tmp.resolve("t.safetensors");
        new SafetensorsWriter().floats("f", v, 3, 4).tensor("h", f16).tensor("b", bf16).write(p);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertThat(f.info("h").shape()).containsExactly(3, 4);
            assertThat(f.info("b").dtype()).isEqualTo(SafetensorsDType.BF16);
            Tensor t = f.tensor("f");
            assertThat(t.type()).isEqualTo(GGMLType.F32);
            assertThat(t.ne()).containsExactly(4, 3);
            assertThat(t.rows()).isEqualTo(3);
            assertThat(t.toFloatArray()).containsExactly(v);
            assertThat(f.floats("f")).containsExactly(v);
            // F16 and BF16: the view holds the same bits, and floats() decodes them as the tensor floor does
            assertThat(f.tensor("h").toFloatArray()).containsExactly(f16.toFloatArray());
            assertThat(f.floats("h")).containsExactly(f16.toFloatArray());
            assertThat(f.floats("b")).containsExactly(bf16.toFloatArray());
            assertThat(f.data("b").toArray(ValueLayout.JAVA_BYTE)).isEqualTo(bf16.data().toArray(ValueLayout.JAVA_BYTE));
            assertThatThrownBy(() -> f.tensor("missing")).isInstanceOf(SafetensorsFormatException.class)
                    .hasMessage("t.safetensors: missing tensor 'missing'");
        }
    }

    /** Every dtype, scalars, empty tensors and awkward names and metadata survive write, read, write unchanged. */
    @Test
    void jllmFilesRoundTripEveryDtype() throws IOException {
        SafetensorsWriter w = new SafetensorsWriter()
                .metadata("format", "pt")
                .metadata("quote\" back\\ nl\n tab\t ctl\u0001 del\u007f", "ünïcødé ✓ 😀 </script>");
        int k = 0;
        for (SafetensorsDType d : SafetensorsDType.values()) {
            long[] shape = {2, 3};
            byte[] bytes = new byte[6 * d.size];
            for (int i = 0; i < bytes.length; i++) bytes[i] = (byte) (31 * i + k);
            w.tensor("t." + d + ".é", d, shape, MemorySegment.ofArray(bytes));
            k++;
        }
        w.tensor("scalar", SafetensorsDType.I64, new long[0], MemorySegment.ofArray(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}));
        w.tensor("empty", SafetensorsDType.F32, new long[] {0, 3}, MemorySegment.ofArray(new byte[0]));
        byte[] first = bytesOf(w);
        Path p = tmp.resolve("all.safetensors");
        w.write(p);
        assertThat(Files.readAllBytes(p)).isEqualTo(first);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertThat(List.copyOf(f.tensors().values())).isEqualTo(w.tensorInfos());
            assertThat(f.metadata()).containsExactly(Map.entry("format", "pt"),
                    Map.entry("quote\" back\\ nl\n tab\t ctl\u0001 del\u007f", "ünïcødé ✓ 😀 </script>"));
            assertThat(f.info("scalar").ne()).containsExactly(1);
            assertThat(f.info("scalar").numElements()).isEqualTo(1);
            assertThat(f.info("empty").byteSize()).isZero();
            assertThat(f.data("t.U16.é").toArray(ValueLayout.JAVA_BYTE)).hasSize(12);
            assertThat(bytesOf(SafetensorsWriter.copyOf(f))).isEqualTo(first);
            assertThatThrownBy(() -> f.tensor("t.I32.é")).isInstanceOf(SafetensorsFormatException.class)
                    .hasMessageContaining("'t.I32.é' has dtype I32, which is not a jllm tensor type");
            assertThatThrownBy(() -> f.tensor("empty")).isInstanceOf(SafetensorsFormatException.class)
                    .hasMessageContaining("'empty' is empty");
        }
        // the escapes are serde_json's
        String header = new String(first, 8, first.length - 8, StandardCharsets.UTF_8);
        assertThat(header).contains("\"quote\\\" back\\\\ nl\\n tab\\t ctl\\u0001 del\u007f\"");
    }

    @Test
    void sortLikeSafetensorsOrdersByDescendingDtypeThenName() {
        MemorySegment two = MemorySegment.ofArray(new byte[2]), four = MemorySegment.ofArray(new byte[4]), one = MemorySegment.ofArray(new byte[1]);
        SafetensorsWriter w = new SafetensorsWriter()
                .tensor("b", SafetensorsDType.U8, new long[] {1}, one)
                .tensor("z", SafetensorsDType.F16, new long[] {1}, two)
                .tensor("a", SafetensorsDType.F32, new long[] {1}, four)
                .tensor("c", SafetensorsDType.F16, new long[] {1}, two)
                .tensor("B", SafetensorsDType.F32, new long[] {1}, four)
                .sortLikeSafetensors();
        assertThat(w.tensorInfos().stream().map(SafetensorsTensorInfo::name)).containsExactly("B", "a", "c", "z", "b");
    }

    @Test
    void writerRejectsBadInput() {
        SafetensorsWriter w = new SafetensorsWriter().floats("x", new float[2], 2);
        assertThatThrownBy(() -> w.floats("x", new float[2], 2)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("duplicate tensor name 'x'");
        assertThatThrownBy(() -> w.floats("__metadata__", new float[2], 2)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reserved");
        assertThatThrownBy(() -> w.floats("y", new float[3], 2)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs 8 bytes but the data has 12");
        assertThatThrownBy(() -> w.tensor("q", Tensor.quantize("q", GGMLType.Q8_0, new float[32], 32)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Q8_0");
        assertThat(w.tensorInfos()).hasSize(1);
    }

    /** A write that fails half-way leaves the previous file intact and no temporary file behind. */
    @Test
    void failedWriteLeavesThePreviousFile() throws IOException {
        Path p = tmp.resolve("m.safetensors");
        new SafetensorsWriter().floats("x", new float[] {1, 2}, 2).write(p);
        byte[] before = Files.readAllBytes(p);
        Arena arena = Arena.ofConfined();
        MemorySegment doomed = arena.allocate(1 << 20);
        SafetensorsWriter w = new SafetensorsWriter().floats("a", new float[1000], 1000)
                .tensor("b", SafetensorsDType.U8, new long[] {1 << 20}, doomed);
        arena.close(); // reading "b" now throws in the middle of the write
        assertThatThrownBy(() -> w.write(p)).isInstanceOf(IllegalStateException.class);
        assertThat(Files.readAllBytes(p)).isEqualTo(before);
        try (var files = Files.list(tmp)) {
            assertThat(files.map(f -> f.getFileName().toString())).containsExactly("m.safetensors");
        }
    }

    @Test
    void shardedModelsRoundTrip() throws IOException {
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        for (int i = 0; i < 7; i++) {
            float[] v = new float[10 + i];
            for (int j = 0; j < v.length; j++) v[j] = i * 100 + j;
            w.floats("layer." + i + ".weight", v, v.length);
        }
        List<Path> shards = w.writeSharded(tmp, "model", 100); // 40, 44 | 48, 52 | 56 | 60 | 64 bytes
        assertThat(shards.stream().map(s -> s.getFileName().toString()))
                .containsExactly("model-00001-of-00005.safetensors", "model-00002-of-00005.safetensors",
                        "model-00003-of-00005.safetensors", "model-00004-of-00005.safetensors", "model-00005-of-00005.safetensors");
        JsonNode index = new ObjectMapper().readTree(tmp.resolve("model.safetensors.index.json").toFile());
        assertThat(index.get("metadata").get("total_size").longValue()).isEqualTo(w.dataSize());
        assertThat(index.get("weight_map").get("layer.6.weight").textValue()).isEqualTo("model-00005-of-00005.safetensors");
        try (SafetensorsShards s = SafetensorsShards.open(tmp.resolve("model.safetensors.index.json"))) {
            assertThat(s.shards()).hasSize(5);
            assertThat(s.totalSize()).hasValue(w.dataSize());
            assertThat(s.tensors().keySet()).containsExactly("layer.0.weight", "layer.1.weight", "layer.2.weight",
                    "layer.3.weight", "layer.4.weight", "layer.5.weight", "layer.6.weight");
            for (int i = 0; i < 7; i++) {
                float[] got = s.floats("layer." + i + ".weight");
                assertThat(got).hasSize(10 + i);
                assertThat(got[3]).isEqualTo(i * 100 + 3);
                assertThat(s.tensor("layer." + i + ".weight").toFloatArray()).containsExactly(got);
            }
            assertThat(s.shards().get(0).metadata()).containsEntry("format", "pt");
        }
    }

    @Test
    void hostileIndexFilesAreRejected() throws IOException {
        new SafetensorsWriter().floats("a", new float[] {1}, 1).floats("b", new float[] {2}, 1).floats("c", new float[] {3}, 1)
                .writeSharded(tmp, "model", 8); // a, b in the first shard, c in the second
        Path index = tmp.resolve("model.safetensors.index.json");
        String good = Files.readString(index);
        String[][] cases = {
                {good.replace("model-00001-of-00002.safetensors", "../model-00001-of-00002.safetensors"), "is not a plain file name"},
                {good.replace("model-00001-of-00002.safetensors", "/etc/passwd"), "is not a plain file name"},
                {good.replace("model-00001-of-00002.safetensors", "missing.safetensors"), "shard missing.safetensors named in weight_map does not exist"},
                {good.replace("\"a\": \"model-00001-of-00002.safetensors\"", "\"a\": \"model-00002-of-00002.safetensors\""), "tensor 'a' is in shard model-00001-of-00002.safetensors but weight_map places it in model-00002"},
                {good.replace("\"b\": \"model-00001-of-00002.safetensors\",", ""), "holds tensor 'b', which weight_map does not list"},
                {good.replace("\"weight_map\"", "\"weight_mop\""), "weight_map is missing"},
                {good.replace("\"a\": \"model-00001-of-00002.safetensors\"", "\"a\": 7"), "weight_map 'a' is a number"},
                {"{\"weight_map\": {}, \"weight_map\": {}}", "not valid JSON"},
        };
        assertThat(good).contains("\"a\": \"model-00001-of-00002.safetensors\"");
        for (String[] c : cases) {
            Path bad = tmp.resolve("bad.index.json");
            Files.writeString(bad, c[0]);
            assertThatThrownBy(() -> SafetensorsShards.open(bad).close()).as(c[1])
                    .isInstanceOf(HfFormatException.class).hasMessageStartingWith("bad.index.json: ").hasMessageContaining(c[1]);
        }
        // an extra tensor in the weight map that no shard holds
        Path extra = tmp.resolve("extra.index.json");
        Files.writeString(extra, good.replace("\"c\": \"model-00002-of-00002.safetensors\"",
                "\"c\": \"model-00002-of-00002.safetensors\", \"ghost\": \"model-00002-of-00002.safetensors\""));
        assertThatThrownBy(() -> SafetensorsShards.open(extra).close()).isInstanceOf(HfFormatException.class)
                .hasMessageContaining("places tensor 'ghost' in model-00002-of-00002.safetensors, which has no such tensor");
    }
}
