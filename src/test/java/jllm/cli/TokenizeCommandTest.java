package jllm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import jllm.generate.EmbeddedModel;
import picocli.CommandLine;

/**
 * {@code jllm tokenize} run in-process through the root command's error handling. The expected ids are llama.cpp's
 * (llama-tokenize b4747 on the same vocabulary files; "Hello world" is also case 10 of the shared llama-spm .out).
 */
class TokenizeCommandTest {

    record Result(int exit, String out, String err) {}

    static Result run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    static Path vocab(String name) {
        String root = System.getProperty("jllm.testdata");
        assertTrue(root != null, "system property jllm.testdata is not set (Maven sets it to ../shared/testdata)");
        Path p = Path.of(root, "tokenizer", "llamacpp-vocab", "ggml-vocab-" + name + ".gguf");
        assertTrue(Files.isRegularFile(p), "missing shared test data file " + p.toAbsolutePath());
        return p;
    }

    @Test
    void printsIdsWithBos() {
        Result r = run("tokenize", "-m", vocab("llama-spm").toString(), "Hello world");
        assertEquals(0, r.exit(), r.err());
        assertEquals("[1, 15043, 3186]\n", r.out().replace("\r\n", "\n"));
    }

    @Test
    void noBos() {
        Result r = run("tokenize", "-m", vocab("llama-spm").toString(), "--no-bos", "Hello world");
        assertEquals("[15043, 3186]\n", r.out().replace("\r\n", "\n"));
    }

    @Test
    void parseSpecial() {
        // llama-tokenize -m ggml-vocab-llama-bpe.gguf -p "Hi<|eot_id|>" --ids [--no-parse-special]
        Result parsed = run("tokenize", "-m", vocab("llama-bpe").toString(), "--parse-special", "Hi<|eot_id|>");
        assertEquals("[128000, 13347, 128009]\n", parsed.out().replace("\r\n", "\n"));
        Result literal = run("tokenize", "-m", vocab("llama-bpe").toString(), "Hi<|eot_id|>");
        assertEquals("[128000, 13347, 27, 91, 68, 354, 851, 91, 29]\n", literal.out().replace("\r\n", "\n"));
    }

    @Test
    void json() throws Exception {
        Result r = run("tokenize", "-m", vocab("llama-spm").toString(), "--json", "Hi 🚀");
        assertEquals(0, r.exit(), r.err());
        JsonNode root = new ObjectMapper().readTree(r.out());
        assertEquals("[1,6324,29871,243,162,157,131]", root.get("ids").toString());
        JsonNode tokens = root.get("tokens");
        assertEquals("<s>", tokens.get(0).get("text").asText());
        assertEquals("CONTROL", tokens.get(0).get("type").asText());
        assertEquals("[]", tokens.get(0).get("bytes").toString());
        assertEquals("▁Hi", tokens.get(1).get("text").asText());
        assertEquals(" Hi", tokens.get(1).get("piece").asText());
        assertEquals("<0xF0>", tokens.get(3).get("text").asText());
        assertEquals("[240]", tokens.get(3).get("bytes").toString());
        assertEquals("BYTE", tokens.get(3).get("type").asText());
        // decode keeps the prefix space when the ids start with BOS (llama.cpp's detokenize does the same)
        assertEquals(" Hi 🚀", root.get("text").asText());
    }

    @Test
    void missingFileIsOneLineError(@TempDir Path dir) {
        Result r = run("tokenize", "-m", dir.resolve("nope.gguf").toString(), "x");
        assertEquals(Main.EXIT_ERROR, r.exit());
        assertEquals("jllm: error: model file not found: " + dir.resolve("nope.gguf"), r.err().strip());
    }

    @Test
    void notAGgufFileIsOneLineError(@TempDir Path dir) throws Exception {
        Path junk = Files.writeString(dir.resolve("junk.gguf"), "this is not a GGUF file at all, just text");
        Result r = run("tokenize", "-m", junk.toString(), "x");
        assertEquals(Main.EXIT_ERROR, r.exit());
        assertTrue(r.err().startsWith("jllm: error: junk.gguf: bad magic"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }

    @Test
    void withoutModelUsesTheEmbeddedOne() throws Exception {
        Result r = run("tokenize", "x");
        if (EmbeddedModel.model().isPresent()) {
            assertEquals(0, r.exit(), r.err());
            assertTrue(r.out().startsWith("["), r.out());
        } else {
            assertEquals(Main.EXIT_ERROR, r.exit());
            assertEquals("jllm: error: no -m given and this build has no embedded default model", r.err().strip());
        }
    }

    @Test
    void missingTextIsUsageError() {
        Result r = run("tokenize", "-m", vocab("gpt-2").toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("TEXT"), r.err());
    }
}
