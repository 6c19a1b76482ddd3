package jllm.format.hf;

import jllm.format.AtomicFile;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * The package's JSON settings (RFC 8259 via Jackson). Reading is strict: duplicate keys and trailing tokens are
 * errors, and nesting is limited so a hostile file fails fast. Writing has two styles: the compact form of a
 * safetensors header, spelled as the reference writer (serde_json) spells it, and the indented form Hugging Face
 * uses for config.json, tokenizer.json and adapter_config.json.
 */
final class Json {
    private Json() {}

    /** No header or config nests deeper than a handful of levels; 64 leaves room and stops hostile nesting early. */
    static final int MAX_NESTING = 64;

    static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    static {
        MAPPER.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING).build());
    }

    /** Two-space indentation, "key": value, one array element per line: the look of Python's json.dumps(indent=2). */
    static final ObjectWriter PRETTY = MAPPER.writer(new DefaultPrettyPrinter()
            .withObjectIndenter(new DefaultIndenter("  ", "\n"))
            .withArrayIndenter(new DefaultIndenter("  ", "\n"))
            .withSeparators(Separators.createDefaultInstance().withObjectFieldValueSpacing(Separators.Spacing.AFTER)));

    /** Writes {@code node} indented, with a final newline, atomically. */
    static void writePretty(Path path, JsonNode node) throws IOException {
        byte[] bytes;
        try {
            bytes = (PRETTY.writeValueAsString(node) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException("cannot serialize " + path.getFileName() + ": " + e.getOriginalMessage(), e);
        }
        AtomicFile.write(path, ch -> AtomicFile.writeFully(ch, bytes));
    }

    /**
     * Appends {@code s} as a JSON string the way serde_json writes it: quote, backslash and control characters
     * escaped ({@code \b \t \n \f \r}, others as lower-case "backslash u00xx" (4 hex digits)); everything else, non-ASCII included,
     * written as itself.
     */
    static void appendSerdeString(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\t' -> out.append("\\t");
                case '\n' -> out.append("\\n");
                case '\f' -> out.append("\\f");
                case '\r' -> out.append("\\r");
                default -> {
                    if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
                    else out.append(c);
                }
            }
        }
        out.append('"');
    }
}
