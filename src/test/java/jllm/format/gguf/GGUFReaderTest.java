package jllm.format.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import jllm.tensor.GGMLType;

/**
 * The reader against files encoded by hand from the spec ({@link RawGGUF}), against independent reads of the
 * raw bytes of a real file, and on a sparse file larger than 2 GiB.
 */
class GGUFReaderTest {
    @TempDir Path tmp;

    @ParameterizedTest(name = "v{0} alignment {1}")
    @CsvSource({"3, 32", "2, 32", "3, 64", "2, 64", "3, 1", "3, 8", "3, 4096"})
    void readsEveryMetadataTypeAndTensor(int version, int alignment) throws IOException {
        Path p = tmp.resolve("all.gguf");
        Files.write(p, AllTypesFixture.raw(version, alignment));
        try (GGUFFile f = GGUFFile.open(p)) {
            AllTypesFixture.check(f, version, alignment);
        }
    }

    @Test
    void readsTensorsWithGapsAndOutOfOrderOffsets() throws IOException {
        // Offsets need only be aligned and disjoint: "b" lies before "a" with a 64-byte gap between them.
        RawGGUF g = RawGGUF.header(3, 2, 0)
                .tensorInfo("a", GGMLType.F32.id, 128, 4)
                .tensorInfo("b", GGMLType.F32.id, 32, 2)
                .pad(32);
        int data = g.size();
        byte[] file = new byte[data + 128 + 16];
        System.arraycopy(g.toByteArray(), 0, file, 0, data);
        MemorySegment s = MemorySegment.ofArray(file);
        ValueLayout.OfFloat le = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 4; i++) s.set(le, data + 128 + 4L * i, 10f + i);
        for (int i = 0; i < 2; i++) s.set(le, data + 32 + 4L * i, -1f - i);
        Path p = tmp.resolve("gaps.gguf");
        Files.write(p, file);
        try (GGUFFile f = GGUFFile.open(p)) {
            assertThat(f.dataOffset()).isEqualTo(data);
            assertThat(f.tensorData("a").toArray(le)).containsExactly(10f, 11f, 12f, 13f);
            assertThat(f.tensorData("b").toArray(le)).containsExactly(-1f, -2f);
            assertThat(f.tensorData("a").isReadOnly()).isTrue();
        }
    }

    @Test
    void readsTheRealTinyLlamaFile() throws IOException {
        Path p = TestData.tinyRandomLlama();
        try (GGUFFile f = GGUFFile.open(p); RandomAccessFile raw = new RandomAccessFile(p.toFile(), "r")) {
            assertThat(f.version()).isEqualTo(3);
            assertThat(f.metadata()).hasSize(18);
            assertThat(f.getString("general.architecture")).isEqualTo("llama");
            assertThat(f.getInt("llama.embedding_length")).isEqualTo(8);
            assertThat(f.getInt("llama.block_count")).isEqualTo(1);
            assertThat(f.getStringArray("tokenizer.ggml.tokens")).hasSize(32_000).startsWith("<unk>", "<s>", "</s>", "<0x00>");
            assertThat(f.getFloatArray("tokenizer.ggml.scores")).hasSize(32_000);
            assertThat(f.tensors()).hasSize(12);
            GGUFTensorInfo emb = f.tensor("token_embd.weight");
            assertThat(emb.type()).isEqualTo(GGMLType.F16);
            assertThat(emb.ne()).containsExactly(8, 32_000);
            assertThat(emb.byteSize()).isEqualTo(512_000);
            GGUFTensorInfo out = f.tensor("output.weight");
            assertThat(out.offset()).isEqualTo(514_144);
            assertThat(f.tensor("blk.0.ffn_norm.weight").type()).isEqualTo(GGMLType.F32);
            // tensor bytes equal the file's bytes at dataOffset + offset, read without the mapping
            for (GGUFTensorInfo t : f.tensors().values()) {
                byte[] expected = new byte[(int) t.byteSize()];
                raw.seek(f.dataOffset() + t.offset());
                raw.readFully(expected);
                assertThat(f.tensorData(t).toArray(ValueLayout.JAVA_BYTE)).as(t.name()).isEqualTo(expected);
            }
        }
    }

    /**
     * A sparse file of just over 4 GiB: a tensor of 2 GiB + 256 bytes that crosses the 2 GiB mark and one whose
     * offset lies past it. Only a few pages hold data, so it costs no disk and little time.
     */
    @Test
    @Timeout(60)
    void readsTensorsPastTwoGiB() throws IOException {
        long big = (1L << 29) + 64; // F32 elements: 2 GiB + 256 bytes
        long bigOffset = 64;
        long farOffset = (1L << 32) + 1024; // past 4 GiB, so past any int offset
        RawGGUF g = RawGGUF.header(3, 3, 1)
                .key("general.architecture", GGUFValueType.STRING).str("sparse")
                .tensorInfo("near", GGMLType.F32.id, 0, 8)
                .tensorInfo("big", GGMLType.F32.id, bigOffset, big)
                .tensorInfo("far", GGMLType.F32.id, farOffset, 16)
                .pad(32);
        long data = g.size();
        Path p = tmp.resolve("sparse.gguf");
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.write(g.toByteArray());
            f.setLength(data + farOffset + 64);
            writeFloats(f, data, 0, 8, 1f);                                   // near: 1..8
            writeFloats(f, data + bigOffset, 0, 4, 100f);                     // big[0..3]
            writeFloats(f, data + bigOffset, big - 4, 4, 200f);               // big[n-4..n-1], past 2 GiB
            writeFloats(f, data + farOffset, 0, 16, 300f);                    // far
        }
        assertThat(Files.size(p)).isGreaterThan(1L << 32);
        ValueLayout.OfFloat le = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        try (GGUFFile f = GGUFFile.open(p)) {
            assertThat(f.tensorData("near").toArray(le)).containsExactly(1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f);
            MemorySegment b = f.tensorData("big");
            assertThat(b.byteSize()).isEqualTo(4 * big).isGreaterThan(Integer.MAX_VALUE);
            assertThat(b.get(le, 0)).isEqualTo(100f);
            assertThat(b.get(le, 12)).isEqualTo(103f);
            assertThat(b.get(le, 4 * (big - 4))).isEqualTo(200f);
            assertThat(b.get(le, 4 * (big - 1))).isEqualTo(203f);
            assertThat(b.get(le, 4 * (big / 2))).isEqualTo(0f); // a hole reads as zeros
            float[] far = f.tensorData("far").toArray(le);
            for (int i = 0; i < 16; i++) assertThat(far[i]).isEqualTo(300f + i);
            assertThat(f.tensor("far").offset()).isEqualTo(farOffset);
        }
    }

    private static void writeFloats(RandomAccessFile f, long at, long firstIndex, int n, float first) throws IOException {
        f.seek(at + 4 * firstIndex);
        for (int i = 0; i < n; i++) f.writeInt(Integer.reverseBytes(Float.floatToRawIntBits(first + i)));
    }
}
