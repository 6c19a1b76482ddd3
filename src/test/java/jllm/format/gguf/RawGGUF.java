package jllm.format.gguf;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Test-side GGUF encoder written straight from the byte layout of ggml docs/gguf.md, independent of
 * {@link GGUFWriter}: the reference the reader and the writer are both checked against, and the tool that
 * crafts hostile files field by field.
 */
final class RawGGUF {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    /** magic, version, tensor_count, metadata_kv_count. */
    static RawGGUF header(int version, long tensorCount, long kvCount) {
        return new RawGGUF().bytes("GGUF".getBytes(StandardCharsets.US_ASCII)).u32(version).u64(tensorCount).u64(kvCount);
    }

    RawGGUF u8(int v) { out.write(v); return this; }
    RawGGUF u16(int v) { return u8(v).u8(v >>> 8); }
    RawGGUF u32(int v) { return u16(v).u16(v >>> 16); }
    RawGGUF u64(long v) { return u32((int) v).u32((int) (v >>> 32)); }
    RawGGUF f32(float v) { return u32(Float.floatToRawIntBits(v)); }
    RawGGUF f64(double v) { return u64(Double.doubleToRawLongBits(v)); }

    RawGGUF str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return u64(b.length).bytes(b);
    }

    RawGGUF bytes(byte[] b) { out.write(b, 0, b.length); return this; }

    /** A metadata key followed by its value-type id; the caller writes the value. */
    RawGGUF key(String key, GGUFValueType type) { return str(key).u32(type.id); }

    /** A tensor info: name, n_dims, ne[], type id, offset. */
    RawGGUF tensorInfo(String name, int typeId, long offset, long... ne) {
        str(name).u32(ne.length);
        for (long d : ne) u64(d);
        return u32(typeId).u64(offset);
    }

    /** Zero bytes up to the next multiple of {@code alignment}. */
    RawGGUF pad(int alignment) {
        while (size() % alignment != 0) u8(0);
        return this;
    }

    RawGGUF zeros(int n) { for (int i = 0; i < n; i++) u8(0); return this; }

    int size() { return out.size(); }

    byte[] toByteArray() { return out.toByteArray(); }

    Path write(Path path) throws IOException {
        Files.write(path, toByteArray());
        return path;
    }
}
