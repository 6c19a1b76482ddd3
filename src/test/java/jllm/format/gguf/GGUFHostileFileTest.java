package jllm.format.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import jllm.tensor.GGMLType;

/**
 * Malformed, truncated and hostile GGUF files: each must give a {@link GGUFFormatException} whose message names
 * the field and the bad value; never another exception, an OutOfMemoryError or a hang.
 */
class GGUFHostileFileTest {
    @TempDir Path tmp;

    private static final int F32 = GGMLType.F32.id;
    private static final long U64_MAX = -1L;

    private Path write(byte[] b) throws IOException {
        return Files.write(tmp.resolve("hostile.gguf"), b);
    }

    private void rejected(RawGGUF g, String... fragments) throws IOException {
        rejected(g.toByteArray(), fragments);
    }

    private void rejected(byte[] file, String... fragments) throws IOException {
        Path p = write(file);
        assertThatThrownBy(() -> GGUFFile.open(p).close())
                .isInstanceOf(GGUFFormatException.class)
                .hasMessageStartingWith("hostile.gguf: ")
                .hasMessageContainingAll(fragments);
    }

    /** A valid tail after the counts: one F32 tensor "t" of 4 elements at offset 0, its data, padded. */
    private static RawGGUF withTensor(RawGGUF g, int typeId, long offset, long... ne) {
        return g.tensorInfo("t", typeId, offset, ne).pad(32).zeros(64);
    }

    @Test
    void badMagic() throws IOException {
        byte[] ok = RawGGUF.header(3, 0, 0).toByteArray();
        byte[] b = ok.clone();
        b[3] = 'G';
        rejected(b, "bad magic 0x47475547");
        b = ok.clone();
        System.arraycopy("GGML".getBytes(), 0, b, 0, 4);
        rejected(b, "bad magic 0x47474d4c");
        rejected(new byte[24], "bad magic 0x0");
        Path p = write(ok);
        try (GGUFFile f = GGUFFile.open(p)) {
            assertThat(f.metadata()).isEmpty();
            assertThat(f.tensors()).isEmpty();
        }
    }

    @Test
    void unsupportedVersionsAndBigEndian() throws IOException {
        rejected(RawGGUF.header(1, 0, 0), "unsupported version 1");
        rejected(RawGGUF.header(4, 0, 0), "unsupported version 4");
        rejected(RawGGUF.header(-1, 0, 0), "unsupported version 4294967295");
        rejected(RawGGUF.header(Integer.reverseBytes(3), 0, 0), "big-endian");
    }

    @Test
    void filesShorterThanAHeader() throws IOException {
        byte[] ok = RawGGUF.header(3, 0, 0).toByteArray();
        for (int n = 0; n < ok.length; n++) rejected(Arrays.copyOf(ok, n), "truncated header", "has " + n + " bytes");
    }

    @Test
    void absurdCounts() throws IOException {
        rejected(RawGGUF.header(3, U64_MAX, 0), "tensor_count 18446744073709551615");
        rejected(RawGGUF.header(3, 1L << 40, 0), "tensor_count 1099511627776");
        rejected(RawGGUF.header(3, 1, 0), "tensor_count 1 is impossible for a file of 24 bytes");
        rejected(RawGGUF.header(3, 0, U64_MAX), "metadata_kv_count 18446744073709551615");
        rejected(RawGGUF.header(3, 0, 1L << 62), "metadata_kv_count 4611686018427387904");
        // a count that fits the file's size but not its content
        rejected(RawGGUF.header(3, 0, 2).key("k", GGUFValueType.UINT32).u32(1).key("k2", GGUFValueType.UINT64).u32(0),
                "truncated file: metadata 'k2' at offset 55 needs 8 bytes, file has 59");
    }

