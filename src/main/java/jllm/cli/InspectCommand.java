package jllm.cli;

import java.io.PrintWriter;
import java.lang.reflect.Array;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import jllm.format.gguf.GGUFArray;
import jllm.format.gguf.GGUFFile;
import jllm.format.gguf.GGUFTensorCategory;
import jllm.format.gguf.GGUFTensorInfo;
import jllm.format.gguf.GGUFValue;
import jllm.format.gguf.GGUFValueType;
import jllm.tensor.GGMLType;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code jllm inspect FILE}: a GGUF file's header (version, alignment, layout), its metadata (long arrays
 * summarised by element type, length and first values; long strings cut), its tensor table (name, type, shape
 * in GGML order ne[0] first, bytes, offset in the data section) and its tensor memory by category and by GGML
 * type, in exact bytes and MiB. {@code --json} prints the same as one JSON object. Spec: ggml docs/gguf.md.
 */
@Command(name = "inspect",
        description = "Print a GGUF file's metadata, tensor table and memory by category.")
public final class InspectCommand implements Callable<Integer> {
    private static final double MIB = 1024.0 * 1024.0;

    @Spec CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Parameters(paramLabel = "FILE", description = "The GGUF file.")
    Path file;

    @Option(names = "--json", description = "Print one machine-readable JSON object.")
    boolean json;

    @Option(names = "--max-items", paramLabel = "N", defaultValue = "8",
            description = "Array elements shown per metadata array (-1: all; default ${DEFAULT-VALUE}).")
    int maxItems;

