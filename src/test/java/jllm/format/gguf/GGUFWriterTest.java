package jllm.format.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

import jllm.tensor.GGMLType;

/**
 * GGUFWriter against the spec's byte layout (hand-encoded files), byte-identical round trips of jllm's own
 * files and of real files no one on the project wrote, atomic replacement and input validation.
 */
class GGUFWriterTest {
    @TempDir Path tmp;

    private static byte[] bytesOf(GGUFWriter w) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        w.writeTo(Channels.newChannel(bos));
        return bos.toByteArray();
    }

    @ParameterizedTest(name = "v{0} alignment {1}")
    @CsvSource({"3, 32", "2, 32", "3, 64", "3, 1", "2, 256", "3, 8"})
    void writerOutputEqualsTheHandEncodedBytes(int version, int alignment) throws IOException {
        byte[] expected = AllTypesFixture.raw(version, alignment);
        assertThat(bytesOf(AllTypesFixture.writer(version, alignment))).isEqualTo(expected);
        Path p = tmp.resolve("f.gguf");
        AllTypesFixture.writer(version, alignment).write(p);
        assertThat(Files.readAllBytes(p)).isEqualTo(expected);
        try (GGUFFile f = GGUFFile.open(p)) {
            AllTypesFixture.check(f, version, alignment);
            // values compare by content, so what was read equals what was put in, nested arrays included
            assertThat(f.metadata()).isEqualTo(AllTypesFixture.writer(version, alignment).metadata());
            assertThat(List.copyOf(f.tensors().values())).isEqualTo(AllTypesFixture.writer(version, alignment).tensorInfos());
        }
    }

    @Test
    void valuesAndTensorInfosCompareByContent() {
        GGUFArray a = new GGUFArray(GGUFValueType.ARRAY, new GGUFArray[] {new GGUFArray(GGUFValueType.FLOAT32, new float[] {1f, Float.NaN})});
        GGUFArray b = new GGUFArray(GGUFValueType.ARRAY, new GGUFArray[] {new GGUFArray(GGUFValueType.FLOAT32, new float[] {1f, Float.NaN})});
        GGUFArray c = new GGUFArray(GGUFValueType.ARRAY, new GGUFArray[] {new GGUFArray(GGUFValueType.FLOAT32, new float[] {1f, 2f})});
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b).isNotEqualTo(c);
        assertThat(new GGUFArray(GGUFValueType.INT32, new int[] {1})).isNotEqualTo(new GGUFArray(GGUFValueType.UINT32, new int[] {1}));
        assertThat(new GGUFTensorInfo("t", new long[] {2, 3}, GGMLType.F32, 0, 24))
                .isEqualTo(new GGUFTensorInfo("t", new long[] {2, 3}, GGMLType.F32, 0, 24))
                .isNotEqualTo(new GGUFTensorInfo("t", new long[] {3, 2}, GGMLType.F32, 0, 24));
        assertThat(new GGUFArray(GGUFValueType.INT32, new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9}))
                .hasToString("GGUFArray[INT32 x 9: 1, 2, 3, 4, 5, 6, 7, 8, ...]");
    }

    @ParameterizedTest(name = "v{0} alignment {1}")
    @CsvSource({"3, 32", "2, 32", "3, 64", "3, 1"})
    void readingAndWritingBackIsByteIdentical(int version, int alignment) throws IOException {
        Path p = tmp.resolve("a.gguf");
        AllTypesFixture.writer(version, alignment).write(p);
        byte[] original = Files.readAllBytes(p);
        try (GGUFFile f = GGUFFile.open(p)) {
            // via the copy convenience
            assertThat(bytesOf(GGUFWriter.copyOf(f))).isEqualTo(original);
            // and spelled out: same metadata, same tensors (as views of the mapped file)
            GGUFWriter w = new GGUFWriter().version(f.version()).putAll(f.metadata());
            for (GGUFTensorInfo t : f.tensors().values()) w.tensor(t.name(), t.type(), t.ne(), f.tensorData(t));
            assertThat(bytesOf(w)).isEqualTo(original);
            // writing over the very file that is mapped: the rename leaves the mapping on the old inode
            GGUFWriter.copyOf(f).write(p);
        }
        assertThat(Files.readAllBytes(p)).isEqualTo(original);
    }

    static Stream<String> realFiles() {
        return Stream.of(
                "tokenizer/llamacpp-vocab/ggml-vocab-bert-bge.gguf",
                "tokenizer/llamacpp-vocab/ggml-vocab-deepseek-llm.gguf",
                "tokenizer/llamacpp-vocab/ggml-vocab-gpt-2.gguf",
                "tokenizer/llamacpp-vocab/ggml-vocab-llama-bpe.gguf",
                "tokenizer/llamacpp-vocab/ggml-vocab-llama-spm.gguf",
                "tokenizer/llamacpp-vocab/ggml-vocab-phi-3.gguf",
                "gguf/tiny-random-llama-gguf/llama-2-tiny-random.gguf");
    }

    /**
     * Real files written by llama.cpp's tools round-trip byte for byte. The one convention that differs between
     * them is the end: five vocab-only files (no tensors) end right after the header, while llama-bpe's is
     * padded with zeros to the alignment; copyOf infers which from the file size, and the test also pins down
     * that the two conventions differ only by those trailing zero bytes.
     */
    @ParameterizedTest
    @MethodSource("realFiles")
    void realFilesRoundTripByteForByte(String relative) throws IOException {
        Path src = TestData.file(relative);
        byte[] original = Files.readAllBytes(src);
        Path out = tmp.resolve("copy.gguf");
        try (GGUFFile f = GGUFFile.open(src)) {
            GGUFWriter w = GGUFWriter.copyOf(f);
            w.write(out);
            assertThat(Files.readAllBytes(out)).isEqualTo(original);

            // the other end convention: identical up to the original's length, then only zeros to the alignment
            byte[] other = bytesOf(GGUFWriter.copyOf(f).padEnd(!w.padEnd()));
            int common = Math.min(other.length, original.length);
            assertThat(Arrays.copyOf(other, common)).isEqualTo(Arrays.copyOf(original, common));
            byte[] longer = other.length > original.length ? other : original;
            for (int i = common; i < longer.length; i++) assertThat(longer[i]).isZero();
            assertThat((long) longer.length).isLessThanOrEqualTo(GGUFReader.alignUp(common, f.alignment()));
        }
    }

    @Test
    void realFileEndConventionsAreAsDescribed() throws IOException {
        // Pins the facts the round-trip test's comment states, so a changed test file is noticed.
        try (GGUFFile spm = GGUFFile.open(TestData.file("tokenizer/llamacpp-vocab/ggml-vocab-llama-spm.gguf"));
             GGUFFile bpe = GGUFFile.open(TestData.file("tokenizer/llamacpp-vocab/ggml-vocab-llama-bpe.gguf"));
             GGUFFile tiny = GGUFFile.open(TestData.tinyRandomLlama())) {
            assertThat(spm.fileSize()).isEqualTo(spm.headerSize()).isEqualTo(723_869);
            assertThat(GGUFWriter.copyOf(spm).padEnd()).isFalse();
            assertThat(bpe.headerSize()).isEqualTo(7_818_038);
            assertThat(bpe.fileSize()).isEqualTo(7_818_048);
            assertThat(GGUFWriter.copyOf(bpe).padEnd()).isTrue();
            assertThat(tiny.dataOffset()).isEqualTo(724_416);
            assertThat(tiny.fileSize()).isEqualTo(1_750_560);
        }
    }

    @Test
    void copyWithModifiedMetadataAndTensors() throws IOException {
        Path vocab = TestData.file("tokenizer/llamacpp-vocab/ggml-vocab-llama-spm.gguf");
        Path out = tmp.resolve("model.gguf");
        float[] w = {1f, -2f, 0.5f, 3f, 4f, 5f, 6f, 7f};
        String[] tokens;
        List<String> keys;
        try (GGUFFile f = GGUFFile.open(vocab)) {
            tokens = f.getStringArray("tokenizer.ggml.tokens");
            keys = List.copyOf(f.metadata().keySet());
            GGUFWriter.copyOf(f)
                    .put("llama.block_count", GGUFValue.ofUInt32(2))        // replaced in place
                    .remove("tokenizer.ggml.add_eos_token")
                    .put("jllm.test", GGUFValue.ofString("added"))          // appended
                    .tensor("output_norm.weight", GGMLType.F32, new long[] {8}, MemorySegment.ofArray(w))
                    .write(out);
        }
        try (GGUFFile g = GGUFFile.open(out)) {
            assertThat(g.getStringArray("tokenizer.ggml.tokens")).isEqualTo(tokens);
            assertThat(g.getLong("llama.block_count")).isEqualTo(2);
            assertThat(g.has("tokenizer.ggml.add_eos_token")).isFalse();
            List<String> expectedKeys = new java.util.ArrayList<>(keys);
            expectedKeys.remove("tokenizer.ggml.add_eos_token");
            expectedKeys.add("jllm.test");
            assertThat(g.metadata().keySet()).containsExactlyElementsOf(expectedKeys);
            assertThat(g.tensorData("output_norm.weight").toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT)).containsExactly(w);
            assertThat(g.dataOffset()).isEqualTo(GGUFReader.alignUp(g.headerSize(), 32));
            assertThat(g.fileSize()).isEqualTo(g.dataOffset() + 32); // 8 floats = 32 bytes, already aligned
        }
    }

    @Test
    void copyWithAReplacedTensorKeepsTheOrderAndRepacks() throws IOException {
        Path src = TestData.tinyRandomLlama();
        Path out = tmp.resolve("replaced.gguf");
        float[] q = new float[64];
        for (int i = 0; i < q.length; i++) q[i] = i;
        try (GGUFFile f = GGUFFile.open(src)) {
            GGUFWriter w = GGUFWriter.copyOf(f).replaceTensor("blk.0.attn_q.weight", GGMLType.F32, new long[] {8, 8}, MemorySegment.ofArray(q));
            assertThatThrownBy(() -> w.replaceTensor("nope", GGMLType.F32, new long[] {1}, MemorySegment.ofArray(new float[1])))
                    .hasMessageContaining("no tensor 'nope' to replace");
            w.write(out);
            try (GGUFFile g = GGUFFile.open(out)) {
                assertThat(g.tensors().keySet()).containsExactlyElementsOf(f.tensors().keySet());
                assertThat(g.tensorData("blk.0.attn_q.weight").toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT)).containsExactly(q);
                // F16 -> F32 doubles the 128 bytes; every later tensor moves by 128 and keeps its bytes
                for (GGUFTensorInfo t : f.tensors().values()) {
                    if (t.name().equals("blk.0.attn_q.weight")) continue;
                    long shift = t.offset() > f.tensor("blk.0.attn_q.weight").offset() ? 128 : 0;
                    assertThat(g.tensor(t.name()).offset()).as(t.name()).isEqualTo(t.offset() + shift);
                    assertThat(g.tensorData(t.name()).mismatch(f.tensorData(t))).as(t.name()).isEqualTo(-1);
                }
                assertThat(g.metadata()).isEqualTo(f.metadata());
            }
        }
    }

    @Test
    void tensorInfosGivePackedAlignedOffsets() {
        GGUFWriter w = new GGUFWriter().put("general.alignment", GGUFValue.ofUInt32(64));
        w.tensor("x", GGMLType.F32, new long[] {3}, MemorySegment.ofArray(new float[3]));        // 12 -> 64
        w.tensor("y", GGMLType.Q8_0, new long[] {32, 3}, MemorySegment.ofArray(new byte[102]));  // 102 -> 128
        w.tensor("z", GGMLType.F16, new long[] {1}, MemorySegment.ofArray(new byte[2]));
        assertThat(w.tensorInfos()).extracting(GGUFTensorInfo::offset).containsExactly(0L, 64L, 192L);
        assertThat(w.tensorInfos()).extracting(GGUFTensorInfo::byteSize).containsExactly(12L, 102L, 2L);
        assertThat(w.alignment()).isEqualTo(64);
    }

    @Test
    void tensorsLargerThanTheWriteBufferFromFloatArraysAndStreams() throws IOException {
        // 3 MiB + 12 bytes each: several passes through the 1 MiB buffer, and padding after each
        int n = (3 << 18) + 3;
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = i * 0.5f - 7f;
        Path p = tmp.resolve("big.gguf");
        new GGUFWriter()
                .tensor("a", GGMLType.F32, new long[] {n}, MemorySegment.ofArray(a)) // a heap segment over a float[]
                .tensor("b", GGMLType.F32, new long[] {n}, out -> {
                    ByteBuffer chunk = ByteBuffer.allocate(4096).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                    for (int i = 0; i < n; i++) {
                        chunk.putFloat(-a[i]);
                        if (!chunk.hasRemaining() || i == n - 1) {
                            chunk.flip();
                            out.write(chunk);
                            chunk.clear();
                        }
                    }
                })
                .write(p);
        java.lang.foreign.ValueLayout.OfFloat le = java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
        try (GGUFFile f = GGUFFile.open(p)) {
            float[] ra = f.tensorData("a").toArray(le), rb = f.tensorData("b").toArray(le);
            for (int i = 0; i < n; i++) {
                if (ra[i] != a[i] || rb[i] != -a[i]) throw new AssertionError("element " + i + ": " + ra[i] + ", " + rb[i]);
            }
            assertThat(f.tensor("b").offset()).isEqualTo(GGUFReader.alignUp(4L * n, 32));
            assertThat(f.fileSize()).isEqualTo(f.dataOffset() + 2 * GGUFReader.alignUp(4L * n, 32));
        }
    }

    // ---- atomic replacement ----

    private static List<Path> leftovers(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList();
        }
    }

    @Test
    void whileWritingTheOldFileIsIntactAndTheNewOneIsATempFileInTheSameFolder() throws IOException {
        Path target = tmp.resolve("m.gguf");
        Files.write(target, new byte[] {1, 2, 3});
        boolean[] checked = {false};
        new GGUFWriter().tensor("t", GGMLType.F32, new long[] {4}, out -> {
            // a crash here would leave exactly this state: the old file, and a temp file beside it
            assertThat(Files.readAllBytes(target)).containsExactly(1, 2, 3);
            assertThat(leftovers(tmp)).singleElement()
                    .satisfies(p -> assertThat(p.getFileName().toString()).startsWith(".m.gguf."));
            out.write(ByteBuffer.allocate(16));
            checked[0] = true;
        }).write(target);
        assertThat(checked[0]).isTrue();
        assertThat(leftovers(tmp)).isEmpty();
        try (GGUFFile f = GGUFFile.open(target)) {
            assertThat(f.tensor("t").byteSize()).isEqualTo(16);
        }
    }

    @Test
    void aFailingSourceLeavesTheTargetUnchangedAndNoTempFile() throws IOException {
        Path target = tmp.resolve("m.gguf");
        Files.write(target, new byte[] {9, 9});
        GGUFWriter failing = new GGUFWriter().tensor("t", GGMLType.F32, new long[] {1024}, out -> {
            out.write(ByteBuffer.allocate(100));
            throw new IOException("disk on fire");
        });
        assertThatThrownBy(() -> failing.write(target)).isInstanceOf(IOException.class).hasMessage("disk on fire");
        assertThat(Files.readAllBytes(target)).containsExactly(9, 9);
        assertThat(leftovers(tmp)).isEmpty();

        GGUFWriter tooShort = new GGUFWriter().tensor("short", GGMLType.F32, new long[] {4}, out -> out.write(ByteBuffer.allocate(15)));
        assertThatThrownBy(() -> tooShort.write(target)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'short'").hasMessageContaining("wrote 15 bytes, expected 16");
        GGUFWriter tooLong = new GGUFWriter().tensor("long", GGMLType.F32, new long[] {4}, out -> out.write(ByteBuffer.allocate(17)));
        assertThatThrownBy(() -> tooLong.write(target)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'long'").hasMessageContaining("more than its 16 bytes");
        assertThat(Files.readAllBytes(target)).containsExactly(9, 9);
        assertThat(leftovers(tmp)).isEmpty();
        assertThat(Files.exists(tmp.resolve("new.gguf"))).isFalse();
        assertThatThrownBy(() -> tooShort.write(tmp.resolve("new.gguf"))).isInstanceOf(IllegalStateException.class);
        assertThat(Files.exists(tmp.resolve("new.gguf"))).isFalse();
    }

    // ---- validation ----

    @Test
    void rejectsWhatTheReaderWouldReject() {
        GGUFWriter w = new GGUFWriter();
        MemorySegment four = MemorySegment.ofArray(new byte[16]);
        w.tensor("t", GGMLType.F32, new long[] {4}, four);
        assertThatThrownBy(() -> w.tensor("t", GGMLType.F32, new long[] {4}, four)).hasMessageContaining("duplicate tensor name 't'");
        assertThatThrownBy(() -> w.tensor("u", GGMLType.F32, new long[] {5}, four)).hasMessageContaining("data has 16 bytes").hasMessageContaining("needs 20");
        assertThatThrownBy(() -> w.tensor("u", GGMLType.F32, new long[] {}, four)).hasMessageContaining("n_dims 0");
        assertThatThrownBy(() -> w.tensor("u", GGMLType.F32, new long[] {1, 1, 1, 1, 4}, four)).hasMessageContaining("n_dims 5");
        assertThatThrownBy(() -> w.tensor("u", GGMLType.F32, new long[] {4, 0}, four)).hasMessageContaining("ne[1] = 0");
        assertThatThrownBy(() -> w.tensor("u", GGMLType.F32, new long[] {4, -1}, four)).hasMessageContaining("ne[1] = -1");
        assertThatThrownBy(() -> w.tensor("u", GGMLType.Q8_0, new long[] {16}, four)).hasMessageContaining("ne[0] = 16").hasMessageContaining("block size 32");
        assertThatThrownBy(() -> w.tensor("u", GGMLType.F32, new long[] {1L << 32, 1L << 32}, four)).hasMessageContaining("overflows");
        assertThatThrownBy(() -> w.tensor("u", GGMLType.F32, new long[] {1L << 31, 1L << 31}, four)).hasMessageContaining("byte size");
        assertThatThrownBy(() -> w.put("general.alignment", GGUFValue.ofUInt32(48))).hasMessageContaining("general.alignment 48");
        assertThatThrownBy(() -> w.put("general.alignment", GGUFValue.ofFloat32(32))).hasMessageContaining("FLOAT32");
        assertThatThrownBy(() -> w.put("s", GGUFValue.ofString("bad \ud800 surrogate"))).hasMessageContaining("metadata 's'").hasMessageContaining("surrogate");
        assertThatThrownBy(() -> w.put("k".repeat(65_536), GGUFValue.ofBool(true))).hasMessageContaining("65536 UTF-8 bytes");
        assertThatThrownBy(() -> new GGUFWriter().version(1)).hasMessageContaining("version 1");
        GGUFArray deep = new GGUFArray(GGUFValueType.INT32, new int[] {1});
        for (int i = 0; i < 8; i++) deep = new GGUFArray(GGUFValueType.ARRAY, new GGUFArray[] {deep});
        GGUFValue nine = GGUFValue.ofArray(deep);
        assertThatThrownBy(() -> w.put("deep", nine)).hasMessageContaining("nested deeper than 8");
        assertThatThrownBy(() -> w.put("nulls", AllTypesFixture.arr(GGUFValueType.STRING, new String[] {"a", null}))).hasMessageContaining("nulls'[1] is null");
        // what was refused left the writer unchanged
        assertThat(w.metadata()).isEmpty();
        assertThat(w.tensorInfos()).hasSize(1);
    }

    @Test
    void eightNestingLevelsAreWrittenAndReadBack() throws IOException {
        GGUFArray deep = new GGUFArray(GGUFValueType.INT32, new int[] {42});
        for (int i = 0; i < 7; i++) deep = new GGUFArray(GGUFValueType.ARRAY, new GGUFArray[] {deep});
        Path p = tmp.resolve("deep.gguf");
        new GGUFWriter().put("deep", GGUFValue.ofArray(deep)).write(p);
        try (GGUFFile f = GGUFFile.open(p)) {
            GGUFArray a = f.getArray("deep");
            for (int i = 0; i < 7; i++) a = ((GGUFArray[]) a.values())[0];
            assertThat((int[]) a.values()).containsExactly(42);
        }
    }
}
