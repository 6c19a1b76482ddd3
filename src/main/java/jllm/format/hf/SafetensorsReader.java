package jllm.format.hf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * Parses and validates a safetensors header (spec: huggingface/safetensors README "Format", and the checks of
 * {@code SafeTensors::read_metadata} / {@code Metadata::validate} in safetensors/src/tensor.rs).
 *
 * <pre>
 *   u64 N (little-endian) | N bytes of UTF-8 JSON, often padded with spaces to a multiple of 8 | data section
 *   JSON: { "__metadata__": {"key": "string value", ...},            (optional)
 *           "tensor name": {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]}, ... }
 * </pre>
 *
 * Every rule of the reference is enforced before anything is allocated from a size read in the file: N at most
 * 100,000,000 and within the file; the header starts with '{', is valid UTF-8 and one JSON object with no
 * duplicate keys; each entry has a known dtype, non-negative integer dimensions and two offsets; the byte range
 * equals the product of the shape times the dtype's size (without overflow); sorted by offset, the ranges tile
 * the data section exactly from 0 to its end (no gap, no overlap, no trailing bytes). Unknown extra fields inside
 * a tensor entry are ignored, as the reference does. Failures are {@link SafetensorsFormatException}s whose
 * message names the file, the tensor or field, and the value.
 */
final class SafetensorsReader {
    /** safetensors' MAX_HEADER_SIZE. */
    static final long MAX_HEADER_BYTES = 100_000_000L;

    record Header(long headerLength, Map<String, String> metadata, boolean hasMetadataEntry,
                  List<SafetensorsTensorInfo> tensors) {}

    private final String fileName;

    private SafetensorsReader(String fileName) {
        this.fileName = fileName;
    }

    static Header parse(String fileName, MemorySegment file) {
        return new SafetensorsReader(fileName).parse(file);
    }

    private Header parse(MemorySegment file) {
        long size = file.byteSize();
        if (size < 8) {
            throw error("truncated file: " + size + " bytes; a safetensors file starts with an 8-byte header length");
        }
        long n = file.get(LittleEndian.I64, 0);
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw error("header length " + Long.toUnsignedString(n) + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
        }
        if (n > size - 8) {
            throw error("header length " + n + " runs past the end of the file (" + size + " bytes; truncated?)");
        }
        byte[] bytes = file.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
        if (n == 0 || bytes[0] != '{') {
            throw error("header does not start with '{'" + (n == 0 ? " (header length 0)" : " (first byte 0x"
                    + Integer.toHexString(bytes[0] & 0xff) + ")"));
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw error("header is not valid UTF-8");
        }
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw error("header is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) throw error("header is not a JSON object");

        Map<String, String> metadata = new LinkedHashMap<>();
        boolean hasMetadata = false;
        List<SafetensorsTensorInfo> tensors = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) {
                hasMetadata = true;
                metadata(e.getValue(), metadata);
            } else {
                tensors.add(tensor(e.getKey(), e.getValue()));
            }
        }

