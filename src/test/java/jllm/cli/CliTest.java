package jllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jllm.testing.TestData;
import picocli.CommandLine;

/** The command line contract: stdout carries only results, errors are one line with a non-zero exit code. */
class CliTest {
    static final String MODEL = TestData.file("gguf/tiny-random-llama-gguf/llama-2-tiny-random.gguf").toString();

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void generatePrintsOnlyTheContinuation() {
        Run r = run("generate", "-m", MODEL, "-p", "The quick", "-n", "8", "--temp", "0", "-t", "2");
        assertThat(r.code()).isZero();
        // llama.cpp's llama-simple -n 8 "The quick" continues with exactly this text on this file
        assertThat(r.out()).isEqualTo(" früya HarttekupsologЕfahrt" + System.lineSeparator());
        assertThat(r.err()).contains("generated 8 tokens");
    }

    @Test
    void everyCommandHasHelp() {
        for (String cmd : Main.commandLine().getSubcommands().keySet()) {
            if (cmd.equals("help")) continue;
            Run r = run(cmd, "--help");
            assertThat(r.code()).as(cmd + " --help").isZero();
            assertThat(r.out()).as(cmd + " --help").contains("Usage: jllm " + cmd);
        }
    }

    @Test
    void errorsAreOneLineWithNonZeroExitAndTraceOnlyWhenVerbose(@TempDir Path tmp) throws Exception {
        Path bad = tmp.resolve("bad.gguf");
        Files.write(bad, "GGUF\u0003\0\0\0 this is not a model".getBytes());
        Run r = run("generate", "-m", bad.toString(), "-p", "x");
        assertThat(r.code()).isEqualTo(Main.EXIT_ERROR);
        assertThat(r.out()).isEmpty();
        assertThat(r.err().strip().lines().count()).isEqualTo(1);
        assertThat(r.err()).startsWith("jllm: error: bad.gguf:");
        Run v = run("generate", "-m", bad.toString(), "-p", "x", "--verbose");
        assertThat(v.err().lines().count()).isGreaterThan(3);
        assertThat(v.err()).contains("at jllm.");

        Run missing = run("generate", "-m", tmp.resolve("nope.gguf").toString(), "-p", "x");
        assertThat(missing.err().strip()).isEqualTo("jllm: error: model file not found: " + tmp.resolve("nope.gguf"));
        Run badFlag = run("generate", "-m", MODEL, "-p", "x", "--top-p", "1.5");
        assertThat(badFlag.code()).isNotZero();
        assertThat(badFlag.err()).contains("--top-p must be in (0, 1], got 1.5");
    }

    @Test
    void chatRunsTwoTurnsReusingTheKvCache() {
        CommandLine cl = Main.commandLine();
        ChatCommand chat = cl.getSubcommands().get("chat").getCommand();
        chat.input = new java.io.ByteArrayInputStream("Hello\nHow are you?\n/exit\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute("chat", "-m", MODEL, "-n", "4", "--temp", "0", "-t", "2", "--chat-template", "llama2");
        assertThat(code).isZero();
        java.util.List<String> turns = err.toString().lines().filter(l -> l.startsWith("jllm: turn:")).toList();
        assertThat(turns).hasSize(2);
        // turn 2 re-evaluates only what the cache does not hold: at least the whole first prompt is reused
        java.util.regex.Pattern p = java.util.regex.Pattern.compile("turn: (\\d+) prompt tokens, (\\d+) evaluated");
        java.util.regex.Matcher m1 = p.matcher(turns.get(0)), m2 = p.matcher(turns.get(1));
        assertThat(m1.find() && m2.find()).isTrue();
        int firstPrompt = Integer.parseInt(m1.group(1));
        assertThat(Integer.parseInt(m2.group(2))).isLessThanOrEqualTo(Integer.parseInt(m2.group(1)) - firstPrompt);
        assertThat(out.toString().lines().count()).isEqualTo(2);
    }
}
