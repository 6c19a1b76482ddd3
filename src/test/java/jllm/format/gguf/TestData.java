package jllm.format.gguf;

import java.nio.file.Files;
import java.nio.file.Path;

/** The shared test-data folder (system property {@code jllm.testdata}); absent means a failure naming it. */
public final class TestData {
    private TestData() {}

    public static Path dir() {
        String p = System.getProperty("jllm.testdata");
        if (p == null) throw new AssertionError("system property jllm.testdata is not set (expected ../shared/testdata)");
        Path dir = Path.of(p);
        if (!Files.isDirectory(dir)) {
            throw new AssertionError("test data folder " + dir.toAbsolutePath().normalize() + " is missing (jllm.testdata)");
        }
        return dir;
    }

    public static Path file(String relative) {
        Path f = dir().resolve(relative);
        if (!Files.isRegularFile(f)) throw new AssertionError("test data file " + f.toAbsolutePath().normalize() + " is missing");
        return f;
    }

    public static Path tinyRandomLlama() {
        return file("gguf/tiny-random-llama-gguf/llama-2-tiny-random.gguf");
    }
}
