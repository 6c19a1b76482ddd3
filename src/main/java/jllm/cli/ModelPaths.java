package jllm.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What {@code -m} names: a GGUF file, or a model folder such as {@code jllm train --out} writes, whose model is
 * {@code model.gguf}.
 */
final class ModelPaths {
    private ModelPaths() {}

    static final String FOLDER_MODEL = "model.gguf";

    /** The GGUF file for {@code -m path}; a folder resolves to its model.gguf. */
    static Path resolve(Path path) {
        if (Files.isDirectory(path)) {
            Path m = path.resolve(FOLDER_MODEL);
            if (!Files.isRegularFile(m)) throw new IllegalArgumentException("model folder " + path + " has no " + FOLDER_MODEL);
            return m;
        }
        if (!Files.isRegularFile(path)) throw new IllegalArgumentException("model file not found: " + path);
        return path;
    }
}
