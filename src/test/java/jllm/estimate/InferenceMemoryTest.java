package jllm.estimate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

import jllm.sizes.Sizes;
import jllm.tensor.GGMLType;

/** Inference memory against published figures (each cited) and monotonicity properties. Tolerances stated per check. */
class InferenceMemoryTest {

    static Estimate infer(String preset, String dtype, long batch, long seq) {
        return infer(ModelSpec.of(Presets.get(preset)), DataType.parse(dtype), batch, seq, 1, 0);
    }

    static Estimate infer(ModelSpec m, DataType w, long batch, long seq, int tp, long gpuMemory) {
        return new InferenceMemory(m, w, DataType.FP16, DataType.FP16, batch, seq, tp, false, 0, gpuMemory).estimate();
    }

    /**
     * Issue 4's worked example: the FP16 KV cache of LLaMA-7B at batch 4 and 2,048 tokens. The often-copied "2 GB"
     * drops the 2 bytes per element; the answer is 2 x 32 x 4096 x 2 x 2048 x 4 = 4 GiB exactly.
     */
    @Test
    void workedExampleKvCacheIsFourGiB() {
        Estimate e = infer("llama-2-7b", "fp16", 4, 2048);
        assertThat(e.getLong("kv_cache_bytes")).isEqualTo(4L << 30);
        assertThat(e.notes()).anyMatch(n -> n.id().equals("kv_bytes_per_element") && n.args().get(1).contains("2.00 GiB"));
    }

    /** Llama-2-7B FP16 KV cache: 0.5 MiB per token (2 x 32 layers x 4096 x 2 bytes = 524,288). */
    @Test
    void llama2KvCacheIsHalfAMebibytePerToken() {
        assertThat(infer("llama-2-7b", "fp16", 1, 1).getLong("kv_cache_bytes")).isEqualTo(512L * 1024);
    }

    /**
     * Kwon et al. 2023 (vLLM), Sec. 3: "in OPT-13B, the KV cache of a single token demands 800 KB of space,
     * calculated as 2 (key and value vectors) x 5120 (hidden state size) x 40 (number of layers) x 2 (bytes per
     * FP16). Since OPT can generate sequences up to 2048 tokens, the memory required to store the KV cache of one
     * request can be as much as 1.6 GB." 819,200 B is 800 KiB; 2,048 of them are 1,600 MiB (1.68e9 B; the
     * paper's 1.6 counts in thousands of KiB). Exact.
     */
    @Test
    void vllmOpt13bKvCache() {
        assertThat(infer("opt-13b", "fp16", 1, 1).getLong("kv_cache_bytes")).isEqualTo(2L * 5120 * 40 * 2).isEqualTo(800 * 1024);
        assertThat(infer("opt-13b", "fp16", 1, 2048).getLong("kv_cache_bytes")).isEqualTo(1600L * 1024 * 1024);
    }

    /** vLLM Figure 1: "NVIDIA A100 40GB ... Parameters (26GB, 65%)" for a 13B model in FP16: 12.85e9 x 2 = 25.7 GB (tolerance 0.5 GB). */
    @Test
    void vllmOpt13bWeights() {
        assertThat(infer("opt-13b", "fp16", 1, 0).getLong("weights_bytes") / 1e9).isCloseTo(26, within(0.5));
    }

    /**
     * Jiang et al. 2023 (Mistral 7B), Sec. 2: the rolling buffer cache of window W = 4096 "saves half of the cache
     * memory for inference on sequence length of 8192". Exact.
     */
    @Test
    void mistralSlidingWindowHalvesTheCacheAt8192() {
        ModelShape s = Presets.get("mistral-7b");
        long windowed = infer("mistral-7b", "fp16", 1, 8192).getLong("kv_cache_bytes");
        long full = Sizes.kvCacheBytes(s.layers(), 8192, s.kvHeads(), s.headDim(), 2, 1);
        assertThat(windowed * 2).isEqualTo(full);
    }

