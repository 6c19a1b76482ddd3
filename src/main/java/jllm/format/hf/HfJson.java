package jllm.format.hf;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A JSON object from a Hugging Face folder (config.json, tokenizer.json, adapter_config.json, an index file) with
 * typed getters that name the file and the key in every error: {@code config.json: 'hidden_size' is "abc",
 * expected an integer}. A key whose value is JSON null counts as absent, as in transformers' configs
 * ({@code "n_inner": null} means the default).
 */
public final class HfJson {
    /** Larger files are refused before reading: the largest tokenizer.json files are tens of megabytes. */
    public static final long MAX_FILE_BYTES = 1L << 30;

    private final String fileName;
    private final String prefix;
    private final ObjectNode node;

    private HfJson(String fileName, String prefix, ObjectNode node) {
        this.fileName = fileName;
        this.prefix = prefix;
        this.node = node;
    }

    /** Reads and parses {@code file}, which must hold one JSON object. */
    public static HfJson read(Path file) throws IOException {
        String name = file.getFileName().toString();
        long size = Files.size(file);
        if (size > MAX_FILE_BYTES) throw new HfFormatException(name + ": " + size + " bytes is larger than the " + MAX_FILE_BYTES + " bytes jllm reads");
        return parse(name, new String(Files.readAllBytes(file), StandardCharsets.UTF_8));
    }

    /** Parses {@code text}; {@code fileName} names it in errors. */
    public static HfJson parse(String fileName, String text) {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new HfFormatException(fileName + ": not valid JSON: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")"), e);
        }
        if (root == null || !root.isObject()) throw new HfFormatException(fileName + ": not a JSON object");
        return new HfJson(fileName, "", (ObjectNode) root);
    }

    /** Wraps an object built in memory. */
    public static HfJson of(String fileName, ObjectNode node) {
        return new HfJson(fileName, "", node);
    }

    public String fileName() { return fileName; }

    /** The underlying tree (mutable; for writing). */
    public ObjectNode node() { return node; }

    /** Whether {@code key} is present with a non-null value. */
    public boolean has(String key) {
        JsonNode v = node.get(key);
        return v != null && !v.isNull();
    }

    private JsonNode required(String key) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) throw error("missing '" + prefix + key + "'");
        return v;
    }

    public long getLong(String key) {
        JsonNode v = required(key);
        if (!v.isIntegralNumber() || !v.canConvertToLong()) throw wrong(key, v, "an integer");
        return v.longValue();
    }

    public long getLong(String key, long dflt) { return has(key) ? getLong(key) : dflt; }

    public int getInt(String key) {
        JsonNode v = required(key);
        if (!v.isIntegralNumber() || !v.canConvertToInt()) throw wrong(key, v, "an integer in the int range");
        return v.intValue();
    }

    public int getInt(String key, int dflt) { return has(key) ? getInt(key) : dflt; }

    public double getDouble(String key) {
        JsonNode v = required(key);
        if (!v.isNumber()) throw wrong(key, v, "a number");
        double d = v.doubleValue();
        if (!Double.isFinite(d)) throw wrong(key, v, "a finite number");
        return d;
    }

    public double getDouble(String key, double dflt) { return has(key) ? getDouble(key) : dflt; }

    public float getFloat(String key, float dflt) { return has(key) ? (float) getDouble(key) : dflt; }

    public boolean getBool(String key) {
        JsonNode v = required(key);
        if (!v.isBoolean()) throw wrong(key, v, "true or false");
        return v.booleanValue();
    }

    public boolean getBool(String key, boolean dflt) { return has(key) ? getBool(key) : dflt; }

    public String getString(String key) {
        JsonNode v = required(key);
        if (!v.isTextual()) throw wrong(key, v, "a string");
        return v.textValue();
    }

    public String getString(String key, String dflt) { return has(key) ? getString(key) : dflt; }

    /** An array of strings. */
    public List<String> getStringList(String key) {
        JsonNode v = required(key);
        if (!v.isArray()) throw wrong(key, v, "an array of strings");
        List<String> out = new ArrayList<>(v.size());
        for (int i = 0; i < v.size(); i++) {
            if (!v.get(i).isTextual()) throw wrong(key + "[" + i + "]", v.get(i), "a string");
            out.add(v.get(i).textValue());
        }
        return out;
    }

    /** The nested object at {@code key}; errors inside it name {@code key.inner}. */
    public HfJson object(String key) {
        JsonNode v = required(key);
        if (!v.isObject()) throw wrong(key, v, "an object");
        return new HfJson(fileName, prefix + key + ".", (ObjectNode) v);
    }

    /** The nested object at {@code key}, or null when absent or null. */
    public HfJson objectOrNull(String key) {
        return has(key) ? object(key) : null;
    }

    /** The raw value at {@code key} (null when absent). */
    public JsonNode get(String key) {
        return node.get(key);
    }

    /** An exception whose message starts with the file's name (and the key path, when {@code what} names a key). */
    public HfFormatException error(String what) {
        return new HfFormatException(fileName + ": " + what);
    }

    /** The key path of {@code key} in errors (e.g. "rope_scaling.factor"). */
    public String field(String key) {
        return prefix + key;
    }

    private HfFormatException wrong(String key, JsonNode v, String expected) {
        String s = v.toString();
        if (s.length() > 60) s = s.substring(0, 60) + "...";
        return error("'" + prefix + key + "' is " + s + ", expected " + expected);
    }
}
