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
    /** The embedded LoRA adapter: a PEFT folder (adapter_config.json, adapter_model.safetensors). */
    public static final String ADAPTER_DIR = "/jllm/default/adapter/";
    static final String[] ADAPTER_FILES = {"adapter_config.json", "adapter_model.safetensors"};

    private EmbeddedModel() {}

    /** The cached file of the embedded model, or empty when this build has none. */
    public static Optional<Path> model() throws IOException {
        return extract(MODEL_RESOURCE);
    }

    /** The cached folder of the embedded LoRA adapter (PEFT format), or empty when this build has none. */
    public static Optional<Path> adapter() throws IOException {
        byte[][] files = new byte[ADAPTER_FILES.length][];
        for (int i = 0; i < files.length; i++) {
            files[i] = read(ADAPTER_DIR + ADAPTER_FILES[i]);
            if (files[i] == null) return Optional.empty();
        }
        Path dir = cacheDir().resolve("adapter-" + hash(files));
        for (int i = 0; i < files.length; i++) install(files[i], dir.resolve(ADAPTER_FILES[i]));
        return Optional.of(dir);
    }

    static Optional<Path> extract(String resource) throws IOException {
        byte[] bytes = read(resource);
        if (bytes == null) return Optional.empty();
        String name = resource.substring(resource.lastIndexOf('/') + 1);
        Path target = cacheDir().resolve(name.replace(".gguf", "-" + hash(bytes) + ".gguf"));
        install(bytes, target);
        return Optional.of(target);
    }

    private static byte[] read(String resource) throws IOException {
        try (InputStream in = EmbeddedModel.class.getResourceAsStream(resource)) {
            return in == null ? null : in.readAllBytes();
        }
    }

    private static String hash(byte[]... parts) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (byte[] p : parts) md.update(p);
            return HexFormat.of().formatHex(md.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes bytes to target unless a file of that name and size is there (names carry the content hash). */
    private static void install(byte[] bytes, Path target) throws IOException {
        if (Files.isRegularFile(target) && Files.size(target) == bytes.length) return;
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempFile(target.getParent(), ".extract-", ".tmp");
        try {
            Files.write(tmp, bytes);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    static Path cacheDir() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("jllm");
    }
}
