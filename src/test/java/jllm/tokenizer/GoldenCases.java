package jllm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import jllm.format.gguf.GGUFFile;
import jllm.format.gguf.GGUFValue;

/**
 * Reads llama.cpp's tokenizer test format (tests/test-tokenizer-0.cpp): an .inp file holds the texts, each followed by
 * "\n__ggml_vocab_test__\n"; the .out file has one line per text with the expected ids, space-separated. Also finds
 * the shared test data and caches the tokenizers built from it.
 */
final class GoldenCases {
    static final String SEPARATOR = "\n__ggml_vocab_test__\n";

    /** One case: its index in the file, the text and the expected ids. */
    record Case(String file, int index, String text, int[] ids) {
        @Override
        public String toString() {
            String t = text.length() > 40 ? text.substring(0, 40) + "..." : text;
            return file + " #" + index + " '" + t.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r") + "'";
        }
    }

    private static final Map<String, VocabTokenizer> CACHE = new ConcurrentHashMap<>();

    private GoldenCases() {}

    /** The shared test data folder (system property jllm.testdata), failing clearly when it is absent. */
    static Path testdata(String sub) {
        String root = System.getProperty("jllm.testdata");
        assertTrue(root != null, "system property jllm.testdata is not set (Maven sets it to ../shared/testdata)");
        Path dir = Path.of(root).resolve(sub);
        assertTrue(Files.isDirectory(dir), "test data folder " + dir.toAbsolutePath()
                + " is missing: these tests need the shared test data (../shared/testdata of the checkout)");
        return dir;
    }

    static Path vocabDir() {
        return testdata("tokenizer/llamacpp-vocab");
    }

    /** The tokenizer of ggml-vocab-NAME.gguf (cached). */
    static VocabTokenizer vocab(String name) {
        return CACHE.computeIfAbsent(name, n -> {
            try (GGUFFile f = GGUFFile.open(vocabDir().resolve("ggml-vocab-" + n + ".gguf"))) {
                return Tokenizers.fromGGUF(f);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** The GPT-2 vocabulary with tokenizer.ggml.pre replaced by {@code pre} (cached). */
    static VocabTokenizer gpt2As(String pre) {
        return CACHE.computeIfAbsent("gpt-2-as-" + pre, n -> {
            try (GGUFFile f = GGUFFile.open(vocabDir().resolve("ggml-vocab-gpt-2.gguf"))) {
                Map<String, GGUFValue> md = new java.util.LinkedHashMap<>(f.metadata());
                md.put("tokenizer.ggml.pre", GGUFValue.ofString(pre));
                return Tokenizers.fromMetadata("gpt-2-as-" + pre, md);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    static List<String> splitInputs(String raw) {
        List<String> texts = new ArrayList<>();
        int pos = 0;
        while (pos < raw.length()) {
            int next = raw.indexOf(SEPARATOR, pos);
            if (next < 0) {
                texts.add(raw.substring(pos));
                break;
            }
            texts.add(raw.substring(pos, next));
            pos = next + SEPARATOR.length();
        }
        return texts;
    }

    static int[] parseIds(String line) {
        String s = line.strip();
        if (s.isEmpty()) return new int[0];
        return Arrays.stream(s.split(" +")).mapToInt(Integer::parseInt).toArray();
    }

    /** Cases from an .inp and an .out text; the counts must agree. */
    static List<Case> cases(String name, String inp, String out) {
        List<String> texts = splitInputs(inp);
        List<String> lines = new ArrayList<>(out.lines().toList());
        assertEquals(texts.size(), lines.size(), name + ": " + texts.size() + " texts but " + lines.size() + " result lines");
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) cases.add(new Case(name, i, texts.get(i), parseIds(lines.get(i))));
        return cases;
    }

    static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A file under src/test/resources/jllm/tokenizer/golden. */
    static String resource(String name) {
        try (InputStream in = GoldenCases.class.getResourceAsStream("/jllm/tokenizer/golden/" + name)) {
            if (in == null) throw new IllegalStateException("missing test resource jllm/tokenizer/golden/" + name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