    @Test
    void stringsLongerThanTheFile() throws IOException {
        rejected(RawGGUF.header(3, 0, 1).u64(1L << 40).zeros(16), "metadata key #0", "string length 1099511627776 exceeds");
        rejected(RawGGUF.header(3, 0, 1).u64(U64_MAX).zeros(16), "metadata key #0", "string length 18446744073709551615");
        rejected(RawGGUF.header(3, 0, 1).key("s", GGUFValueType.STRING).u64(1000).bytes("abc".getBytes()),
                "metadata 's'", "string length 1000 exceeds the 3 bytes left");
        rejected(RawGGUF.header(3, 0, 1).key("a", GGUFValueType.ARRAY).u32(GGUFValueType.STRING.id).u64(2).str("x").u64(99),
                "metadata 'a'[1]", "string length 99");
        rejected(RawGGUF.header(3, 1, 0).u64(500).zeros(40), "name of tensor #0", "string length 500");
        RawGGUF longKey = RawGGUF.header(3, 0, 1).str("k".repeat(70_000)).u32(GGUFValueType.UINT8.id).u8(1);
        rejected(longKey, "metadata key #0", "string length 70000 is too long");
    }

    @Test
    void absurdArrays() throws IOException {
        rejected(RawGGUF.header(3, 0, 1).key("a", GGUFValueType.ARRAY).u32(GGUFValueType.INT32.id).u64(1L << 62).zeros(16),
                "metadata 'a'", "array length 4611686018427387904 of INT32");
        rejected(RawGGUF.header(3, 0, 1).key("a", GGUFValueType.ARRAY).u32(GGUFValueType.UINT8.id).u64(U64_MAX).zeros(16),
                "array length 18446744073709551615");
        rejected(RawGGUF.header(3, 0, 1).key("a", GGUFValueType.ARRAY).u32(GGUFValueType.INT32.id).u64(3).u32(1).u32(2),
                "array length 3 of INT32 exceeds the 8 bytes left");
        rejected(RawGGUF.header(3, 0, 1).key("a", GGUFValueType.ARRAY).u32(GGUFValueType.STRING.id).u64(1_000_000).zeros(100),
                "array length 1000000 of STRING");
        rejected(RawGGUF.header(3, 0, 1).key("a", GGUFValueType.ARRAY).u32(GGUFValueType.ARRAY.id).u64(1L << 40).zeros(100),
                "array length 1099511627776 of ARRAY");
        RawGGUF deep = RawGGUF.header(3, 0, 1).key("deep", GGUFValueType.ARRAY);
        for (int i = 0; i < 8; i++) deep.u32(GGUFValueType.ARRAY.id).u64(1);
        deep.u32(GGUFValueType.INT32.id).u64(1).u32(7);
        rejected(deep, "metadata 'deep'[0][0][0][0][0][0][0][0]", "nested deeper than 8");
    }

    @Test
    void badDimensions() throws IOException {
        rejected(withTensor(RawGGUF.header(3, 1, 0), F32, 0), "tensor 't'", "n_dims 0 is not in 1..4");
        rejected(withTensor(RawGGUF.header(3, 1, 0), F32, 0, 1, 1, 1, 1, 4), "tensor 't'", "n_dims 5");
        rejected(RawGGUF.header(3, 1, 0).str("t").u32(-1).zeros(64), "n_dims 4294967295");
        rejected(withTensor(RawGGUF.header(3, 1, 0), F32, 0, 4, 0), "tensor 't'", "ne[1] = 0 is not positive");
        rejected(withTensor(RawGGUF.header(3, 1, 0), F32, 0, U64_MAX), "ne[0] = 18446744073709551615 is not positive");
        rejected(withTensor(RawGGUF.header(3, 1, 0), F32, 0, 1L << 32, 1L << 32), "tensor 't'", "element count overflows");
        rejected(withTensor(RawGGUF.header(3, 1, 0), F32, 0, 1L << 31, 1L << 31), "tensor 't'", "byte size", "overflows");
        rejected(withTensor(RawGGUF.header(3, 1, 0), GGMLType.Q8_0.id, 0, 16), "ne[0] = 16 is not a multiple of Q8_0's block size 32");
    }

    @Test
    void unknownTypeIds() throws IOException {
        rejected(RawGGUF.header(3, 0, 1).str("k").u32(13).u32(0), "metadata 'k'", "unknown metadata value type 13");
        rejected(RawGGUF.header(3, 0, 1).str("k").u32(-1).u32(0), "unknown metadata value type 4294967295");
        rejected(RawGGUF.header(3, 0, 1).key("a", GGUFValueType.ARRAY).u32(77).u64(0), "metadata 'a' array", "unknown metadata value type 77");
        rejected(withTensor(RawGGUF.header(3, 1, 0), 4, 0, 32), "tensor 't'", "unsupported GGML tensor type id 4");
        rejected(withTensor(RawGGUF.header(3, 1, 0), 999, 0, 32), "tensor 't'", "type id 999");
    }

