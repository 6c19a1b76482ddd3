package jllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/find-jdk} reads a JDK's major version from its {@code release} file (no JVM start): a JAVA_HOME whose
 * release file says 25 is taken even though its {@code java} cannot run, and one whose release file says 17 is passed
 * over for a JDK >= 25 found elsewhere.
 */
class FindJdkTest {
    @TempDir
    Path tmp;

    @Test
    void theReleaseFileDecides() throws Exception {
        Path jdk25 = fakeJdk("jdk25", "25.0.1");
        assertThat(findJdk(jdk25)).isEqualTo(jdk25.toString());
        Path jdk17 = fakeJdk("jdk17", "17.0.2");
        String found = findJdk(jdk17);
        assertThat(found).isNotEqualTo(jdk17.toString()).isNotEmpty();
        assertThat(Files.readString(Path.of(found, "release"))).containsPattern("JAVA_VERSION=\"(2[5-9]|[3-9][0-9])");
    }

    /** A folder with a release file and bin/java, bin/javac that fail if anything runs them. */
    private Path fakeJdk(String name, String version) throws IOException {
        Path home = Files.createDirectories(tmp.resolve(name).resolve("bin")).getParent();
        Files.writeString(home.resolve("release"), "IMPLEMENTOR=\"test\"\nJAVA_VERSION=\"" + version + "\"\n");
        for (String tool : new String[] {"java", "javac"}) {
            Path p = home.resolve("bin").resolve(tool);
            Files.writeString(p, "#!/bin/sh\nexit 1\n");
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        return home;
    }

    private static String findJdk(Path javaHome) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", ". bin/find-jdk && echo \"$JAVA_HOME\"");
        pb.environment().put("JAVA_HOME", javaHome.toString());
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(p.waitFor()).as("find-jdk exit status, output: %s", out).isZero();
        return out;
    }
}
