package jllm.generate;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The default model shipped inside the jar ({@code /jllm/default/model.gguf}, trained by jllm itself; see the
 * README). GGUF files are memory-mapped, so the resource is copied once to a cache file named by its SHA-256
 * (written to a temporary file and moved atomically, so concurrent first runs cannot see a partial file).
 */
public final class EmbeddedModel {
    public static final String MODEL_RESOURCE = "/jllm/default/model.gguf";
    public static final String ADAPTER_RESOURCE = "/jllm/default/adapter.gguf";

    private EmbeddedModel() {}

    /** The cached file of the embedded model, or empty when this build has none. */
    public static Optional<Path> model() throws IOException {
        return extract(MODEL_RESOURCE);
    }

    /** The cached file of the embedded LoRA adapter, or empty when this build has none. */
    public static Optional<Path> adapter() throws IOException {
        return extract(ADAPTER_RESOURCE);
    }

    static Optional<Path> extract(String resource) throws IOException {
        byte[] bytes;
        try (InputStream in = EmbeddedModel.class.getResourceAsStream(resource)) {
            if (in == null) return Optional.empty();
            bytes = in.readAllBytes();
        }
        String hash;
        try {
            hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        Path dir = cacheDir();
        String name = resource.substring(resource.lastIndexOf('/') + 1);
        Path target = dir.resolve(name.replace(".gguf", "-" + hash + ".gguf"));
        if (Files.isRegularFile(target) && Files.size(target) == bytes.length) return Optional.of(target);
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".extract-", ".tmp");
        try {
            Files.write(tmp, bytes);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
        return Optional.of(target);
    }

    static Path cacheDir() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("jllm");
    }
}
