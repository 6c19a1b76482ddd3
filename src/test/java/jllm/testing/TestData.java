package jllm.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates ../shared/testdata (system property {@code jllm.testdata}, set by the build). When it is absent the
 * test fails with a message naming the folder: CI has it, and a silent skip would hide a broken check.
 */
public final class TestData {
    private TestData() {}

    public static Path root() {
        String p = System.getProperty("jllm.testdata", "../shared/testdata");
        Path root = Path.of(p).toAbsolutePath().normalize();
        if (!Files.isDirectory(root)) {
            throw new IllegalStateException("test data folder " + root + " is absent: these tests read real files from "
                    + "../shared/testdata (see its README); run them from a checkout that has it beside the project");
        }
        return root;
    }

    public static Path file(String relative) {
        Path f = root().resolve(relative);
        if (!Files.exists(f)) throw new IllegalStateException("test data file " + f + " is missing");
        return f;
    }
}