    @Test
    void badOffsets() throws IOException {
        rejected(withTensor(RawGGUF.header(3, 1, 0), F32, 16, 4), "tensor 't'", "offset 16 is not a multiple of the alignment 32");
        rejected(withTensor(RawGGUF.header(3, 1, 1).key("general.alignment", GGUFValueType.UINT32).u32(64), F32, 32, 4),
                "offset 32 is not a multiple of the alignment 64");
        rejected(withTensor(RawGGUF.header(3, 1, 0), F32, 1L << 40, 4), "offset 1099511627776 lies past the end");
        rejected(withTensor(RawGGUF.header(3, 1, 0), F32, -32, 4), "offset 18446744073709551584 lies past the end");
        // in the file, but the data runs past its end (64 bytes of data section, tensor of 16 bytes at 64)
        rejected(withTensor(RawGGUF.header(3, 1, 0), F32, 64, 4), "tensor 't'", "16 bytes at offset 64 run past the end of the data section (64 bytes");
        rejected(withTensor(RawGGUF.header(3, 1, 0), F32, 32, 16), "64 bytes at offset 32 run past");
        // the data section itself starts past the end: header padding missing
        rejected(RawGGUF.header(3, 1, 0).tensorInfo("t", F32, 0, 4).u8(0), "tensor data section would start at");
    }

    @Test
    void overlappingTensors() throws IOException {
        RawGGUF g = RawGGUF.header(3, 2, 0).tensorInfo("a", F32, 0, 16).tensorInfo("b", F32, 32, 4).pad(32).zeros(128);
        rejected(g, "tensors 'a' and 'b' overlap at offset 32");
        g = RawGGUF.header(3, 2, 0).tensorInfo("a", F32, 64, 4).tensorInfo("b", F32, 64, 4).pad(32).zeros(128);
        rejected(g, "overlap at offset 64");
    }

    @Test
    void duplicates() throws IOException {
        rejected(RawGGUF.header(3, 0, 2).key("k", GGUFValueType.UINT8).u8(1).key("k", GGUFValueType.UINT8).u8(2),
                "duplicate metadata key 'k'");
        rejected(RawGGUF.header(3, 2, 0).tensorInfo("t", F32, 0, 4).tensorInfo("t", F32, 32, 4).pad(32).zeros(64),
                "duplicate tensor name 't'");
    }

    @Test
    void boolsOtherThanZeroOrOne() throws IOException {
        rejected(RawGGUF.header(3, 0, 1).key("b", GGUFValueType.BOOL).u8(2), "metadata 'b'", "bool value 2 is not 0 or 1");
        rejected(RawGGUF.header(3, 0, 1).key("b", GGUFValueType.ARRAY).u32(GGUFValueType.BOOL.id).u64(2).u8(1).u8(-1),
                "metadata 'b'[1]", "bool value -1");
    }

    @Test
    void badAlignment() throws IOException {
        for (int a : new int[] {0, 3, 48, 1 << 31}) {
            rejected(RawGGUF.header(3, 0, 1).key("general.alignment", GGUFValueType.UINT32).u32(a),
                    "general.alignment " + Integer.toUnsignedString(a) + " is not a power of two");
        }
        rejected(RawGGUF.header(3, 0, 1).key("general.alignment", GGUFValueType.INT64).u64(-32), "general.alignment 18446744073709551584");
        rejected(RawGGUF.header(3, 0, 1).key("general.alignment", GGUFValueType.BOOL).u8(1), "general.alignment has type BOOL");
        rejected(RawGGUF.header(3, 0, 1).key("general.alignment", GGUFValueType.FLOAT32).f32(32), "general.alignment has type FLOAT32");
        rejected(RawGGUF.header(3, 0, 1).key("general.alignment", GGUFValueType.STRING).str("32"), "general.alignment has type STRING");
    }

