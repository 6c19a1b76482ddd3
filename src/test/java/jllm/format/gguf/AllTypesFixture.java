package jllm.format.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Random;

import jllm.tensor.GGMLType;

/**
 * One small GGUF file holding every metadata value type (scalars at their extremes, arrays of every element
 * type, nested arrays, empty arrays, non-ASCII strings) and tensors of four GGML types, built twice: byte by
 * byte with {@link RawGGUF} from the spec, and through {@link GGUFWriter}. {@link #check} verifies what a
 * reader returns against the values put in.
 */
final class AllTypesFixture {
    static final String TEXT = "h\u00e9llo \u2713 \ud83e\udd99 \u4e2d\u6587";
    static final long U64_BIG = 0x8000_0000_0000_0005L; // 2^63 + 5 read as unsigned

    /** Tensors: name, type, ne, bytes (deterministic pseudo-random contents). */
    record T(String name, GGMLType type, long[] ne, byte[] data) {}

    static T[] tensors() {
        Random r = new Random(1234);
        return new T[] {
            tensor("a", GGMLType.F32, new long[] {3, 2}, r),
            tensor("blk.0.b", GGMLType.F16, new long[] {5}, r),
            tensor("c", GGMLType.Q8_0, new long[] {32, 2}, r),
            tensor("d", GGMLType.Q4_K, new long[] {256, 1, 1, 1}, r),
        };
    }

    private static T tensor(String name, GGMLType type, long[] ne, Random r) {
        long n = 1;
        for (long d : ne) n *= d;
        byte[] b = new byte[(int) type.bytes(n)];
        r.nextBytes(b);
        return new T(name, type, ne, b);
    }

    /** The file written by hand; {@code alignment} 32 means no general.alignment key. */
    static byte[] raw(int version, int alignment) {
        T[] ts = tensors();
        int kv = alignment == 32 ? 26 : 27;
        RawGGUF g = RawGGUF.header(version, ts.length, kv);
        if (alignment != 32) g.key("general.alignment", GGUFValueType.UINT32).u32(alignment);
        g.key("u8", GGUFValueType.UINT8).u8(200);
        g.key("i8", GGUFValueType.INT8).u8(-5);
        g.key("u16", GGUFValueType.UINT16).u16(60000);
        g.key("i16", GGUFValueType.INT16).u16(-300);
        g.key("u32", GGUFValueType.UINT32).u32((int) 4_000_000_000L);
        g.key("i32", GGUFValueType.INT32).u32(Integer.MIN_VALUE);
        g.key("f32", GGUFValueType.FLOAT32).f32(-1.5f);
        g.key("bool.t", GGUFValueType.BOOL).u8(1);
        g.key("bool.f", GGUFValueType.BOOL).u8(0);
        g.key("str", GGUFValueType.STRING).str(TEXT);
        g.key("str.empty", GGUFValueType.STRING).str("");
        g.key("u64", GGUFValueType.UINT64).u64(U64_BIG);
        g.key("i64", GGUFValueType.INT64).u64(Long.MIN_VALUE);
        g.key("f64", GGUFValueType.FLOAT64).f64(Math.PI);
        g.key("a.u8", GGUFValueType.ARRAY).u32(GGUFValueType.UINT8.id).u64(3).u8(0).u8(255).u8(7);
        g.key("a.i16", GGUFValueType.ARRAY).u32(GGUFValueType.INT16.id).u64(2).u16(-1).u16(32767);
        g.key("a.u32", GGUFValueType.ARRAY).u32(GGUFValueType.UINT32.id).u64(2).u32(-1).u32(5);
        g.key("a.i64", GGUFValueType.ARRAY).u32(GGUFValueType.INT64.id).u64(2).u64(-2).u64(Long.MAX_VALUE);
        g.key("a.f32", GGUFValueType.ARRAY).u32(GGUFValueType.FLOAT32.id).u64(3).f32(0.25f).f32(Float.NEGATIVE_INFINITY).f32(Float.MIN_VALUE);
        g.key("a.f64", GGUFValueType.ARRAY).u32(GGUFValueType.FLOAT64.id).u64(1).f64(-0.0);
        g.key("a.bool", GGUFValueType.ARRAY).u32(GGUFValueType.BOOL.id).u64(3).u8(1).u8(0).u8(1);
        g.key("a.str", GGUFValueType.ARRAY).u32(GGUFValueType.STRING.id).u64(3).str("<s>").str("").str(TEXT);
        g.key("a.empty", GGUFValueType.ARRAY).u32(GGUFValueType.INT32.id).u64(0);
        // [[["x", "y"], []], [[ "z" ]]]: arrays of arrays of arrays of strings
        g.key("a.nested", GGUFValueType.ARRAY).u32(GGUFValueType.ARRAY.id).u64(2)
                .u32(GGUFValueType.ARRAY.id).u64(2)
                    .u32(GGUFValueType.STRING.id).u64(2).str("x").str("y")
                    .u32(GGUFValueType.STRING.id).u64(0)
                .u32(GGUFValueType.ARRAY.id).u64(1)
                    .u32(GGUFValueType.STRING.id).u64(1).str("z");
        g.key("a.u16", GGUFValueType.ARRAY).u32(GGUFValueType.UINT16.id).u64(1).u16(65535);
        g.key("a.i8", GGUFValueType.ARRAY).u32(GGUFValueType.INT8.id).u64(2).u8(-128).u8(127);
        long off = 0;
        for (T t : ts) {
            g.tensorInfo(t.name(), t.type().id, off, t.ne());
            off += GGUFReader.alignUp(t.data().length, alignment);
        }
        g.pad(alignment);
        for (T t : ts) g.bytes(t.data()).pad(alignment);
        return g.toByteArray();
    }