        long dataSize = size - 8 - n;
        for (SafetensorsTensorInfo t : tensors) {
            if (t.end() > dataSize) {
                throw error("tensor '" + t.name() + "': data_offsets [" + t.begin() + ", " + t.end()
                        + "] run past the end of the data section (" + dataSize + " bytes; file truncated?)");
            }
        }
        tensors.sort(Comparator.comparingLong(SafetensorsTensorInfo::begin).thenComparingLong(SafetensorsTensorInfo::end));
        long covered = 0;
        String previous = null;
        for (SafetensorsTensorInfo t : tensors) {
            if (t.begin() < covered) {
                throw error("tensors '" + previous + "' and '" + t.name() + "' overlap: '" + t.name()
                        + "' begins at " + t.begin() + ", before " + covered);
            }
            if (t.begin() > covered) {
                throw error("tensor '" + t.name() + "': data_offsets begin at " + t.begin() + ", leaving a gap after "
                        + (previous == null ? "the start of the data section" : "tensor '" + previous + "'")
                        + " at " + covered);
            }
            covered = t.end();
            previous = t.name();
        }
        if (covered != dataSize) {
            throw error("the data section has " + dataSize + " bytes but the tensors cover " + covered
                    + " (trailing bytes after the last tensor)");
        }
        return new Header(n, metadata, hasMetadata, tensors);
    }

    private void metadata(JsonNode node, Map<String, String> out) {
        if (!node.isObject()) throw error("__metadata__ is " + kind(node) + ", expected an object of strings");
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw error("__metadata__ '" + e.getKey() + "' is " + kind(e.getValue()) + ", expected a string");
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
    }

    private SafetensorsTensorInfo tensor(String name, JsonNode node) {
        String field = "tensor '" + name + "'";
        if (!node.isObject()) throw error(field + " is " + kind(node) + ", expected an object with dtype, shape and data_offsets");
        JsonNode dt = node.get("dtype");
        if (dt == null) throw error(field + ": missing dtype");
        if (!dt.isTextual()) throw error(field + ": dtype is " + kind(dt) + ", expected a string");
        SafetensorsDType dtype = SafetensorsDType.byName(dt.textValue());
        if (dtype == null) {
            throw error(field + ": unknown dtype \"" + dt.textValue() + "\" (known: " + Arrays.toString(SafetensorsDType.values()) + ")");
        }
        long[] shape = integers(field, "shape", node.get("shape"), -1);
        long[] offsets = integers(field, "data_offsets", node.get("data_offsets"), 2);
        long elements = 1;
        for (long d : shape) {
            if (d != 0 && elements > Long.MAX_VALUE / d) {
                throw error(field + ": element count of shape " + Arrays.toString(shape) + " overflows");
            }
            elements *= d;
        }
        if (elements > Long.MAX_VALUE / dtype.size) {
            throw error(field + ": byte size of " + elements + " " + dtype + " elements overflows");
        }
        long bytes = elements * dtype.size;
        long begin = offsets[0], end = offsets[1];
        if (end < begin) throw error(field + ": data_offsets [" + begin + ", " + end + "] end before they begin");
        if (end - begin != bytes) {
            throw error(field + ": data_offsets [" + begin + ", " + end + "] hold " + (end - begin) + " bytes but "
                    + dtype + " " + Arrays.toString(shape) + " needs " + bytes);
        }
        return new SafetensorsTensorInfo(name, dtype, shape, begin, end);
    }

    /** An array of non-negative integers that fit a long; of exactly {@code length} elements unless it is -1. */
    private long[] integers(String field, String key, JsonNode node, int length) {
        if (node == null) throw error(field + ": missing " + key);
        if (!node.isArray()) throw error(field + ": " + key + " is " + kind(node) + ", expected an array of integers");
        if (length >= 0 && node.size() != length) {
            throw error(field + ": " + key + " has " + node.size() + " elements, expected " + length);
        }
        long[] v = new long[node.size()];
        for (int i = 0; i < v.length; i++) {
            JsonNode x = node.get(i);
            if (!x.isIntegralNumber() || !x.canConvertToLong() || x.longValue() < 0) {
                throw error(field + ": " + key + "[" + i + "] = " + abbreviate(x) + " is not a non-negative integer");
            }
            v[i] = x.longValue();
        }
        return v;
    }

    static String kind(JsonNode n) {
        return switch (n.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            default -> n.getNodeType().toString().toLowerCase();
        };
    }

    private static String abbreviate(JsonNode x) {
        String s = x.toString();
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }

    private SafetensorsFormatException error(String msg) {
        return new SafetensorsFormatException(fileName + ": " + msg);
    }

    private SafetensorsFormatException error(String msg, Throwable cause) {
        return new SafetensorsFormatException(fileName + ": " + msg, cause);
    }
}
