package jllm.train;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import jllm.model.CrossEntropy;

/**
 * Training rows read from a file, tokenized with the model's tokenizer. Formats (chosen by content: a file whose first
 * non-blank character is '{' is JSON Lines):
 * <ul>
 *   <li>plain text: the whole file, with BOS when the tokenizer adds one, cut into rows of seq + 1 tokens that
 *   overlap by one token (row i holds tokens [i seq, i seq + seq + 1)), so every token but the first is predicted
 *   once;</li>
 *   <li>JSONL {@code {"text": ...}}: each line's text (+ EOS), cut into rows the same way;</li>
 *   <li>JSONL {@code {"prompt": ..., "completion": ...}}: one row per line, prompt tokens then completion tokens
 *   (+ EOS), truncated to seq + 1; the loss is on the completion only;</li>
 *   <li>JSONL {@code {"input_ids": [...]}}: ids as given (checked against the vocabulary), cut like text.</li>
 * </ul>
 * A row predicts {@code ids[t + 1]} from {@code ids[0..t]} for t in [0, length - 1), scored when
 * {@code t + 1 >= firstScored}. Rows shorter than seq + 1 are padded, the padding masked.
 */
public final class Dataset {
    /** Encodes text with the model's tokenizer. */
    public interface Encoder {
        int[] encode(String text, boolean addBos);

        /** The end-of-sequence id, or -1 if none. */
        int eos();

        int vocabSize();
    }

    /** One row: its ids and the first index of ids whose prediction is scored. */
    public record Row(int[] ids, int firstScored) {}

    public enum Format { TEXT, JSONL }

    private final List<Row> rows;
    private final Format format;
    private final int seq;
    private final int truncated;
    private final long tokens;

    private Dataset(List<Row> rows, Format format, int seq, int truncated) {
        this.rows = rows;
        this.format = format;
        this.seq = seq;
        this.truncated = truncated;
        long n = 0;
        for (Row r : rows) n += r.ids().length;
        this.tokens = n;
    }

    public static Dataset read(Path file, Encoder enc, int seq) throws IOException {
        if (seq <= 0) throw new IllegalArgumentException("--seq must be positive, got " + seq);
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("data file not found: " + file);
        String text = Files.readString(file, StandardCharsets.UTF_8);
        List<Row> rows = new ArrayList<>();
        int truncated = 0;
        Format format = text.stripLeading().startsWith("{") ? Format.JSONL : Format.TEXT;
        if (format == Format.TEXT) {
            cut(rows, enc.encode(text, true), seq);
        } else {
            ObjectMapper json = new ObjectMapper();
            try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                String line;
                int lineNo = 0;
                while ((line = r.readLine()) != null) {
                    lineNo++;
                    if (line.isBlank()) continue;
                    JsonNode o;
                    try {
                        o = json.readTree(line);
                    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                        throw new IllegalArgumentException(file.getFileName() + " line " + lineNo + ": not JSON: " + e.getOriginalMessage());
                    }
                    if (o == null || !o.isObject()) throw new IllegalArgumentException(file.getFileName() + " line " + lineNo + ": not a JSON object");
                    if (o.has("input_ids")) {
                        cut(rows, ids(o.get("input_ids"), enc.vocabSize(), file, lineNo), seq);
                    } else if (o.has("prompt") || o.has("completion")) {
                        String p = string(o, "prompt", file, lineNo), c = string(o, "completion", file, lineNo);
                        int[] pi = enc.encode(p, true), ci = enc.encode(c, false);
                        int[] ids = concat(pi, ci, enc.eos());
                        if (ids.length > seq + 1) {
                            truncated++;
                            ids = Arrays.copyOf(ids, seq + 1);
                        }
                        if (pi.length < ids.length) rows.add(new Row(ids, Math.max(1, pi.length)));
                    } else if (o.has("text")) {
                        cut(rows, concat(enc.encode(string(o, "text", file, lineNo), true), new int[0], enc.eos()), seq);
                    } else {
                        throw new IllegalArgumentException(file.getFileName() + " line " + lineNo
                                + ": expected a \"text\", \"prompt\"/\"completion\" or \"input_ids\" field");
                    }
                }
            }
        }
        if (rows.isEmpty()) throw new IllegalArgumentException(file.getFileName() + ": no training rows (need at least 2 tokens per row)");
        return new Dataset(rows, format, seq, truncated);
    }

    /** Rows of seq + 1 tokens overlapping by one; a shorter tail of at least 2 tokens is a row of its own. */
    private static void cut(List<Row> rows, int[] ids, int seq) {
        for (int start = 0; start + 1 < ids.length; start += seq) {
            rows.add(new Row(Arrays.copyOfRange(ids, start, Math.min(ids.length, start + seq + 1)), 1));
        }
    }

    private static int[] concat(int[] a, int[] b, int eos) {
        int[] out = Arrays.copyOf(a, a.length + b.length + (eos >= 0 ? 1 : 0));
        System.arraycopy(b, 0, out, a.length, b.length);
        if (eos >= 0) out[out.length - 1] = eos;
        return out;
    }

    private static String string(JsonNode o, String key, Path file, int lineNo) {
        JsonNode v = o.get(key);
        if (v == null || !v.isTextual()) throw new IllegalArgumentException(file.getFileName() + " line " + lineNo + ": \"" + key + "\" must be a string");
        return v.asText();
    }

    private static int[] ids(JsonNode a, int vocab, Path file, int lineNo) {
        if (!a.isArray()) throw new IllegalArgumentException(file.getFileName() + " line " + lineNo + ": \"input_ids\" must be an array");
        int[] ids = new int[a.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode v = a.get(i);
            if (!v.canConvertToInt() || v.asInt() < 0 || v.asInt() >= vocab) {
                throw new IllegalArgumentException(file.getFileName() + " line " + lineNo + ": input_ids[" + i + "] = " + v
                        + " is not a token id in [0, " + vocab + ")");
            }
            ids[i] = v.asInt();
        }
        return ids;
    }

    public int size() { return rows.size(); }
    public Row row(int i) { return rows.get(i); }
    public Format format() { return format; }
    public int seq() { return seq; }
    /** Prompt/completion rows cut to seq + 1 tokens. */
    public int truncated() { return truncated; }
    /** Tokens in all rows. */
    public long tokens() { return tokens; }

    /** Row {@code r} into row b of a batch (T = seq): inputs, targets, padding masked with token 0. */
    void fill(int[] tokens, int[] targets, int b, int T, Row r) {
        int[] ids = r.ids();
        for (int t = 0; t < T; t++) {
            int i = b * T + t;
            tokens[i] = t < ids.length ? ids[t] : 0;
            targets[i] = t + 1 < ids.length && t + 1 >= r.firstScored() ? ids[t + 1] : CrossEntropy.IGNORE;
        }
    }
}