    /** The same file through the writer. */
    static GGUFWriter writer(int version, int alignment) {
        GGUFWriter w = new GGUFWriter().version(version);
        if (alignment != 32) w.put("general.alignment", GGUFValue.ofUInt32(alignment));
        w.put("u8", new GGUFValue(GGUFValueType.UINT8, (byte) 200));
        w.put("i8", new GGUFValue(GGUFValueType.INT8, (byte) -5));
        w.put("u16", new GGUFValue(GGUFValueType.UINT16, (short) 60000));
        w.put("i16", new GGUFValue(GGUFValueType.INT16, (short) -300));
        w.put("u32", GGUFValue.ofUInt32((int) 4_000_000_000L));
        w.put("i32", GGUFValue.ofInt32(Integer.MIN_VALUE));
        w.put("f32", GGUFValue.ofFloat32(-1.5f));
        w.put("bool.t", GGUFValue.ofBool(true));
        w.put("bool.f", GGUFValue.ofBool(false));
        w.put("str", GGUFValue.ofString(TEXT));
        w.put("str.empty", GGUFValue.ofString(""));
        w.put("u64", GGUFValue.ofUInt64(U64_BIG));
        w.put("i64", new GGUFValue(GGUFValueType.INT64, Long.MIN_VALUE));
        w.put("f64", new GGUFValue(GGUFValueType.FLOAT64, Math.PI));
        w.put("a.u8", arr(GGUFValueType.UINT8, new byte[] {0, (byte) 255, 7}));
        w.put("a.i16", arr(GGUFValueType.INT16, new short[] {-1, 32767}));
        w.put("a.u32", arr(GGUFValueType.UINT32, new int[] {-1, 5}));
        w.put("a.i64", arr(GGUFValueType.INT64, new long[] {-2, Long.MAX_VALUE}));
        w.put("a.f32", arr(GGUFValueType.FLOAT32, new float[] {0.25f, Float.NEGATIVE_INFINITY, Float.MIN_VALUE}));
        w.put("a.f64", arr(GGUFValueType.FLOAT64, new double[] {-0.0}));
        w.put("a.bool", arr(GGUFValueType.BOOL, new boolean[] {true, false, true}));
        w.put("a.str", arr(GGUFValueType.STRING, new String[] {"<s>", "", TEXT}));
        w.put("a.empty", arr(GGUFValueType.INT32, new int[0]));
        w.put("a.nested", arr(GGUFValueType.ARRAY, new GGUFArray[] {
            new GGUFArray(GGUFValueType.ARRAY, new GGUFArray[] {
                new GGUFArray(GGUFValueType.STRING, new String[] {"x", "y"}),
                new GGUFArray(GGUFValueType.STRING, new String[0])}),
            new GGUFArray(GGUFValueType.ARRAY, new GGUFArray[] {
                new GGUFArray(GGUFValueType.STRING, new String[] {"z"})})}));
        w.put("a.u16", arr(GGUFValueType.UINT16, new short[] {(short) 65535}));
        w.put("a.i8", arr(GGUFValueType.INT8, new byte[] {-128, 127}));
        T[] ts = tensors();
        for (int i = 0; i < ts.length; i++) {
            T t = ts[i];
            if (i % 2 == 0) {
                w.tensor(t.name(), t.type(), t.ne(), MemorySegment.ofArray(t.data()));
            } else {
                w.tensor(t.name(), t.type(), t.ne(), out -> {
                    // streamed in two pieces, as a producer of large tensors would
                    int half = t.data().length / 2;
                    out.write(ByteBuffer.wrap(t.data(), 0, half));
                    out.write(ByteBuffer.wrap(t.data(), half, t.data().length - half));
                });
            }
        }
        return w;
    }

