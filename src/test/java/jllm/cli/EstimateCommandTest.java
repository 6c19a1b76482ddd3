package jllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import jllm.estimate.Estimate;
import picocli.CommandLine;

/**
 * {@code jllm estimate} run in-process: the JSON carries only the contract's keys, {@code --explain} and
 * {@code --json} agree on every number, and the worked examples come out of the command line as they do out of
 * the library.
 */
class EstimateCommandTest {

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = new CommandLine(new EstimateCommand());
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    static JsonNode json(String... args) throws Exception {
        String[] a = java.util.Arrays.copyOf(args, args.length + 1);
        a[args.length] = "--json";
        Run r = run(a);
        assertThat(r.code()).as(r.err()).isZero();
        return new ObjectMapper().readTree(r.out());
    }

    /** Every {@code result: ... [key]} line of an explanation, read back to a number. */
    static Map<String, Double> explained(String text) {
        Map<String, Double> m = new HashMap<>();
        Pattern line = Pattern.compile("(?m)^\\s+(?:result|结果): (.*?)\\s+\\[([a-z_]+)]$");
        Matcher x = line.matcher(text);
        while (x.find()) m.put(x.group(2), leadingNumber(x.group(1)));
        return m;
    }

    static double leadingNumber(String s) {
        Matcher n = Pattern.compile("^([0-9][0-9,]*(?:\\.[0-9]+)?(?:e[+-]?[0-9]+)?)").matcher(s);
        if (!n.find()) throw new AssertionError("no number at the start of '" + s + "'");
        return Double.parseDouble(n.group(1).replace(",", ""));
    }

    static final List<List<String>> COMMANDS = List.of(
            List.of("infer", "-m", "llama-2-7b", "--batch", "4", "--seq", "2048", "--gpu", "a100-80gb"),
            List.of("infer", "-m", "mixtral-8x7b", "--dtype", "q4_k", "--seq", "32768", "--tp", "2", "--flash-attention"),
            List.of("infer", "-m", "t5-base", "--seq", "512", "--dtype", "fp32"),
            List.of("train", "-m", "llama-2-7b", "--mixed-precision", "--zero", "3", "--gpus", "64", "--seq", "4096", "--flash-attention", "--gpu", "h100-sxm"),
            List.of("train", "-m", "gpt-3-175b", "--mixed-precision", "--tp", "8", "--pp", "16", "--gpus", "1024", "--sp", "--recompute", "selective", "--seq", "2048", "--micro-batches", "64"),
            List.of("train", "-m", "llama-2-13b", "--lora-rank", "16", "--lora-targets", "all", "--qlora", "--double-quant", "--dtype", "bf16", "--mixed-precision", "--seq", "2048", "--batch", "4"),
            List.of("train", "--params", "2851e6", "--largest-layer", "32e6", "--gpus", "8", "--zero", "3", "--byte-model", "deepspeed", "--offload-optimizer"),
            List.of("train", "-m", "qwen2.5-7b", "--mixed-precision", "--zero", "2", "--dp", "8", "--offload-optimizer", "--optimizer", "adam8bit", "--seq", "1024", "--recompute", "full"),
            List.of("time", "--params", "175e9", "--tokens", "300e9", "--gpus", "1000", "--peak-tflops", "312", "--mfu", "0.3"),
            List.of("time", "-m", "llama-2-70b", "--method", "exact", "--seq", "4096", "--tokens", "2T", "--gpus", "2048", "--gpu", "a100-80gb", "--mfu", "0.4"),
            List.of("time", "-m", "llama-2-7b", "--seq", "4096", "--iteration-time", "12.5", "--global-batch", "1024", "--gpus", "256", "--gpu", "a100-80gb"),
            List.of("time", "-m", "llama-3-8b", "--roofline", "decode", "--seq", "8192", "--batch", "16", "--gpu", "h100-sxm"));