    /** GQA (Ainslie et al. 2023): Llama-3-8B caches 8 of 32 heads, a quarter of Llama-2-7B's 0.5 MiB per token. */
    @Test
    void groupedQueryAttentionCachesOnlyKvHeads() {
        assertThat(infer("llama-3-8b", "fp16", 1, 1).getLong("kv_cache_bytes")).isEqualTo(128 * 1024);
    }

    /**
     * GGUF block types carry their scales: Q8_0 is 8.5 bits per weight, Q4_0 and Q4_K 4.5, Q6_K 6.5625
     * (ggml's block_q8_0 = 34 bytes per 32, block_q4_0 = 18 per 32, block_q4_K = 144 per 256, block_q6_K = 210 per 256).
     * For Llama-2-7B in Q4_0: matrices at 4.5 bits and the 65 norm vectors in f32. Exact.
     */
    @Test
    void ggufBlockTypesIncludeTheirScales() {
        assertThat(DataType.parse("q8_0").bits()).isEqualTo(8.5);
        assertThat(DataType.parse("q4_0").bits()).isEqualTo(4.5);
        assertThat(DataType.parse("q4_k").bits()).isEqualTo(4.5);
        assertThat(DataType.parse("q6_k").bits()).isEqualTo(6.5625);
        ModelShape s = Presets.get("llama-2-7b");
        long vectors = 65L * 4096;
        long expected = (s.params() - vectors) / 32 * 18 + vectors * 4;
        assertThat(infer("llama-2-7b", "q4_0", 1, 0).getLong("weights_bytes")).isEqualTo(expected);
        assertThat(DataType.parse("q4_0").bytes(s)).isEqualTo(expected);
        assertThat(Sizes.weightBytes(GGMLType.Q4_0, 4096)).isEqualTo(4096 / 32 * 18);
    }

    /**
     * HF accelerate docs (usage_guides/model_size_estimator.md), bert-base-cased: Largest Layer 84.95 MB,
     * Total Size 413.18 MB (float32), 206.59 MB (float16); accelerate's MB are MiB. Largest layer exact to the
     * printed digits; total within 0.01 MiB, because accelerate also counts BertEmbeddings' two 512-element
     * buffers (position_ids, token_type_ids), which are not parameters.
     */
    @Test
    void accelerateBertBaseCased() {
        Estimate fp32 = infer("bert-base-cased", "fp32", 1, 0);
        assertThat(Math.round(fp32.getLong("largest_layer_bytes") / Units.MIB * 100) / 100.0).isEqualTo(84.95);
        assertThat(fp32.getLong("weights_bytes") / Units.MIB).isCloseTo(413.18, within(0.01));
        assertThat(infer("bert-base-cased", "fp16", 1, 0).getLong("weights_bytes") / Units.MIB).isCloseTo(206.59, within(0.01));
        assertThat(infer("bert-base-cased", "fp32", 1, 128).getLong("kv_cache_bytes")).isZero();
    }

    /** Tensor parallelism splits KV heads; past tp = kv heads each GPU keeps a whole head (Llama-2-70B: 8 KV heads). */
    @Test
    void tensorParallelKvHeads() {
        ModelSpec m = ModelSpec.of(Presets.get("llama-2-70b"));
        long one = infer(m, DataType.FP16, 1, 4096, 1, 0).getLong("kv_cache_bytes");
        assertThat(infer(m, DataType.FP16, 1, 4096, 8, 0).getLong("kv_cache_bytes")).isEqualTo(one / 8);
        Estimate e16 = infer(m, DataType.FP16, 1, 4096, 16, 0);
        assertThat(e16.getLong("kv_cache_bytes")).isEqualTo(one / 8);
        assertThat(e16.warned("kv_replicated")).isTrue();
    }