    static GGUFValue arr(GGUFValueType type, Object values) {
        return GGUFValue.ofArray(new GGUFArray(type, values));
    }

    /** Checks every value and tensor of a file read back against what was put in. */
    static void check(GGUFFile f, int version, int alignment) {
        assertThat(f.version()).isEqualTo(version);
        assertThat(f.alignment()).isEqualTo(alignment);
        assertThat(f.metadata()).hasSize(alignment == 32 ? 26 : 27);
        assertThat(f.getLong("u8")).isEqualTo(200);
        assertThat(f.value("u8").value()).isEqualTo((byte) 200);
        assertThat(f.getLong("i8")).isEqualTo(-5);
        assertThat(f.getLong("u16")).isEqualTo(60000);
        assertThat(f.getLong("i16")).isEqualTo(-300);
        assertThat(f.getLong("u32")).isEqualTo(4_000_000_000L);
        assertThat(f.getLong("i32")).isEqualTo(Integer.MIN_VALUE);
        assertThat(f.value("f32").value()).isEqualTo(-1.5f);
        assertThat(f.getBool("bool.t", false)).isTrue();
        assertThat(f.getBool("bool.f", true)).isFalse();
        assertThat(f.getString("str")).isEqualTo(TEXT);
        assertThat(f.getString("str.empty")).isEmpty();
        assertThat(f.value("u64").type()).isEqualTo(GGUFValueType.UINT64);
        assertThat(Long.toUnsignedString(f.getLong("u64"))).isEqualTo("9223372036854775813");
        assertThat(f.getLong("i64")).isEqualTo(Long.MIN_VALUE);
        assertThat(f.getDouble("f64")).isEqualTo(Math.PI);
        assertThat(f.getIntArray("a.u8")).containsExactly(0, 255, 7);
        assertThat(f.getIntArray("a.i16")).containsExactly(-1, 32767);
        assertThat((int[]) f.getArray("a.u32").values()).containsExactly(-1, 5);
        assertThat(f.getArray("a.u32").elementType()).isEqualTo(GGUFValueType.UINT32);
        assertThat((long[]) f.getArray("a.i64").values()).containsExactly(-2, Long.MAX_VALUE);
        assertThat(f.getFloatArray("a.f32")).containsExactly(0.25f, Float.NEGATIVE_INFINITY, Float.MIN_VALUE);
        double[] f64 = (double[]) f.getArray("a.f64").values();
        assertThat(Double.doubleToRawLongBits(f64[0])).isEqualTo(Double.doubleToRawLongBits(-0.0));
        assertThat((boolean[]) f.getArray("a.bool").values()).containsExactly(true, false, true);
        assertThat(f.getStringArray("a.str")).containsExactly("<s>", "", TEXT);
        assertThat(f.getIntArray("a.empty")).isEmpty();
        GGUFArray nested = f.getArray("a.nested");
        assertThat(nested.elementType()).isEqualTo(GGUFValueType.ARRAY);
        GGUFArray[] outer = (GGUFArray[]) nested.values();
        assertThat(outer).hasSize(2);
        GGUFArray[] first = (GGUFArray[]) outer[0].values();
        assertThat((String[]) first[0].values()).containsExactly("x", "y");
        assertThat((String[]) first[1].values()).isEmpty();
        assertThat(first[1].elementType()).isEqualTo(GGUFValueType.STRING);
        assertThat((String[]) ((GGUFArray[]) outer[1].values())[0].values()).containsExactly("z");
        assertThat(f.getIntArray("a.u16")).containsExactly(65535);
        assertThat(f.getIntArray("a.i8")).containsExactly(-128, 127);
        // metadata order is file order
        assertThat(f.metadata().keySet()).startsWith(alignment == 32 ? "u8" : "general.alignment");
        assertThat(f.metadata().keySet()).endsWith("a.i8");

        T[] ts = tensors();
        assertThat(f.tensors().keySet()).containsExactly("a", "blk.0.b", "c", "d");
        long off = 0;
        for (T t : ts) {
            GGUFTensorInfo info = f.tensor(t.name());
            assertThat(info.type()).isEqualTo(t.type());
            assertThat(info.ne()).containsExactly(t.ne());
            assertThat(info.offset()).isEqualTo(off);
            assertThat(info.byteSize()).isEqualTo(t.data().length);
            assertThat(f.tensorData(t.name()).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)).isEqualTo(t.data());
            off += GGUFReader.alignUp(t.data().length, alignment);
        }
        assertThat(f.dataOffset() % alignment).isZero();
        assertThat(f.fileSize()).isEqualTo(f.dataOffset() + off);
    }
}