    /** JSON keys are exactly the contract's, and every key the JSON has is derived in --explain with the same value. */
    @Test
    void explainAndJsonAgree() throws Exception {
        for (List<String> c : COMMANDS) {
            String[] args = c.toArray(String[]::new);
            JsonNode j = json(args);
            String[] ex = java.util.Arrays.copyOf(args, args.length + 1);
            ex[args.length] = "--explain";
            Run r = run(ex);
            assertThat(r.code()).as(r.err()).isZero();
            Map<String, Double> shown = explained(r.out());
            java.util.Iterator<String> names = j.fieldNames();
            int n = 0;
            while (names.hasNext()) {
                String k = names.next();
                n++;
                assertThat(Estimate.KEYS).as(c + ": key " + k).contains(k);
                assertThat(shown).as(c + ": " + k + " in --explain").containsKey(k);
                double v = j.get(k).asDouble();
                double tol = j.get(k).isIntegralNumber() ? 0.5 : Math.abs(v) * 1e-3 + 1e-9;
                assertThat(shown.get(k)).as(c + ": " + k).isCloseTo(v, org.assertj.core.api.Assertions.within(tol));
            }
            assertThat(shown.keySet()).as(c.toString()).hasSize(n);
        }
    }

    @Test
    void workedExamplesFromTheCommandLine() throws Exception {
        assertThat(json("infer", "-m", "llama-2-7b", "--batch", "4", "--seq", "2048").get("kv_cache_bytes").asLong()).isEqualTo(4L << 30);
        assertThat(json("time", "--params", "175e9", "--tokens", "300e9", "--gpus", "1000", "--gpu", "a100-80gb", "--mfu", "0.3")
                .get("time_seconds").asDouble() / 86400).isBetween(38.9, 39.0);
        assertThat(json("time", "--params", "175B", "--tokens", "300B", "--gpus", "1000", "--peak-tflops", "312", "--mfu", "0.3",
                "--recompute", "full").get("time_seconds").asDouble() / 86400).isBetween(51.9, 52.0);
        assertThat(json("train", "--params", "7.5B", "--byte-model", "zero", "--zero", "2", "--dp", "64")
                .get("model_states_bytes").asLong()).isEqualTo(16_640_625_000L);
    }

    /** The table shows GiB and GB side by side; --lang zh translates labels and derivation. */
    @Test
    void tableAndChinese() {
        Run t = run("infer", "-m", "llama-2-7b", "--seq", "2048");
        assertThat(t.out()).contains("GiB").contains("GB").contains("KV cache")
                .contains("1,073,741,824 B");
        Run zh = run("infer", "-m", "llama-2-7b", "--seq", "2048", "--explain", "--lang", "zh");
        assertThat(zh.out()).contains("逐步推导").contains("KV 缓存").contains("公式").contains("[kv_cache_bytes]");
        Run zhTable = run("train", "-m", "llama-2-7b", "--dtype", "bf16", "--lang", "zh");
        assertThat(zhTable.out()).contains("优化器状态").contains("fp32 主权重").contains("警告");
    }

    /** Bad input gives a non-zero exit and a message naming the value. */
    @Test
    void badInputIsNamed() {
        Run r = run("infer", "-m", "llama-9", "--seq", "10");
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("llama-9");
        Run d = run("infer", "-m", "llama-2-7b", "--dtype", "q3_x");
        assertThat(d.code()).isNotZero();
        assertThat(d.err()).contains("q3_x");
        Run m = run("train", "--params", "1e9", "--byte-model", "deepspeed", "--zero", "1");
        assertThat(m.err()).contains("ZeRO-2 and ZeRO-3");
        Run g = run("infer", "-m", "llama-2-7b", "--gpu-memory", "80 parsecs");
        assertThat(g.err()).contains("parsecs");
    }

    /** Explicit shape flags give the same counts as the preset they describe. */
    @Test
    void explicitShapeFlags() throws Exception {
        JsonNode flags = json("infer", "--layers", "32", "--hidden", "4096", "--heads", "32", "--ffn", "11008", "--vocab", "32000",
                "--seq", "2048");
        JsonNode preset = json("infer", "-m", "llama-2-7b", "--seq", "2048");
        assertThat(flags.get("params").asLong()).isEqualTo(preset.get("params").asLong());
        assertThat(flags.get("kv_cache_bytes").asLong()).isEqualTo(preset.get("kv_cache_bytes").asLong());
        JsonNode gpt2 = json("infer", "--layers", "12", "--hidden", "768", "--heads", "12", "--vocab", "50257", "--mlp", "plain",
                "--tied-embeddings");
        assertThat(gpt2.get("params").asLong()).isEqualTo(124_439_808L - 1024 * 768); // no learned positions
    }
}
