package jllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jllm.format.gguf.GGUFFile;
import jllm.format.gguf.SyntheticModel;
import jllm.generate.Engine;
import jllm.model.KvCache;
import jllm.model.LlamaModel;
import jllm.tensor.GGMLType;
import jllm.tokenizer.Tokenizer;

/**
 * {@code jllm eval} on tiny random models (vocabulary trained by {@code jllm tokenizer train}) against a reference
 * computed here from the inference path: each window of at most seq + 1 tokens runs through
 * {@link LlamaModel#forward(int[], int, int, int, KvCache, LlamaModel.State, boolean)} with all logits, and the loss
 * is the mean of logsumexp(logits) - logits[target] in double over the scored positions. Tolerance: 1e-5 relative
 * on the loss (float32 logits from two batchings of the same layers); perplexity is exp(loss).
 */
class EvalCommandTest {
    static final double TOL = 1e-5;
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir static Path tmp;
    static Path vocab, text;

    @BeforeAll
    static void vocabulary() throws Exception {
        Path corpus = tmp.resolve("corpus.txt");
        Files.writeString(corpus, TokenizerTrainCommandTest.corpus(5, 20_000));
        vocab = tmp.resolve("vocab.gguf");
        TokenizerTrainCommandTest.Run r = TokenizerTrainCommandTest.run("tokenizer", "train", "--data", corpus.toString(),
                "--vocab-size", "384", "--out", vocab.toString());
        assertThat(r.code()).as(r.err()).isZero();
        text = tmp.resolve("held.txt");
        Files.writeString(text, TokenizerTrainCommandTest.corpus(77, 1500));
    }

    static Path model(GGMLType type, String name) throws Exception {
        Path m = tmp.resolve(name);
        if (Files.exists(m)) return m;
        var spec = new SyntheticModel.Spec("llama", 32, 2, 4, 2, 64, 0, 64, type, type, false, 1f, 10000f, 7, false);
        try (GGUFFile v = GGUFFile.open(vocab)) {
            SyntheticModel.write(spec, v, m);
        }
        return m;
    }

    static JsonNode eval(Path model, Path data, int batch, int seq) throws Exception {
        TokenizerTrainCommandTest.Run r = TokenizerTrainCommandTest.run("eval", "-m", model.toString(), "--data", data.toString(),
                "--batch", String.valueOf(batch), "--seq", String.valueOf(seq), "--json", "-t", "2");
        assertThat(r.code()).as(r.err()).isZero();
        return JSON.readTree(r.out());
    }

    /** A row and the index of its first scored target (targets are ids[1..]). */
    record Row(int[] ids, int firstScored) {}