    /**
     * Every prefix of a valid file: shorter than its content, a GGUFFormatException; from the end of the last
     * tensor on (only trailing padding missing), a valid file.
     */
    @Test
    @Timeout(120)
    void everyTruncation() throws IOException {
        byte[] full = AllTypesFixture.raw(3, 32);
        long contentEnd;
        try (GGUFFile f = GGUFFile.open(write(full))) {
            contentEnd = f.tensors().values().stream().mapToLong(t -> f.dataOffset() + t.offset() + t.byteSize()).max().orElseThrow();
        }
        assertThat(contentEnd).isLessThan(full.length); // the fixture has trailing padding, so both cases occur
        int rejectedCount = 0;
        for (int n = 0; n <= full.length; n++) {
            Path p = write(Arrays.copyOf(full, n));
            if (n < contentEnd) {
                int len = n;
                assertThatThrownBy(() -> GGUFFile.open(p).close()).as("prefix of %d bytes", len)
                        .isInstanceOf(GGUFFormatException.class)
                        .message().matches(m -> m.contains("truncated") || m.contains("exceeds") || m.contains("impossible")
                                || m.contains("past the end"), "names the truncation");
                rejectedCount++;
            } else {
                try (GGUFFile f = GGUFFile.open(p)) {
                    assertThat(f.tensors()).hasSize(4);
                }
            }
        }
        assertThat(rejectedCount).isEqualTo((int) contentEnd);
    }

    /**
     * 2000 seeded random mutations of a valid file (byte flips, hostile integers written over fields, cuts,
     * duplicated or deleted chunks). Each must open (then every value and tensor byte is readable) or give a
     * GGUFFormatException; the whole run has a time limit.
     */
    @Test
    @Timeout(180)
    void randomMutations() throws IOException {
        byte[] base = AllTypesFixture.raw(3, 32);
        long[] hostile = {0, 1, 2, 3, 31, 32, 33, 255, 0xFFFF, 0x7FFF_FFFFL, 0x8000_0000L, 0xFFFF_FFFFL, 1L << 32, 1L << 40,
                Long.MAX_VALUE, Long.MIN_VALUE, -1, -32};
        int ok = 0, bad = 0;
        for (int seed = 0; seed < 2000; seed++) {
            Random r = new Random(seed);
            byte[] b = base.clone();
            int ops = 1 + r.nextInt(4);
            for (int k = 0; k < ops && b.length > 8; k++) {
                switch (r.nextInt(6)) {
                    case 0, 1 -> b[r.nextInt(b.length)] = (byte) r.nextInt(256);
                    case 2 -> b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
                    case 3 -> {
                        long v = hostile[r.nextInt(hostile.length)];
                        int width = r.nextBoolean() ? 4 : 8;
                        int at = r.nextInt(b.length - width);
                        for (int i = 0; i < width; i++) b[at + i] = (byte) (v >>> (8 * i));
                    }
                    case 4 -> b = Arrays.copyOf(b, r.nextInt(b.length));
                    default -> {
                        int from = r.nextInt(b.length), len = r.nextInt(Math.min(64, b.length - from) + 1);
                        byte[] c = new byte[b.length + (r.nextBoolean() ? len : -len)];
                        if (c.length > b.length) { // duplicate [from, from+len)
                            System.arraycopy(b, 0, c, 0, from + len);
                            System.arraycopy(b, from, c, from + len, b.length - from);
                        } else { // delete it
                            System.arraycopy(b, 0, c, 0, from);
                            System.arraycopy(b, from + len, c, from, b.length - from - len);
                        }
                        b = c;
                    }
                }
            }
            Path p = write(b);
            try (GGUFFile f = GGUFFile.open(p)) {
                for (GGUFValue v : f.metadata().values()) assertThat(v).isNotNull();
                for (GGUFTensorInfo t : f.tensors().values()) assertThat(f.tensorData(t).toArray(ValueLayout.JAVA_BYTE)).hasSize((int) t.byteSize());
                ok++;
            } catch (GGUFFormatException e) {
                assertThat(e.getMessage()).as("seed %d", seed).startsWith("hostile.gguf: ");
                bad++;
            } catch (Throwable t) {
                fail("seed " + seed + ": " + t.getClass().getName() + " instead of GGUFFormatException", t);
            }
        }
        // both outcomes occur, so the loop exercised the parser's error paths and its success path
        assertThat(ok).isGreaterThan(20);
        assertThat(bad).isGreaterThan(1000);
    }
}
