package jllm.format.hf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Malformed, truncated and hostile safetensors files: each must give a {@link SafetensorsFormatException} whose
 * message names the file, the field and the bad value; never another exception, an OutOfMemoryError or a hang.
 * The rules are those of the reference reader (safetensors/src/tensor.rs: HeaderTooLarge, InvalidHeaderLength,
 * InvalidHeader, InvalidHeaderStart, InvalidHeaderDeserialization, InvalidOffset, TensorInvalidInfo,
 * ValidationOverflow, MetadataIncompleteBuffer).
 */
class SafetensorsHostileFileTest {
    @TempDir Path tmp;

    private Path write(byte[] b) throws IOException {
        return Files.write(tmp.resolve("hostile.safetensors"), b);
    }

    /** A file whose header is exactly {@code json} (no padding), followed by {@code dataBytes} zero bytes. */
    private static byte[] raw(String json, int dataBytes) {
        return raw(json.getBytes(StandardCharsets.UTF_8), json.getBytes(StandardCharsets.UTF_8).length, dataBytes);
    }

    private static byte[] raw(byte[] header, long declaredLength, int dataBytes) {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredLength).put(header);
        return b.array();
    }

    private static String entry(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    private void rejected(byte[] file, String... fragments) throws IOException {
        Path p = write(file);
        assertThatThrownBy(() -> SafetensorsFile.open(p).close())
                .isInstanceOf(SafetensorsFormatException.class)
                .hasMessageStartingWith("hostile.safetensors: ")
                .hasMessageContainingAll(fragments);
    }

    private void accepted(byte[] file) throws IOException {
        SafetensorsFile.open(write(file)).close();
    }

    /** A valid file: metadata and four tensors of three dtypes, one of them empty, written by jllm's writer. */
    private static byte[] fixture() throws IOException {
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt").metadata("note", "fixture")
                .floats("a.weight", new float[] {1, 2, 3, 4, 5, 6}, 2, 3)
                .tensor("b.bias", SafetensorsDType.F16, new long[] {4}, MemorySegment.ofArray(new byte[] {0, 60, 0, 64, 0, -68, 0, 0}))
                .tensor("c.ids", SafetensorsDType.I64, new long[] {1, 2}, MemorySegment.ofArray(new byte[16]))
                .tensor("d.empty", SafetensorsDType.BF16, new long[] {0}, MemorySegment.ofArray(new byte[0]));
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        w.writeTo(Channels.newChannel(bos));
        return bos.toByteArray();
    }

    @Test
    void theFixtureIsValid() throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(write(fixture()))) {
            assertThat(f.tensors()).hasSize(4);
            assertThat(f.floats("b.bias")).containsExactly(1f, 2f, -1f, 0f);
        }
    }

    @Test
    void headerLengthField() throws IOException {
        for (int n = 0; n < 8; n++) rejected(new byte[n], "truncated file: " + n + " bytes");
        rejected(raw(new byte[0], -1L, 0), "header length 18446744073709551615 exceeds the limit of 100000000 bytes");
        rejected(raw(new byte[0], Long.MIN_VALUE, 0), "header length 9223372036854775808 exceeds the limit");
        rejected(raw(new byte[0], 100_000_001L, 0), "header length 100000001 exceeds the limit");
        rejected(raw("{}".getBytes(), 3, 0), "header length 3 runs past the end of the file (10 bytes; truncated?)");
        rejected(raw(new byte[0], 0, 0), "does not start with '{' (header length 0)");
        accepted(raw("{}", 0));
        accepted(raw("{}      ", 0));
    }

    @Test
    void headerTextAndJson() throws IOException {
        rejected(raw(" {}", 0), "does not start with '{' (first byte 0x20)");
        rejected(raw("[]", 0), "does not start with '{'");
        rejected(raw(new byte[] {'{', '"', (byte) 0xC3, '"', ':', '1', '}'}, 7, 0), "header is not valid UTF-8");
        rejected(raw(new byte[] {'{', '"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"', '}'}, 7, 0), "header is not valid UTF-8"); // a surrogate
        rejected(raw("{\"a\":", 0), "header is not valid JSON");
        rejected(raw("{} {}", 0), "header is not valid JSON");
        rejected(raw("{}\u0000", 0), "header is not valid JSON");
        rejected(raw("{\"__metadata__\":{},\"__metadata__\":{}}", 0), "header is not valid JSON", "Duplicate field '__metadata__'");
        rejected(raw("{" + entry("x", "U8", "[1]", 0, 1) + "," + entry("x", "U8", "[1]", 1, 2) + "}", 2), "Duplicate field 'x'");
        rejected(raw("{\"a\":" + "[".repeat(5000) + "]".repeat(5000) + "}", 0), "header is not valid JSON");
    }

    @Test
    void metadataEntry() throws IOException {
        rejected(raw("{\"__metadata__\":[]}", 0), "__metadata__ is an array, expected an object of strings");
        rejected(raw("{\"__metadata__\":{\"format\":1}}", 0), "__metadata__ 'format' is a number, expected a string");
        rejected(raw("{\"__metadata__\":{\"format\":null}}", 0), "__metadata__ 'format' is null");
        accepted(raw("{\"__metadata__\":{}}", 0));
    }

    @Test
    void tensorEntries() throws IOException {
        rejected(raw("{\"t\":[]}", 0), "tensor 't' is an array, expected an object");
        rejected(raw("{\"t\":{\"shape\":[1],\"data_offsets\":[0,1]}}", 1), "tensor 't': missing dtype");
        rejected(raw("{\"t\":{\"dtype\":3,\"shape\":[1],\"data_offsets\":[0,1]}}", 1), "tensor 't': dtype is a number");
        rejected(raw("{" + entry("t", "F128", "[1]", 0, 16) + "}", 16), "tensor 't': unknown dtype \"F128\"");
        rejected(raw("{" + entry("t", "f32", "[1]", 0, 4) + "}", 4), "unknown dtype \"f32\"");
        rejected(raw("{\"t\":{\"dtype\":\"U8\",\"data_offsets\":[0,1]}}", 1), "tensor 't': missing shape");
        rejected(raw("{\"t\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1), "tensor 't': missing data_offsets");
        rejected(raw("{" + entry("t", "U8", "{}", 0, 1) + "}", 1), "tensor 't': shape is an object");
        rejected(raw("{" + entry("t", "U8", "[-1]", 0, 1) + "}", 1), "tensor 't': shape[0] = -1 is not a non-negative integer");
        rejected(raw("{" + entry("t", "U8", "[1.0]", 0, 1) + "}", 1), "shape[0] = 1.0 is not a non-negative integer");
        rejected(raw("{" + entry("t", "U8", "[\"1\"]", 0, 1) + "}", 1), "shape[0] = \"1\" is not");
        rejected(raw("{" + entry("t", "U8", "[1,18446744073709551616]", 0, 1) + "}", 1), "shape[1] = 18446744073709551616 is not");
        rejected(raw("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0]}}", 1), "data_offsets has 1 elements, expected 2");
        rejected(raw("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1,2]}}", 1), "data_offsets has 3 elements, expected 2");
        rejected(raw("{" + entry("t", "U8", "[1]", -1, 1) + "}", 1), "data_offsets[0] = -1 is not a non-negative integer");
        rejected(raw("{" + entry("t", "U8", "[0]", 1, 0) + "}", 1), "data_offsets [1, 0] end before they begin");
        rejected(raw("{" + entry("t", "F32", "[2,3]", 0, 20) + "}", 20), "tensor 't': data_offsets [0, 20] hold 20 bytes but F32 [2, 3] needs 24");
        rejected(raw("{" + entry("t", "U8", "[4294967296,4294967296]", 0, 1) + "}", 1), "element count of shape [4294967296, 4294967296] overflows");
        rejected(raw("{" + entry("t", "F64", "[2305843009213693952]", 0, 1) + "}", 1), "byte size of 2305843009213693952 F64 elements overflows");
        // unknown fields inside an entry are ignored, as the reference ignores them
        accepted(raw("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"extra\":[1,2]}}", 1));
    }

    @Test
    void dataSectionLayout() throws IOException {
        String a = entry("a", "U8", "[2]", 0, 2), b = entry("b", "U8", "[2]", 2, 4);
        accepted(raw("{" + b + "," + a + "}", 4)); // header order need not be data order
        rejected(raw("{" + a + "," + b + "}", 3), "tensor 'b': data_offsets [2, 4] run past the end of the data section (3 bytes; file truncated?)");
        rejected(raw("{" + a + "," + b + "}", 5), "the data section has 5 bytes but the tensors cover 4 (trailing bytes after the last tensor)");
        rejected(raw("{" + entry("a", "U8", "[2]", 1, 3) + "}", 3), "tensor 'a': data_offsets begin at 1, leaving a gap after the start of the data section at 0");
        rejected(raw("{" + a + "," + entry("b", "U8", "[2]", 3, 5) + "}", 5), "tensor 'b': data_offsets begin at 3, leaving a gap after tensor 'a' at 2");
        rejected(raw("{" + a + "," + entry("b", "U8", "[2]", 1, 3) + "}", 3), "tensors 'a' and 'b' overlap: 'b' begins at 1, before 2");
        rejected(raw("{" + a + "," + entry("b", "U8", "[2]", 0, 2) + "}", 2), "overlap");
        rejected(raw("{}", 1), "the data section has 1 bytes but the tensors cover 0");
        // empty tensors take no room, anywhere
        accepted(raw("{" + a + "," + entry("e", "F32", "[0,5]", 2, 2) + "," + b + "}", 4));
        accepted(raw("{" + entry("e", "F32", "[3,0]", 0, 0) + "}", 0));
    }

    /** Every proper prefix of a valid file is rejected as truncated; the whole file opens. */
    @Test
    @Timeout(120)
    void everyTruncation() throws IOException {
        byte[] full = fixture();
        for (int n = 0; n < full.length; n++) {
            int len = n;
            Path p = write(Arrays.copyOf(full, n));
            assertThatThrownBy(() -> SafetensorsFile.open(p).close()).as("prefix of %d bytes", len)
                    .isInstanceOf(SafetensorsFormatException.class)
                    .message().matches(m -> m.contains("truncated") || m.contains("past the end"), "names the truncation");
        }
        accepted(full);
        byte[] longer = Arrays.copyOf(full, full.length + 1);
        rejected(longer, "trailing bytes");
    }

    /**
     * 3000 seeded random mutations of a valid file (byte flips, hostile integers written over the length or into the
     * header, cuts, duplicated or deleted chunks). Each must open (then every tensor's bytes are readable) or give a
     * SafetensorsFormatException; the whole run has a time limit.
     */
    @Test
    @Timeout(180)
    void randomMutations() throws IOException {
        byte[] base = fixture();
        int headerEnd = 8 + (int) ByteBuffer.wrap(base).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        long[] hostile = {0, 1, 2, 7, 8, 255, 0xFFFF, 0x7FFF_FFFFL, 0xFFFF_FFFFL, 1L << 40, Long.MAX_VALUE, -1, headerEnd, base.length};
        byte[] digits = "0123456789-.e[]{}\",:".getBytes(StandardCharsets.US_ASCII);
        int ok = 0, bad = 0;
        for (int seed = 0; seed < 3000; seed++) {
            Random r = new Random(seed);
            byte[] b = base.clone();
            int ops = 1 + r.nextInt(3);
            for (int k = 0; k < ops && b.length > 9; k++) {
                switch (r.nextInt(7)) {
                    case 0 -> b[r.nextInt(b.length)] = (byte) r.nextInt(256);
                    case 1 -> b[8 + r.nextInt(Math.min(headerEnd, b.length) - 8)] = digits[r.nextInt(digits.length)];
                    case 2 -> b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
                    case 3 -> {
                        long v = hostile[r.nextInt(hostile.length)];
                        for (int i = 0; i < 8; i++) b[i] = (byte) (v >>> (8 * i));
                    }
                    case 4 -> b = Arrays.copyOf(b, r.nextInt(b.length));
                    case 5 -> { // a digit of some number in the header changes
                        int at = 8 + r.nextInt(Math.min(headerEnd, b.length) - 8);
                        if (b[at] >= '0' && b[at] <= '9') b[at] = (byte) ('0' + r.nextInt(10));
                    }
                    default -> {
                        int from = r.nextInt(b.length), len = r.nextInt(Math.min(32, b.length - from) + 1);
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
            try (SafetensorsFile f = SafetensorsFile.open(p)) {
                for (SafetensorsTensorInfo t : f.tensors().values()) {
                    assertThat(f.data(t.name()).toArray(ValueLayout.JAVA_BYTE)).hasSize((int) t.byteSize());
                    if (t.dtype().ggmlType() != null && t.numElements() > 0 && t.shape().length <= 4) {
                        assertThat(f.tensor(t.name()).numElements()).isEqualTo(t.numElements());
                    }
                }
                ok++;
            } catch (SafetensorsFormatException e) {
                assertThat(e.getMessage()).as("seed %d", seed).startsWith("hostile.safetensors: ");
                bad++;
            } catch (Throwable t) {
                fail("seed " + seed + ": " + t.getClass().getName() + " instead of SafetensorsFormatException", t);
            }
        }
        // both outcomes occur, so the loop exercised the parser's error paths and its success path
        assertThat(ok).isGreaterThan(100);
        assertThat(bad).isGreaterThan(1500);
    }
}
