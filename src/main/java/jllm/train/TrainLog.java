package jllm.train;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The training log, one JSON object per step and line (JSON Lines), flushed after every line:
 * <pre>  {"step": 0, "loss": 3.71, "lr": 0.0003, "grad_norm": 1.25, "tokens_per_s": 812.4}</pre>
 * {@code loss} is the batch loss before that step's update; {@code step} counts from 0. A resumed run drops the
 * lines of steps after its checkpoint and appends.
 */
public final class TrainLog implements AutoCloseable {
    private final BufferedWriter out;

    public TrainLog(Path file, boolean append) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null) Files.createDirectories(dir);
        out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING);
    }

    public void write(Trainer.StepResult r) throws IOException {
        out.write(String.format(Locale.ROOT, "{\"step\": %d, \"loss\": %s, \"lr\": %s, \"grad_norm\": %s, \"tokens_per_s\": %.1f}",
                r.step(), num(r.loss()), num(r.lr()), num(r.gradNorm()), r.tokensPerSecond()));
        out.newLine();
        out.flush();
    }

    private static String num(double v) {
        return Double.isFinite(v) ? Double.toString(v) : "null";
    }

    /** (step, loss) pairs of a log file, in file order; lines without a finite loss are skipped. */
    public static List<double[]> readLosses(Path file) throws IOException {
        List<double[]> points = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) continue;
            JsonNode o = json.readTree(line);
            if (o.hasNonNull("step") && o.hasNonNull("loss")) points.add(new double[] {o.get("step").asDouble(), o.get("loss").asDouble()});
        }
        return points;
    }

    /**
     * Keeps only the lines of steps before {@code step} (a run killed after its last checkpoint may have logged steps
     * that the resumed run repeats); rewritten atomically. A missing file is left missing.
     */
    public static void truncate(Path file, long step) throws IOException {
        if (!Files.isRegularFile(file)) return;
        ObjectMapper json = new ObjectMapper();
        List<String> keep = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) continue;
            JsonNode o = json.readTree(line);
            if (o.hasNonNull("step") && o.get("step").asLong() < step) keep.add(line);
        }
        Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), "." + file.getFileName(), ".tmp");
        try {
            Files.write(tmp, keep, StandardCharsets.UTF_8);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
