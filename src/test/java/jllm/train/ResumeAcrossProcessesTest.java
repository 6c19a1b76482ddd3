package jllm.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import jllm.format.gguf.GGUFFile;
import jllm.format.gguf.GGUFTensorInfo;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --resume} continues bit for bit across processes and JIT states: one JVM trains 8 steps straight (default
 * JIT); another, limited to the C1 compiler, is halted after step 4 (its last checkpoint is step 3); a third, running
 * interpreted only ({@code -Xint}), resumes from that checkpoint to step 8. The model files of the first and third
 * must hold the same bytes in every tensor, and their logs the same losses. (This is why the training path avoids
 * vector lane reductions and vector transcendental functions, whose results may differ between interpreted and
 * compiled code.)
 */
class ResumeAcrossProcessesTest {
    @TempDir Path tmp;

    @ParameterizedTest
    @CsvSource({"llama, fp32", "gpt2, fp32", "llama, mixed"})
    void resumedInAnotherJvmEqualsUninterrupted(String arch, String precision) throws Exception {
        Path data = tmp.resolve("data.txt");
        Files.writeString(data, "The quick brown fox jumps over the lazy dog. ".repeat(20));
        Path a = tmp.resolve("a"), b = tmp.resolve("b");
        assertThat(child(a, data, "straight", arch, precision)).isZero();
        assertThat(child(b, data, "stop", arch, precision, "-XX:TieredStopAtLevel=1")).isEqualTo(3);
        assertThat(child(b, data, "resume", arch, precision, "-Xint")).isZero();
        try (GGUFFile fa = GGUFFile.open(a.resolve(TrainingRun.MODEL)); GGUFFile fb = GGUFFile.open(b.resolve(TrainingRun.MODEL))) {
            assertThat(fb.tensors().keySet()).containsExactlyElementsOf(fa.tensors().keySet());
            for (GGUFTensorInfo t : fa.tensors().values()) {
                assertThat(fb.tensorData(t.name()).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE))
                        .as("%s %s tensor %s", arch, precision, t.name())
                        .containsExactly(fa.tensorData(t).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            }
        }
        assertThat(Files.readAllLines(b.resolve(TrainingRun.LOG)).stream().map(ResumeAcrossProcessesTest::loss).toList())
                .containsExactlyElementsOf(Files.readAllLines(a.resolve(TrainingRun.LOG)).stream().map(ResumeAcrossProcessesTest::loss).toList());
    }

    private static String loss(String line) {
        return line.replaceAll(", \"tokens_per_s\".*", "");
    }

    private static int child(Path dir, Path data, String mode, String arch, String precision, String... jvmFlags) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-Xmx512m"));
        cmd.addAll(List.of(jvmFlags));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), TrainChild.class.getName(), dir.toString(),
                data.toString(), mode, arch, precision));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmpLog(dir, mode)).start();
        assertThat(p.waitFor(300, TimeUnit.SECONDS)).as("child " + mode + " finished").isTrue();
        return p.exitValue();
    }

    private static java.io.File tmpLog(Path dir, String mode) throws java.io.IOException {
        Files.createDirectories(dir);
        return dir.resolve("child-" + mode + ".txt").toFile();
    }
}