    /** The reference: sum of -log p(target) over the rows' scored positions, through the inference forward. */
    static double[] reference(Path model, List<Row> rows) throws Exception {
        double sum = 0;
        long n = 0;
        try (Engine e = Engine.open(model, 2)) {
            LlamaModel m = e.model();
            int vocab = m.config().vocab();
            for (Row row : rows) {
                int T = row.ids().length - 1;
                LlamaModel.State s = m.newState(T);
                float[] logits = m.forward(row.ids(), 0, T, 0, new KvCache(m.config(), T), s, true);
                for (int t = 0; t < T; t++) {
                    if (t + 1 < row.firstScored()) continue;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int v = 0; v < vocab; v++) max = Math.max(max, logits[t * vocab + v]);
                    double z = 0;
                    for (int v = 0; v < vocab; v++) z += Math.exp(logits[t * vocab + v] - max);
                    sum += max + Math.log(z) - logits[t * vocab + row.ids()[t + 1]];
                    n++;
                }
            }
        }
        return new double[] {sum / n, n};
    }

    /** Non-overlapping windows of seq predictions: tokens [k seq, k seq + seq + 1), a tail of at least 2 tokens too. */
    static void windows(List<Row> rows, int[] ids, int seq) {
        for (int start = 0; start + 1 < ids.length; start += seq) {
            rows.add(new Row(Arrays.copyOfRange(ids, start, Math.min(ids.length, start + seq + 1)), 1));
        }
    }

    static Tokenizer tokenizer(Path model) throws Exception {
        try (Engine e = Engine.open(model, 1)) {
            return e.tokenizer();
        }
    }

    static void assertLoss(JsonNode got, double[] expected) {
        double loss = got.get("loss").asDouble();
        assertThat(got.get("tokens").asLong()).isEqualTo((long) expected[1]);
        assertThat(Math.abs(loss - expected[0]) / expected[0]).as("loss " + loss + " vs reference " + expected[0]).isLessThan(TOL);
        assertThat(got.get("perplexity").asDouble()).isEqualTo(Math.exp(loss));
    }

    @Test
    void plainTextMatchesTheInferencePath() throws Exception {
        for (GGMLType type : new GGMLType[] {GGMLType.F32, GGMLType.F16, GGMLType.Q8_0}) {
            Path m = model(type, "m-" + type + ".gguf");
            Tokenizer tok = tokenizer(m);
            List<Row> rows = new ArrayList<>();
            windows(rows, tok.encode(Files.readString(text), true, false), 24);
            assertThat(rows.size()).isGreaterThan(5);
            double[] expected = reference(m, rows);
            assertLoss(eval(m, text, 3, 24), expected);
            assertLoss(eval(m, text, 1, 24), expected);
        }
    }

    @Test
    void jsonlTextPromptCompletionAndInputIds() throws Exception {
        Path m = model(GGMLType.F32, "m-F32.gguf");
        Tokenizer tok = tokenizer(m);
        int eos = tok.eos();

        // JSONL text: each line's ids + EOS, in windows
        Path a = tmp.resolve("a.jsonl");
        String l1 = TokenizerTrainCommandTest.corpus(200, 300), l2 = TokenizerTrainCommandTest.corpus(201, 120);
        Files.writeString(a, "{\"text\": " + JSON.writeValueAsString(l1) + "}\n{\"text\": " + JSON.writeValueAsString(l2) + "}\n");
        List<Row> rows = new ArrayList<>();
        for (String l : List.of(l1, l2)) windows(rows, append(tok.encode(l, true, false), eos), 16);
        assertLoss(eval(m, a, 2, 16), reference(m, rows));

        // prompt/completion: scored on the completion (and EOS) only
        Path b = tmp.resolve("b.jsonl");
        String[][] pc = {{"we train the model", " of byte pair merge."}, {"床前明月光，", "疑是地上霜。"}, {"a", " token"}};
        StringBuilder sb = new StringBuilder();
        rows.clear();
        for (String[] x : pc) {
            sb.append("{\"prompt\": ").append(JSON.writeValueAsString(x[0])).append(", \"completion\": ")
                    .append(JSON.writeValueAsString(x[1])).append("}\n");
            int[] p = tok.encode(x[0], true, false);
            int[] ids = append(concat(p, tok.encode(x[1], false, false)), eos);
            rows.add(new Row(ids, p.length));
        }
        Files.writeString(b, sb);
        JsonNode got = eval(m, b, 2, 40);
        double[] expected = reference(m, rows);
        assertLoss(got, expected);
        long completionTokens = 0;
        for (Row r : rows) completionTokens += r.ids().length - r.firstScored();
        assertThat(got.get("tokens").asLong()).isEqualTo(completionTokens);

        // pre-tokenized input_ids
        Path c = tmp.resolve("c.jsonl");
        int[] ids = {5, 300, 17, 42, 42, 42, 9, 383, 0, 1, 2, 3, 250, 251, 7};
        Files.writeString(c, "{\"input_ids\": " + JSON.writeValueAsString(ids) + "}\n");
        rows.clear();
        windows(rows, ids, 6);
        assertLoss(eval(m, c, 4, 6), reference(m, rows));
    }

    @Test
    void plainOutputAndErrors() throws Exception {
        Path m = model(GGMLType.F32, "m-F32.gguf");
        TokenizerTrainCommandTest.Run r = TokenizerTrainCommandTest.run("eval", "-m", m.toString(), "--data", text.toString(), "--seq", "32");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("loss ").contains("nats/token, perplexity ");
        TokenizerTrainCommandTest.Run bad = TokenizerTrainCommandTest.run("eval", "-m", m.toString(), "--data", tmp.resolve("none.txt").toString());
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.err()).contains("none.txt");
        Path ids = tmp.resolve("bad.jsonl");
        Files.writeString(ids, "{\"input_ids\": [1, 2, 999]}\n");
        TokenizerTrainCommandTest.Run out = TokenizerTrainCommandTest.run("eval", "-m", m.toString(), "--data", ids.toString());
        assertThat(out.code()).isEqualTo(1);
        assertThat(out.err()).contains("input_ids[2] = 999");
    }

    static int[] append(int[] a, int x) {
        int[] r = Arrays.copyOf(a, a.length + 1);
        r[a.length] = x;
        return r;
    }

    static int[] concat(int[] a, int[] b) {
        int[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