    /** What fits is the largest value that fits: one more token or sequence exceeds the memory. */
    @Test
    void fitSearchFindsTheBoundary() {
        ModelSpec m = ModelSpec.of(Presets.get("llama-2-7b"));
        long mem = 24L << 30;
        Estimate e = infer(m, DataType.FP16, 1, 1024, 1, mem);
        long maxSeq = e.getLong("max_seq"), maxBatch = e.getLong("max_batch");
        assertThat(maxSeq).isPositive();
        assertThat(infer(m, DataType.FP16, 1, maxSeq, 1, 0).getLong("total_bytes")).isLessThanOrEqualTo(mem);
        assertThat(infer(m, DataType.FP16, 1, maxSeq + 1, 1, 0).getLong("total_bytes")).isGreaterThan(mem);
        assertThat(infer(m, DataType.FP16, maxBatch, 1024, 1, 0).getLong("total_bytes")).isLessThanOrEqualTo(mem);
        assertThat(infer(m, DataType.FP16, maxBatch + 1, 1024, 1, 0).getLong("total_bytes")).isGreaterThan(mem);
        // 70B in fp16 (138 GB) cannot fit 80 GiB at all.
        Estimate big = infer(ModelSpec.of(Presets.get("llama-2-70b")), DataType.FP16, 1, 1024, 1, 80L << 30);
        assertThat(big.getLong("max_seq")).isZero();
        assertThat(big.warned("weights_exceed")).isTrue();
    }

    /** Property: memory never decreases as batch, sequence or parameters grow (every preset, a grid of sizes). */
    @Test
    void monotoneInBatchSequenceAndParameters() {
        for (String name : Presets.names()) {
            ModelSpec m = ModelSpec.of(Presets.get(name));
            long prev = -1;
            for (long seq = 1; seq <= 65536; seq *= 4) {
                long t = infer(m, DataType.FP16, 2, seq, 1, 0).getLong("total_bytes");
                assertThat(t).as(name + " seq " + seq).isGreaterThanOrEqualTo(prev);
                prev = t;
            }
            prev = -1;
            for (long b = 1; b <= 256; b *= 2) {
                long t = infer(m, DataType.FP16, b, 512, 1, 0).getLong("total_bytes");
                assertThat(t).as(name + " batch " + b).isGreaterThanOrEqualTo(prev);
                prev = t;
            }
        }
        long prev = -1;
        for (long p = 1_000_000; p <= 1_000_000_000_000L; p *= 10) {
            long t = infer(ModelSpec.ofParams(p), DataType.BF16, 1, 0, 1, 0).getLong("total_bytes");
            assertThat(t).isGreaterThan(prev);
            prev = t;
        }
        String[] bySize = {"gpt2", "gpt2-xl", "llama-2-7b", "llama-2-13b", "llama-2-70b"};
        prev = -1;
        for (String name : bySize) {
            long t = infer(name, "fp16", 1, 2048).getLong("total_bytes");
            assertThat(t).as(name).isGreaterThan(prev);
            prev = t;
        }
    }

    /** The activation buffers follow the engine's State layout; flash attention drops exactly the score term. */
    @Test
    void flashAttentionDropsTheScores() {
        ModelSpec m = ModelSpec.of(Presets.get("llama-2-7b"));
        long plain = new InferenceMemory(m, DataType.FP16, DataType.FP16, DataType.FP32, 1, 1024, 1, false, 0, 0).estimate().getLong("activations_bytes");
        long flash = new InferenceMemory(m, DataType.FP16, DataType.FP16, DataType.FP32, 1, 1024, 1, true, 0, 0).estimate().getLong("activations_bytes");
        assertThat(plain - flash).isEqualTo(1024L * 32 * 1024 * 4);
        long rows = 1024;
        // logits: the engine keeps only each sequence's last row (batch 1)
        assertThat(flash).isEqualTo(rows * (2 * 4096 + 2 * 4096 + 2 * 4096 + 2 * 11008) * 4 + 1L * 32000 * 4);
    }
}
