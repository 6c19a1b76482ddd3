package jllm.format;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes a file so that a crash never leaves a partial one: the bytes go to a temporary file in the target's
 * folder, are forced to disk, and the temporary file is renamed over the target (an atomic rename on POSIX file
 * systems); then the folder itself is forced so the rename is durable. On failure the temporary file is deleted
 * and the target is left as it was.
 */
public final class AtomicFile {
    private AtomicFile() {}

    @FunctionalInterface
    public interface Content {
        void writeTo(WritableByteChannel ch) throws IOException;
    }

    public static void write(Path path, Content content) throws IOException {
        Path target = path.toAbsolutePath();
        Path dir = target.getParent();
        Path tmp = null;
        FileChannel ch = null;
        for (int attempt = 0; ch == null; attempt++) {
            tmp = dir.resolve("." + target.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
            try {
                ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 16) throw e;
            }
        }
        boolean done = false;
        try {
            try (FileChannel c = ch) {
                content.writeTo(c);
                c.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot rename " + tmp + " to " + target + " atomically", e);
            }
            done = true;
        } finally {
            if (!done) Files.deleteIfExists(tmp);
        }
        forceDirectory(dir);
    }

    public static void writeFully(WritableByteChannel ch, byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) ch.write(b);
    }

    private static void forceDirectory(Path dir) {
        // Linux allows fsync on a folder opened for reading; where a platform refuses, the file is already on disk.
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // best effort, see above
        }
    }
}
