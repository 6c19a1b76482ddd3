package jllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jllm.format.gguf.GGUFFile;
import jllm.format.hf.HfTokenizer;
import jllm.tokenizer.Tokenizer;
import jllm.tokenizer.Tokenizers;
import picocli.CommandLine;

/**
 * {@code jllm tokenizer train} run in-process: the GGUF file it writes is read by {@code jllm tokenize} (ids equal
 * to the library's encoding of the file), the same input writes the same bytes, the tokenizer.json it writes reads
 * back (through the HF reader) as a tokenizer that encodes and decodes exactly as the GGUF one, and bad input is one
 * line and exit code 1.
 */
class TokenizerTrainCommandTest {
    @TempDir Path tmp;

    record Run(int code, String out, String err) {}

    /** The root command, with the commands of this branch added when Main does not register them yet. */
    static CommandLine commandLine() {
        CommandLine cl = Main.commandLine();
        if (!cl.getSubcommands().containsKey("tokenizer")) cl.addSubcommand(new TokenizerCommand());
        if (!cl.getSubcommands().containsKey("eval")) cl.addSubcommand(new EvalCommand());
        return cl;
    }

    static Run run(String... args) {
        CommandLine cl = commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    /** Seeded English-like and Chinese text. */
    static String corpus(long seed, int chars) {
        String[] words = "the a model token of and to byte pair merge text is in we train data weight layer".split(" ");
        String han = "床前明月光疑是地上霜举头望低思故乡春眠不觉晓处处闻啼鸟";
        SplittableRandom r = new SplittableRandom(seed);
        StringBuilder sb = new StringBuilder();
        while (sb.length() < chars) {
            if (r.nextInt(4) == 0) {
                for (int k = 0; k < 5; k++) sb.append(han.charAt(r.nextInt(han.length())));
                sb.append("，\n");
            } else {
                for (int k = 0, n = 3 + r.nextInt(8); k < n; k++) sb.append(k == 0 ? "" : " ").append(words[r.nextInt(words.length)]);
                sb.append(r.nextInt(3) == 0 ? ".\n" : ". ");
            }
        }
        return sb.toString();
    }

    @Test
    void trainsAVocabularyThatTokenizeReads() throws Exception {
        Path data = tmp.resolve("c.txt"), out = tmp.resolve("tok.gguf"), json = tmp.resolve("tokenizer.json");
        Files.writeString(data, corpus(1, 30_000));
        Run r = run("tokenizer", "train", "--data", data.toString(), "--vocab-size", "500", "--out", out.toString(),
                "--hf-json", json.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).contains("wrote " + out).contains("500 tokens").contains("pre-tokenizer llama-bpe");

        String text = "we train the model 床前明月光 🦀 never seen";
        Tokenizer tok;
        try (GGUFFile f = GGUFFile.open(out)) {
            tok = Tokenizers.fromGGUF(f);
        }
        int[] ids = tok.encode(text, false, false);
        assertThat(tok.decode(ids)).isEqualTo(text);
        Run t = run("tokenize", "-m", out.toString(), "--no-bos", text);
        assertThat(t.code()).as(t.err()).isZero();
        assertThat(t.out().strip()).isEqualTo(TokenizeCommand.idList(ids));
        assertThat(tok.tokenText(499)).isEqualTo("<|endoftext|>");
        assertThat(tok.eos()).isEqualTo(499);

        // tokenizer.json read by the Hugging Face reader: the same vocabulary, the same ids
        Path dir = Files.createDirectories(tmp.resolve("hf"));
        Files.copy(json, dir.resolve("tokenizer.json"));
        Tokenizer hf = HfTokenizer.load(dir);
        assertThat(hf.vocabSize()).isEqualTo(500);
        String held = corpus(99, 3000) + text + "\r\n\ttabs   and  spaces 12345 émigré";
        assertThat(hf.encode(held, false, false)).containsExactly(tok.encode(held, false, false));
        assertThat(hf.decode(hf.encode(held, false, false))).isEqualTo(held);
    }

    @Test
    void sameInputWritesTheSameBytes() throws Exception {
        Path data = tmp.resolve("d.jsonl");
        StringBuilder jsonl = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            jsonl.append("{\"text\": \"").append(corpus(i, 400).replace("\n", "\\n")).append("\"}\n");
        }
        Files.writeString(data, jsonl);
        Path a = tmp.resolve("a.gguf"), b = tmp.resolve("b.gguf");
        for (Path out : new Path[] {a, b}) {
            Run r = run("tokenizer", "train", "--data", data.toString(), "--vocab-size", "400", "--out", out.toString(),
                    "--pre", "qwen2", "--special", "<s>", "</s>", "--add-bos");
            assertThat(r.code()).as(r.err()).isZero();
        }
        assertThat(Files.readAllBytes(b)).isEqualTo(Files.readAllBytes(a));
        try (GGUFFile f = GGUFFile.open(a)) {
            Tokenizer tok = Tokenizers.fromGGUF(f);
            assertThat(tok.bos()).isEqualTo(398);
            assertThat(tok.eos()).isEqualTo(399);
            assertThat(tok.encode("the", true, false)[0]).isEqualTo(398);
            assertThat(f.getString("tokenizer.ggml.pre", null)).isEqualTo("qwen2");
        }
    }

    @Test
    void badInputIsOneLineAndExitCodeOne() throws Exception {
        Run missing = run("tokenizer", "train", "--data", tmp.resolve("none.txt").toString(), "--vocab-size", "300",
                "--out", tmp.resolve("o.gguf").toString());
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err().strip()).isEqualTo("jllm: error: data file not found: " + tmp.resolve("none.txt"));
        Path data = tmp.resolve("x.txt");
        Files.writeString(data, "some text");
        Run small = run("tokenizer", "train", "--data", data.toString(), "--vocab-size", "100", "--out", tmp.resolve("o.gguf").toString());
        assertThat(small.code()).isEqualTo(1);
        assertThat(small.err()).contains("vocabulary size 100");
        Run pre = run("tokenizer", "train", "--data", data.toString(), "--vocab-size", "300", "--pre", "bloom", "--out", tmp.resolve("o.gguf").toString());
        assertThat(pre.code()).isEqualTo(1);
        assertThat(pre.err()).contains("'bloom'");
        assertThat(Files.exists(tmp.resolve("o.gguf"))).isFalse();
    }
}
