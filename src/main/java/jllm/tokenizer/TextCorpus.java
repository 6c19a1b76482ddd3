package jllm.tokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The documents of a text file that a tokenizer is trained on, read as a stream (UTF-8; malformed bytes are an
 * error naming the file):
 * <ul>
 *   <li>a file named {@code *.jsonl}: JSON Lines, one object a line; its {@code "text"}, or its {@code "prompt"} and
 *       {@code "completion"} (two documents: a trainer encodes them apart), are the documents; blank lines are
 *       skipped; a line with none of these fields is an error naming the line;</li>
 *   <li>any other file: plain text, one document, handed on in pieces of about {@link #PIECE_CHARS} characters cut
 *       just after a line break that a non-white-space character follows. No word of the supported
 *       pre-tokenizers (GPT-2's, Llama 3's, Qwen2's) reaches across such a point (none continues past a line break
 *       into a non-space character, and they look ahead but never back), so the pieces' words are the whole text's
 *       words.</li>
 * </ul>
 */
public final class TextCorpus {
    /** The size plain text is handed on in, in UTF-16 chars (a piece may be longer when no cut point is near). */
    public static final int PIECE_CHARS = 1 << 20;

    private TextCorpus() {}

    /** Whether {@code file} is read as JSON Lines (by its extension). */
    public static boolean isJsonLines(Path file) {
        return file.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".jsonl");
    }

    /** Hands each document (or piece of plain text) of {@code file} to {@code sink}; returns the characters read. */
    public static long read(Path file, Consumer<String> sink) throws IOException {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("data file not found: " + file);
        try (Reader in = new InputStreamReader(Files.newInputStream(file), StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT))) {
            return isJsonLines(file) ? readJsonLines(file, new BufferedReader(in, 1 << 16), sink) : readPlain(in, sink);
        } catch (MalformedInputException e) {
            throw new IllegalArgumentException(file + ": not valid UTF-8 text");
        }
    }

    private static long readPlain(Reader in, Consumer<String> sink) throws IOException {
        StringBuilder pending = new StringBuilder(2 * PIECE_CHARS);
        char[] buf = new char[1 << 16];
        long chars = 0;
        for (int n; (n = in.read(buf)) >= 0; ) {
            pending.append(buf, 0, n);
            chars += n;
            if (pending.length() >= PIECE_CHARS) {
                int cut = lastCut(pending);
                if (cut > 0) {
                    sink.accept(pending.substring(0, cut));
                    pending.delete(0, cut);
                }
            }
        }
        if (!pending.isEmpty()) sink.accept(pending.toString());
        return chars;
    }

    /** The last cut point of {@code s} ({@link #isCut}), or -1. */
    static int lastCut(CharSequence s) {
        for (int i = s.length() - 1; i > 0; i--) if (isCut(s, i)) return i;
        return -1;
    }

    /** Whether plain text may be cut before char i: a line break at i - 1 and a non-white-space character at i. */
    static boolean isCut(CharSequence s, int i) {
        char prev = s.charAt(i - 1), c = s.charAt(i);
        return (prev == '\n' || prev == '\r') && !Character.isWhitespace(c) && !Character.isSpaceChar(c);
    }

    private static long readJsonLines(Path file, BufferedReader in, Consumer<String> sink) throws IOException {
        ObjectMapper json = new ObjectMapper();
        long chars = 0;
        int lineNo = 0;
        for (String line; (line = in.readLine()) != null; ) {
            lineNo++;
            chars += line.length() + 1;
            if (line.isBlank()) continue;
            JsonNode o;
            try {
                o = json.readTree(line);
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException(file.getFileName() + " line " + lineNo + ": not JSON: " + e.getOriginalMessage());
            }
            if (o == null || !o.isObject()) throw new IllegalArgumentException(file.getFileName() + " line " + lineNo + ": not a JSON object");
            if (o.has("text")) {
                sink.accept(string(o, "text", file, lineNo));
            } else if (o.has("prompt") || o.has("completion")) {
                sink.accept(string(o, "prompt", file, lineNo));
                sink.accept(string(o, "completion", file, lineNo));
            } else {
                throw new IllegalArgumentException(file.getFileName() + " line " + lineNo
                        + ": expected a \"text\" field (or \"prompt\" and \"completion\")");
            }
        }
        return chars;
    }

    private static String string(JsonNode o, String key, Path file, int lineNo) {
        JsonNode v = o.get(key);
        if (v == null || !v.isTextual()) throw new IllegalArgumentException(file.getFileName() + " line " + lineNo + ": \"" + key + "\" must be a string");
        return v.asText();
    }
}
