package jllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import jllm.format.gguf.GGUFArray;
import jllm.format.gguf.GGUFTensorCategory;
import jllm.format.gguf.GGUFValue;
import jllm.format.gguf.GGUFValueType;
import jllm.format.gguf.GGUFWriter;
import jllm.format.gguf.TestData;
import jllm.tensor.GGMLType;
import picocli.CommandLine;

/**
 * {@code jllm inspect} run in-process. Expected numbers for the tiny Llama file come from its tensor shapes
 * (bytes = elements x 2 for F16, x 4 for F32) and from its raw header, decoded independently (header 724,398
 * bytes, data at 724,416, file 1,750,560 bytes).
 */
class InspectCommandTest {
    @TempDir Path tmp;

    record Run(int rc, String out, String err) {}

    private static Run run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int rc = cl.execute(args);
        return new Run(rc, out.toString(), err.toString());
    }

    @Test
    void jsonForTheTinyLlamaFile() throws IOException {
        Run r = run("inspect", "--json", TestData.tinyRandomLlama().toString());
        assertThat(r.rc()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(j.get("version").asInt()).isEqualTo(3);
        assertThat(j.get("alignment").asInt()).isEqualTo(32);
        assertThat(j.get("fileSize").asLong()).isEqualTo(1_750_560);
        assertThat(j.get("headerSize").asLong()).isEqualTo(724_398);
        assertThat(j.get("dataOffset").asLong()).isEqualTo(724_416);
        assertThat(j.get("tensorCount").asInt()).isEqualTo(12);
        assertThat(j.get("tensors")).hasSize(12);
        // all tensor bytes: two 8 x 32000 F16 matrices, 4 attention 8x8 and 3 FFN 8x32 F16, 3 F32 norms of 8
        long total = 2 * 8 * 32_000 * 2 + 4 * 64 * 2 + 3 * 256 * 2 + 3 * 8 * 4;
        assertThat(j.get("tensorBytes").asLong()).isEqualTo(total).isEqualTo(1_750_560 - 724_416);

        JsonNode emb = j.get("tensors").get(0);
        assertThat(emb.get("name").asText()).isEqualTo("token_embd.weight");
        assertThat(emb.get("type").asText()).isEqualTo("F16");
        assertThat(emb.get("shape").toString()).isEqualTo("[8,32000]");
        assertThat(emb.get("elements").asLong()).isEqualTo(256_000);
        assertThat(emb.get("bytes").asLong()).isEqualTo(512_000);
        assertThat(emb.get("offset").asLong()).isZero();
        assertThat(emb.get("category").asText()).isEqualTo("token_embeddings");
        JsonNode last = j.get("tensors").get(11);
        assertThat(last.get("name").asText()).isEqualTo("output.weight");
        assertThat(last.get("offset").asLong()).isEqualTo(514_144);

        assertThat(categories(j.get("memoryByCategory"))).containsExactly(
                "token_embeddings 1 512000", "attention 4 512", "ffn 3 1536", "norms 3 96", "output 1 512000");
        assertThat(categories(j.get("memoryByType"))).containsExactly("F32 3 96", "F16 9 1026048");
        assertThat(j.get("memoryByCategory").get(0).get("mib").asDouble()).isCloseTo(512_000 / 1048576.0, org.assertj.core.data.Offset.offset(1e-12));

        JsonNode meta = j.get("metadata");
        assertThat(meta).hasSize(18);
        assertThat(meta.get(0).get("key").asText()).isEqualTo("general.architecture");
        assertThat(meta.get(0).get("value").asText()).isEqualTo("llama");
        JsonNode tokens = find(meta, "tokenizer.ggml.tokens");
        assertThat(tokens.get("type").asText()).isEqualTo("ARRAY");
        assertThat(tokens.get("elementType").asText()).isEqualTo("STRING");
        assertThat(tokens.get("length").asInt()).isEqualTo(32_000);
        assertThat(tokens.get("truncated").asBoolean()).isTrue();
        assertThat(tokens.get("values").toString()).isEqualTo("[\"<unk>\",\"<s>\",\"</s>\",\"<0x00>\",\"<0x01>\",\"<0x02>\",\"<0x03>\",\"<0x04>\"]");
        assertThat(find(meta, "llama.embedding_length").get("value").asInt()).isEqualTo(8);
        assertThat(find(meta, "llama.embedding_length").get("type").asText()).isEqualTo("UINT32");
    }

    private static List<String> categories(JsonNode a) {
        List<String> out = new ArrayList<>();
        for (JsonNode n : a) {
            String name = n.has("category") ? n.get("category").asText() : n.get("type").asText();
            out.add(name + " " + n.get("tensors").asLong() + " " + n.get("bytes").asLong());
        }
        return out;
    }

    private static JsonNode find(JsonNode meta, String key) {
        for (JsonNode n : meta) if (n.get("key").asText().equals(key)) return n;
        throw new AssertionError("no metadata " + key);
    }

    @Test
    void textForTheTinyLlamaFile() {
        Run r = run("inspect", TestData.tinyRandomLlama().toString());
        assertThat(r.rc()).as(r.err()).isZero();
        String out = r.out();
        assertThat(out).contains("size       1750560 bytes (1.67 MiB)");
        assertThat(out).contains("version    3\n");
        assertThat(out).contains("alignment  32\n");
        assertThat(out).contains("header     724398 bytes; tensor data at offset 724416");
        assertThat(out).contains("metadata (18 keys)");
        assertThat(out).containsPattern("tokenizer\\.ggml\\.tokens +ARRAY +\\[STRING x 32000\\] \"<unk>\", \"<s>\", \"</s>\", .*\"<0x04>\", \\.\\.\\.");
        assertThat(out).containsPattern("llama\\.embedding_length +UINT32 +8\n");
        assertThat(out).contains("tensors (12)");
        assertThat(out).containsPattern("token_embd\\.weight +F16 +\\[8, 32000\\] +512000 +0\n");
        assertThat(out).containsPattern("output\\.weight +F16 +\\[8, 32000\\] +512000 +514144\n");
        assertThat(out).containsPattern("blk\\.0\\.ffn_down\\.weight +F16 +\\[32, 8\\] +512 +513536\n");
        assertThat(out).containsPattern("token embeddings +1 tensor +512000 bytes +0\\.49 MiB");
        assertThat(out).containsPattern("feed-forward +3 tensors +1536 bytes +0\\.00 MiB");
        assertThat(out).containsPattern("norms +3 tensors +96 bytes");
        assertThat(out).containsPattern("total +12 tensors +1026144 bytes +0\\.98 MiB");
        assertThat(out).containsPattern("F16 +9 tensors +1026048 bytes");
        assertThat(out).containsPattern("F32 +3 tensors +96 bytes");
    }

    @Test
    void summarisesLongStringsArraysNestedArraysAndUnsignedValues() throws IOException {
        Path p = tmp.resolve("m.gguf");
        String template = "{% for m in messages %}\n" + "x".repeat(300) + "{% endfor %}";
        new GGUFWriter()
                .put("tokenizer.chat_template", GGUFValue.ofString(template))
                .put("big", GGUFValue.ofUInt64(-1L))
                .put("u8", new GGUFValue(GGUFValueType.UINT8, (byte) 255))
                .put("nested", GGUFValue.ofArray(new GGUFArray(GGUFValueType.ARRAY, new GGUFArray[] {
                        new GGUFArray(GGUFValueType.INT32, new int[] {1, 2, 3}),
                        new GGUFArray(GGUFValueType.STRING, new String[] {"a\"b"})})))
                .put("ids", GGUFValue.ofArray(new GGUFArray(GGUFValueType.UINT32, new int[] {-1, 0, 1, 2, 3})))
                .tensor("blk.3.attn_qkv.weight", GGMLType.Q8_0, new long[] {32, 3}, MemorySegment.ofArray(new byte[102]))
                .tensor("rope_freqs.weight", GGMLType.F32, new long[] {4}, MemorySegment.ofArray(new byte[16]))
                .write(p);

        String out = run("inspect", "--max-items", "2", "--max-string", "30", p.toString()).out();
        assertThat(out).contains("\"{% for m in messages %}\\nxxxxxx\"... (" + template.length() + " chars)");
        assertThat(out).containsPattern("big +UINT64 +18446744073709551615\n");
        assertThat(out).containsPattern("u8 +UINT8 +255\n");
        assertThat(out).contains("[ARRAY x 2] [INT32 x 3] 1, 2, ..., [STRING x 1] \"a\\\"b\"");
        assertThat(out).contains("[UINT32 x 5] 4294967295, 0, ...");
        assertThat(out).containsPattern("blk\\.3\\.attn_qkv\\.weight +Q8_0 +\\[32, 3\\] +102 +0\n");
        assertThat(out).containsPattern("rope_freqs\\.weight +F32 +\\[4\\] +16 +128\n");
        assertThat(out).containsPattern("attention +1 tensor +102 bytes");
        assertThat(out).containsPattern("other +1 tensor +16 bytes");

        JsonNode j = new ObjectMapper().readTree(run("inspect", "--json", "--max-items", "-1", "--max-string", "30", p.toString()).out());
        JsonNode meta = j.get("metadata");
        assertThat(meta.get(0).get("value").asText()).hasSize(30);
        assertThat(meta.get(0).get("truncated").asBoolean()).isTrue();
        assertThat(meta.get(0).get("length").asInt()).isEqualTo(template.length());
        assertThat(meta.get(1).get("value").bigIntegerValue()).isEqualTo(new java.math.BigInteger("18446744073709551615"));
        assertThat(meta.get(2).get("value").asInt()).isEqualTo(255);
        assertThat(meta.get(3).get("values").get(0).get("values").toString()).isEqualTo("[1,2,3]");
        assertThat(meta.get(3).get("values").get(1).get("values").get(0).asText()).isEqualTo("a\"b");
        assertThat(meta.get(4).get("values").toString()).isEqualTo("[4294967295,0,1,2,3]");
        assertThat(meta.get(4).get("truncated").asBoolean()).isFalse();
        assertThat(j.get("memoryByType").get(0).get("type").asText()).isEqualTo("F32");
        assertThat(j.get("memoryByType").get(1).get("type").asText()).isEqualTo("Q8_0");
    }

    @Test
    void badFilesGiveOneLineAndExitCodeOne() throws IOException {
        Path bad = Files.write(tmp.resolve("bad.gguf"), "GGMLxxxxxxxxxxxxxxxxxxxxxxxxxxxx".getBytes());
        Run r = run("inspect", bad.toString());
        assertThat(r.rc()).isEqualTo(Main.EXIT_ERROR);
        assertThat(r.err().strip()).isEqualTo("jllm: error: bad.gguf: bad magic 0x47474d4c (expected 0x47475546 'GGUF')");
        Run missing = run("inspect", tmp.resolve("nope.gguf").toString());
        assertThat(missing.rc()).isEqualTo(2);
        assertThat(missing.err()).contains("no such file: ");
    }

    @Test
    void tensorCategoriesFollowLlamaCppNames() {
        assertThat(GGUFTensorCategory.of("token_embd.weight")).isEqualTo(GGUFTensorCategory.TOKEN_EMBEDDINGS);
        assertThat(GGUFTensorCategory.of("position_embd.weight")).isEqualTo(GGUFTensorCategory.TOKEN_EMBEDDINGS);
        assertThat(GGUFTensorCategory.of("token_embd_norm.weight")).isEqualTo(GGUFTensorCategory.NORMS);
        assertThat(GGUFTensorCategory.of("blk.0.attn_q.weight")).isEqualTo(GGUFTensorCategory.ATTENTION);
        assertThat(GGUFTensorCategory.of("blk.12.attn_output.bias")).isEqualTo(GGUFTensorCategory.ATTENTION);
        assertThat(GGUFTensorCategory.of("blk.0.attn_norm.weight")).isEqualTo(GGUFTensorCategory.NORMS);
        assertThat(GGUFTensorCategory.of("blk.0.attn_q_norm.weight")).isEqualTo(GGUFTensorCategory.NORMS);
        assertThat(GGUFTensorCategory.of("blk.0.ffn_norm.weight")).isEqualTo(GGUFTensorCategory.NORMS);
        assertThat(GGUFTensorCategory.of("blk.7.ffn_gate_exps.weight")).isEqualTo(GGUFTensorCategory.FFN);
        assertThat(GGUFTensorCategory.of("blk.0.ffn_down.weight")).isEqualTo(GGUFTensorCategory.FFN);
        assertThat(GGUFTensorCategory.of("output_norm.weight")).isEqualTo(GGUFTensorCategory.NORMS);
        assertThat(GGUFTensorCategory.of("output.weight")).isEqualTo(GGUFTensorCategory.OUTPUT);
        assertThat(GGUFTensorCategory.of("blk.0.output.weight")).isEqualTo(GGUFTensorCategory.OTHER);
        assertThat(GGUFTensorCategory.of("rope_freqs.weight")).isEqualTo(GGUFTensorCategory.OTHER);
        assertThat(GGUFTensorCategory.of("blk.")).isEqualTo(GGUFTensorCategory.OTHER);
    }
}
