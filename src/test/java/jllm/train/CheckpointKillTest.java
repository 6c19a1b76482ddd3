package jllm.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A process killed (SIGKILL) while it writes a checkpoint leaves the previous checkpoint intact: a child JVM saves
 * 75 MB checkpoints in a loop (the k-th filled with the value k), the test waits for its second save to start
 * writing (the temporary file appears) and kills it a random 0-40 ms later, and every time the file on disk must load completely and be one whole checkpoint: step k with every
 * weight and optimizer value equal to k, for a k the child had reported saved (or the one it was writing, if the
 * rename had happened but the "saved" line had not been printed).
 */
class CheckpointKillTest {
    @TempDir Path tmp;

    @Test
    void killedWriteLeavesThePreviousCheckpointIntact() throws Exception {
        Path file = tmp.resolve("train-state.gguf");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Random rnd = new Random(3);
        int kills = 0;
        long midWrite = 0;
        for (int round = 0; round < 4; round++) {
            Process child = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "-Xmx1g", "-cp",
                    System.getProperty("java.class.path"), CheckpointKillChild.class.getName(), file.toString())
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            List<Integer> saved = new CopyOnWriteArrayList<>();
            Thread reader = new Thread(() -> {
                try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream()))) {
                    for (String line; (line = out.readLine()) != null; ) saved.add(Integer.parseInt(line.substring(6)));
                } catch (java.io.IOException closed) {
                    // the kill closed the pipe
                }
            });
            reader.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (saved.isEmpty() && System.nanoTime() < deadline) Thread.sleep(5); // the first complete save
            assertThat(saved).as("child saves").isNotEmpty();
            // wait until the next save is under way (its temporary file exists), then kill it a little later
            while (tmpFiles() == 0 && System.nanoTime() < deadline) Thread.onSpinWait();
            Thread.sleep(rnd.nextInt(40));
            child.destroyForcibly(); // SIGKILL: no shutdown hooks, no finally blocks
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            reader.join(5000);
            kills++;
            int last = saved.get(saved.size() - 1);

            Checkpoint.State st = Checkpoint.load(file, false);
            long k = st.step();
            assertThat(k).as("checkpoint step after kill %d (last reported save %d)", kills, last).isBetween((long) last, (long) last + 1);
            assertThat(st.dataPosition()).isEqualTo(10 * k);
            for (Parameters.Entry e : st.params().entries()) {
                for (float v : e.value()) if (v != k) throw new AssertionError(e.name() + " holds " + v + " in checkpoint " + k);
            }
            for (var e : st.optimizer().entrySet()) {
                for (float v : e.getValue()) if (v != k) throw new AssertionError("opt." + e.getKey() + " holds " + v + " in checkpoint " + k);
            }
            assertThat(st.optimizer()).hasSize(2 * st.params().entries().size());
            long stale = tmpFiles(), partial;
            try (var l = Files.list(tmp)) {
                partial = l.filter(p -> p.getFileName().toString().endsWith(".tmp")).mapToLong(p -> p.toFile().length()).sum();
            }
            System.out.printf("kill %d: %d saves reported, checkpoint %d intact (%d bytes); %d stale temporary file(s) of %d bytes%n",
                    kills, saved.size(), k, Files.size(file), stale, partial);
            if (k == last) midWrite += stale;
        }
        assertThat(midWrite).as("kills that interrupted a write").isPositive();
        // the next save removes what the kills left behind
        Checkpoint.removeStaleTemporaries(file);
        assertThat(tmpFiles()).isZero();
    }

    private long tmpFiles() throws java.io.IOException {
        try (var s = Files.list(tmp)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".tmp")).count();
        }
    }
}