    @Option(names = "--max-string", paramLabel = "N", defaultValue = "120",
            description = "Characters shown per metadata string (-1: all; default ${DEFAULT-VALUE}).")
    int maxString;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(file)) throw new CommandLine.ParameterException(spec.commandLine(), "no such file: " + file);
        PrintWriter out = spec.commandLine().getOut();
        try (GGUFFile f = GGUFFile.open(file)) {
            if (json) {
                out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(toJson(f)));
            } else {
                printText(f, out);
            }
        }
        out.flush();
        return 0;
    }

    /** Tensor count and bytes per category, in the enum's order; categories without tensors are left out. */
    static Map<GGUFTensorCategory, long[]> byCategory(GGUFFile f) {
        Map<GGUFTensorCategory, long[]> m = new EnumMap<>(GGUFTensorCategory.class);
        for (GGUFTensorInfo t : f.tensors().values()) {
            long[] c = m.computeIfAbsent(GGUFTensorCategory.of(t.name()), k -> new long[2]);
            c[0]++;
            c[1] += t.byteSize();
        }
        return m;
    }

    /** Tensor count and bytes per GGML type, in ascending type id. */
    static Map<GGMLType, long[]> byType(GGUFFile f) {
        Map<GGMLType, long[]> m = new TreeMap<>((a, b) -> Integer.compare(a.id, b.id));
        for (GGUFTensorInfo t : f.tensors().values()) {
            long[] c = m.computeIfAbsent(t.type(), k -> new long[2]);
            c[0]++;
            c[1] += t.byteSize();
        }
        return m;
    }

    private static long tensorBytes(GGUFFile f) {
        long n = 0;
        for (GGUFTensorInfo t : f.tensors().values()) n += t.byteSize();
        return n;
    }

    // ---- text ----

    private void printText(GGUFFile f, PrintWriter out) {
        out.printf("file       %s%n", f.path());
        out.printf("size       %s%n", bytes(f.fileSize()));
        out.printf("version    %d%n", f.version());
        out.printf("alignment  %d%n", f.alignment());
        out.printf("header     %d bytes; tensor data at offset %d%n", f.headerSize(), f.dataOffset());

        out.printf("%nmetadata (%d keys)%n", f.metadata().size());
        int keyWidth = 0;
        for (String k : f.metadata().keySet()) keyWidth = Math.max(keyWidth, k.length());
        for (Map.Entry<String, GGUFValue> e : f.metadata().entrySet()) {
            GGUFValue v = e.getValue();
            String type = v.type() == GGUFValueType.ARRAY ? "ARRAY" : v.type().name();
            out.printf("  %-" + keyWidth + "s  %-7s  %s%n", e.getKey(), type, text(v.type(), v.value()));
        }

        out.printf("%ntensors (%d)%n", f.tensors().size());
        if (f.tensors().isEmpty()) return;
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"name", "type", "shape (ne)", "bytes", "offset"});
        for (GGUFTensorInfo t : f.tensors().values()) {
            rows.add(new String[] {t.name(), t.type().name(), shape(t.ne()), Long.toString(t.byteSize()), Long.toString(t.offset())});
        }
        printTable(out, rows, new boolean[] {false, false, false, true, true});

        long total = tensorBytes(f);
        out.printf("%nmemory by category%n");
        rows.clear();
        for (Map.Entry<GGUFTensorCategory, long[]> e : byCategory(f).entrySet()) {
            rows.add(memoryRow(e.getKey().label, e.getValue()));
        }
        rows.add(memoryRow("total", new long[] {f.tensors().size(), total}));
        printTable(out, rows, new boolean[] {false, false, true, true});

        out.printf("%nmemory by type%n");
        rows.clear();
        for (Map.Entry<GGMLType, long[]> e : byType(f).entrySet()) rows.add(memoryRow(e.getKey().name(), e.getValue()));
        printTable(out, rows, new boolean[] {false, false, true, true});
    }

    /** label | "N tensors" | "B bytes" | "M MiB" for {count, bytes}. */
    private static String[] memoryRow(String label, long[] countAndBytes) {
        long n = countAndBytes[0];
        return new String[] {label, n + (n == 1 ? " tensor" : " tensors"), countAndBytes[1] + " bytes", mib(countAndBytes[1])};
    }

    private static void printTable(PrintWriter out, List<String[]> rows, boolean[] rightAligned) {
        int[] w = new int[rightAligned.length];
        for (String[] r : rows) for (int i = 0; i < r.length; i++) w[i] = Math.max(w[i], r[i].length());
        for (String[] r : rows) {
            StringBuilder sb = new StringBuilder(" ");
            for (int i = 0; i < r.length; i++) {
                sb.append(' ');
                String pad = " ".repeat(w[i] - r[i].length());
                sb.append(rightAligned[i] ? pad + r[i] : (i == r.length - 1 ? r[i] : r[i] + pad));
                if (i < r.length - 1) sb.append(' ');
            }
            out.println(sb.toString().stripTrailing());
        }
    }

    private static String shape(long[] ne) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < ne.length; i++) sb.append(i == 0 ? "" : ", ").append(ne[i]);
        return sb.append(']').toString();
    }

    private static String bytes(long n) {
        return n + " bytes (" + mib(n) + ")";
    }

    private static String mib(long n) {
        return String.format(Locale.ROOT, "%.2f MiB", n / MIB);
    }

    /** One value for a human: strings quoted, escaped and cut; arrays as [TYPE x length] and their first items. */
    private String text(GGUFValueType type, Object v) {
        return switch (type) {
            case STRING -> quote((String) v);
            case ARRAY -> {
                GGUFArray a = (GGUFArray) v;
                int n = a.length();
                int shown = maxItems < 0 ? n : Math.min(n, maxItems);
                StringBuilder sb = new StringBuilder("[").append(a.elementType()).append(" x ").append(n).append("]");
                if (shown > 0) sb.append(' ');
                for (int i = 0; i < shown; i++) {
                    if (i > 0) sb.append(", ");
                    sb.append(text(a.elementType(), elementAt(a, i)));
                }
                if (shown < n) sb.append(shown > 0 ? ", ..." : " ...");
                yield sb.toString();
            }
            default -> scalar(type, v).toString();
        };
    }

    private String quote(String s) {
        boolean cut = maxString >= 0 && s.length() > maxString;
        String shown = cut ? s.substring(0, maxString) : s;
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < shown.length(); i++) {
            char c = shown.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                case '\r' -> sb.append("\\r");
                default -> {
                    if (c < 0x20 || c == 0x7f) sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
        if (cut) sb.append("... (").append(s.length()).append(" chars)");
        return sb.toString();
    }

    /** A scalar as a Java number with unsigned types widened (u64 above 2^63 as a BigInteger). */
    private static Object scalar(GGUFValueType type, Object v) {
        return switch (type) {
            case UINT8 -> Byte.toUnsignedInt((Byte) v);
            case UINT16 -> Short.toUnsignedInt((Short) v);
            case UINT32 -> Integer.toUnsignedLong((Integer) v);
            case UINT64 -> {
                long x = (Long) v;
                yield x >= 0 ? (Object) x : new BigInteger(Long.toUnsignedString(x));
            }
            default -> v;
        };
    }

    private static Object elementAt(GGUFArray a, int i) {
        return Array.get(a.values(), i);
    }

    // ---- JSON ----

    private ObjectNode toJson(GGUFFile f) {
        ObjectMapper m = new ObjectMapper();
        ObjectNode root = m.createObjectNode();
        root.put("file", f.path().toString());
        root.put("fileSize", f.fileSize());
        root.put("version", f.version());
        root.put("alignment", f.alignment());
        root.put("headerSize", f.headerSize());
        root.put("dataOffset", f.dataOffset());
        ArrayNode meta = root.putArray("metadata");
        for (Map.Entry<String, GGUFValue> e : f.metadata().entrySet()) {
            ObjectNode o = meta.addObject();
            o.put("key", e.getKey());
            jsonValue(o, e.getValue().type(), e.getValue().value());
        }
        ArrayNode ts = root.putArray("tensors");
        for (GGUFTensorInfo t : f.tensors().values()) {
            ObjectNode o = ts.addObject();
            o.put("name", t.name());
            o.put("type", t.type().name());
            ArrayNode shape = o.putArray("shape");
            for (long d : t.ne()) shape.add(d);
            o.put("elements", t.elementCount());
            o.put("bytes", t.byteSize());
            o.put("offset", t.offset());
            o.put("category", GGUFTensorCategory.of(t.name()).name().toLowerCase(Locale.ROOT));
        }
        long total = tensorBytes(f);
        root.put("tensorCount", f.tensors().size());
        root.put("tensorBytes", total);
        root.put("tensorMiB", total / MIB);
        ArrayNode cats = root.putArray("memoryByCategory");
        for (Map.Entry<GGUFTensorCategory, long[]> e : byCategory(f).entrySet()) {
            ObjectNode o = cats.addObject();
            o.put("category", e.getKey().name().toLowerCase(Locale.ROOT));
            o.put("label", e.getKey().label);
            o.put("tensors", e.getValue()[0]);
            o.put("bytes", e.getValue()[1]);
            o.put("mib", e.getValue()[1] / MIB);
        }
        ArrayNode types = root.putArray("memoryByType");
        for (Map.Entry<GGMLType, long[]> e : byType(f).entrySet()) {
            ObjectNode o = types.addObject();
            o.put("type", e.getKey().name());
            o.put("tensors", e.getValue()[0]);
            o.put("bytes", e.getValue()[1]);
            o.put("mib", e.getValue()[1] / MIB);
        }
        return root;
    }

    /** Adds "type" and "value" (a string cut to --max-string with "truncated" and "length"), or for an array
     *  "elementType", "length", "values" (the first --max-items) and "truncated". */
    private void jsonValue(ObjectNode o, GGUFValueType type, Object v) {
        o.put("type", type.name());
        switch (type) {
            case STRING -> {
                String s = (String) v;
                boolean cut = maxString >= 0 && s.length() > maxString;
                o.put("value", cut ? s.substring(0, maxString) : s);
                if (cut) {
                    o.put("truncated", true);
                    o.put("length", s.length());
                }
            }
            case ARRAY -> {
                GGUFArray a = (GGUFArray) v;
                int n = a.length();
                int shown = maxItems < 0 ? n : Math.min(n, maxItems);
                o.put("elementType", a.elementType().name());
                o.put("length", n);
                ArrayNode values = o.putArray("values");
                for (int i = 0; i < shown; i++) jsonElement(values, a.elementType(), elementAt(a, i));
                o.put("truncated", shown < n);
            }
            default -> o.putPOJO("value", scalar(type, v));
        }
    }

    private void jsonElement(ArrayNode values, GGUFValueType type, Object v) {
        switch (type) {
            case STRING -> values.add((String) v); // whole: arrays are cut by count, not by string length
            case ARRAY -> jsonValue(values.addObject(), type, v);
            default -> values.addPOJO(scalar(type, v));
        }
    }
}
