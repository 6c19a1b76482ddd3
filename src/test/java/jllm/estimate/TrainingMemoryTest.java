package jllm.estimate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Set;

import org.junit.jupiter.api.Test;

import jllm.estimate.ActivationMemory.Recompute;

/** Training memory against published figures (each cited, tolerance stated) and properties. */
class TrainingMemoryTest {

    /** A builder over TrainingMemory's many fields, defaulting to plain fp32 AdamW on one GPU. */
    static final class T {
        ModelSpec m;
        DataType dtype = DataType.FP32, grad = null;
        boolean mixed;
        Optimizer opt = Optimizer.ADAMW;
        ByteModel bm = ByteModel.AUTO;
        int zero, dp = 1, tp = 1, pp = 1, perNode = 1;
        boolean sp, flash, dropout = true, offOpt, offParams, qlora, dq, zeroInit = true;
        Recompute rc = Recompute.NONE;
        long batch = 1, seq, micro = 1, largest;
        Lora lora;

        T(ModelSpec m) { this.m = m; }
        T(String preset) { this(ModelSpec.of(Presets.get(preset))); }
        T(long params) { this(ModelSpec.ofParams(params)); }

        Estimate run() {
            return new TrainingMemory(m, dtype, grad, mixed, opt, bm, zero, dp, tp, pp, sp, rc, flash, dropout, batch, seq,
                    micro, offOpt, offParams, lora, qlora, dq, largest, perNode, zeroInit, 0).estimate();
        }
    }

    /**
     * Rajbhandari et al. 2020 (ZeRO), Figure 1: Psi = 7.5B parameters, K = 12, Nd = 64: baseline 120 GB,
     * P_os 31.4 GB, P_os+g 16.6 GB, P_os+g+p 1.9 GB (GB = 1e9 bytes; tolerance: the figure's one decimal).
     * Both with --byte-model zero and with the flags that describe the same recipe (fp16 + fp32 master + AdamW).
     */
    @Test
    void zeroPaperFigure1() {
        double[] published = {120, 31.4, 16.6, 1.9};
        for (int stage = 0; stage <= 3; stage++) {
            T viaPreset = new T(7_500_000_000L);
            viaPreset.bm = ByteModel.ZERO;
            viaPreset.zero = stage;
            viaPreset.dp = 64;
            T viaFlags = new T(7_500_000_000L);
            viaFlags.dtype = DataType.FP16;
            viaFlags.mixed = true;
            viaFlags.zero = stage;
            viaFlags.dp = 64;
            for (T t : new T[] {viaPreset, viaFlags}) {
                double gb = t.run().getLong("model_states_bytes") / 1e9;
                assertThat(gb).as("stage " + stage).isCloseTo(published[stage], within(0.05));
            }
        }
        T s1 = new T(7_500_000_000L);
        s1.bm = ByteModel.ZERO;
        s1.zero = 1;
        s1.dp = 64;
        assertThat(s1.run().getLong("model_states_bytes")).isEqualTo(31_406_250_000L); // 2Psi + 2Psi + 12Psi/64 exactly
    }

    /**
     * Megatron-LM docs, distributed optimizer (distrib_optimizer.md), bytes per parameter with d data-parallel ranks:
     * fp16 param + fp16 grads 20 / 4 + 16/d; bf16 param + fp32 grads 18 / 6 + 12/d; fp32 param + fp32 grads 16 / 8 + 8/d.
     * Exact.
     */
    @Test
    void megatronDistributedOptimizerTable() {
        long p = 1_000_000_000L;
        int d = 8;
        Object[][] rows = {{DataType.FP16, DataType.FP16, 20.0, 4 + 16.0 / d}, {DataType.BF16, null, 18.0, 6 + 12.0 / d},
                {DataType.FP32, DataType.FP32, 16.0, 8 + 8.0 / d}};
        for (Object[] r : rows) {
            for (int stage = 0; stage <= 1; stage++) {
                T t = new T(p);
                t.bm = ByteModel.MEGATRON;
                t.dtype = (DataType) r[0];
                t.grad = (DataType) r[1];
                t.zero = stage;
                t.dp = d;
                double perParam = (double) t.run().getLong("model_states_bytes") / p;
                assertThat(perParam).as(r[0] + " stage " + stage).isEqualTo((double) r[2 + stage]);
            }
        }
        T bad = new T(p);
        bad.bm = ByteModel.MEGATRON;
        bad.zero = 2;
        bad.dp = 2;
        assertThatThrownBy(bad::run).hasMessageContaining("ZeRO stage 1");
    }

    private static double gib(Estimate e, String key) {
        return Math.round(e.getLong(key) / Units.GIB * 100) / 100.0;
    }

    /**
     * DeepSpeed docs, "Memory Requirements" (docs/code-docs/source/memory.rst), cold estimators for a 2851M-parameter
     * model (t5-3b) with 32M largest-layer parameters on 1 node of 8 GPUs; DeepSpeed prints GiB labelled "GB".
     * ZeRO-2: optimizer offloaded 127.45 CPU / 5.31 GPU; none 127.45 / 15.93.
     * ZeRO-3: params+optimizer offloaded 71.69 / 0.12 (zero_init=1), 127.45 / 0.12 (zero_init=0); optimizer offloaded
     * 63.72 / 0.78, 127.45 / 0.78; none 1.43 / 6.09, 127.45 / 6.09. Exact to the printed two decimals.
     */
    @Test
    void deepSpeedDocsT5_3b() {
        Object[][] rows = {
                {2, true, false, true, 127.45, 5.31}, {2, false, false, true, 127.45, 15.93},
                {3, true, true, true, 71.69, 0.12}, {3, true, true, false, 127.45, 0.12},
                {3, true, false, true, 63.72, 0.78}, {3, true, false, false, 127.45, 0.78},
                {3, false, false, true, 1.43, 6.09}, {3, false, false, false, 127.45, 6.09}};
        for (Object[] r : rows) {
            T t = new T(2_851_000_000L);
            t.bm = ByteModel.DEEPSPEED;
            t.zero = (int) r[0];
            t.offOpt = (boolean) r[1];
            t.offParams = (boolean) r[2];
            t.zeroInit = (boolean) r[3];
            t.dp = 8;
            t.perNode = 8;
            t.largest = 32_000_000L;
            Estimate e = t.run();
            assertThat(gib(e, "cpu_bytes")).as(java.util.Arrays.toString(r)).isEqualTo((double) r[4]);
            assertThat(gib(e, "total_bytes")).as(java.util.Arrays.toString(r)).isEqualTo((double) r[5]);
        }
    }

    /**
     * DeepSpeed docs, same page: t5-large, 737.67M parameters, 32.90M largest layer, 4 GPUs: "largest layer
     * memory: 125MB, case1 gpu memory: 3291MB, case2: 125MB, case3: 477MB" (MB = bytes >> 20). Exact.
     */
    @Test
    void deepSpeedDocsT5Large() {
        long[][] cases = {{0, 0, 3291}, {1, 1, 125}, {1, 0, 477}};
        for (long[] c : cases) {
            T t = new T(737_670_000L);
            t.bm = ByteModel.DEEPSPEED;
            t.zero = 3;
            t.dp = 4;
            t.perNode = 4;
            t.largest = 32_900_000L;
            t.offOpt = c[0] == 1;
            t.offParams = c[1] == 1;
            Estimate e = t.run();
            assertThat(e.getLong("total_bytes") >> 20).isEqualTo(c[2]);
            assertThat(e.getLong("largest_layer_bytes") >> 20).isEqualTo(125);
        }
    }

    /** accelerate docs: bert-base-cased "Training using Adam" 1.61 GB (float32) and 826.36 MB (float16), i.e. 4x the weights in MiB/GiB. */
    @Test
    void accelerateTrainingWithAdam() {
        T t = new T("bert-base-cased");
        t.bm = ByteModel.ACCELERATE;
        Estimate e = t.run();
        assertThat(gib(e, "model_states_bytes")).isEqualTo(1.61);
        assertThat(e.getLong("model_states_bytes")).isEqualTo(4 * e.getLong("weights_bytes"));
        t.dtype = DataType.FP16;
        assertThat(t.run().getLong("model_states_bytes") / Units.MIB).isCloseTo(826.36, within(0.02));
    }

    /**
     * Hu et al. 2021 (LoRA): Table 4, GPT-3 175B with Wq and Wv adapted: 4.7M trainable parameters (r = 1) and
     * 37.7M (r = 8); Table 5: 18M for each of {Wq, r=8}, {Wq, Wv, r=4}, {Wq, Wk, Wv, Wo, r=2} (the same budget;
     * 18.87M, printed truncated). Exact to the printed digits.
     */
    @Test
    void loraPaperTrainableParameters() {
        ModelShape g = Presets.get("gpt-3-175b");
        assertThat(Math.round(new Lora(1, Set.of("q", "v")).trainableParams(g) / 1e5) / 10.0).isEqualTo(4.7);
        assertThat(Math.round(new Lora(8, Set.of("q", "v")).trainableParams(g) / 1e5) / 10.0).isEqualTo(37.7);
        long a = new Lora(8, Set.of("q")).trainableParams(g);
        assertThat(a).isEqualTo(new Lora(4, Set.of("q", "v")).trainableParams(g))
                .isEqualTo(new Lora(2, Set.of("q", "k", "v", "o")).trainableParams(g));
        assertThat(a / 1_000_000).isEqualTo(18);
        assertThatThrownBy(() -> new Lora(8, Set.of("gate")).trainableParams(g)).hasMessageContaining("gate");
    }

    /**
     * Dettmers et al. 2023 (QLoRA), Sec. 3: NF4 with blocksize 64 and fp32 constants costs 32/64 = 0.5 bits per
     * parameter; double quantization brings it to 8/64 + 32/(64*256) = 0.127 bits, "a reduction of 0.373 bits per
     * parameter ... approximately 3 GB for a 65B model". Tolerance 0.05 GB.
     */
    @Test
    void qloraDoubleQuantization() {
        assertThat(DataType.NF4.bits() - 4).isEqualTo(0.5);
        assertThat(DataType.NF4_DQ.bits() - 4).isCloseTo(0.127, within(0.0005));
        double saved = 65e9 * (DataType.NF4.bits() - DataType.NF4_DQ.bits()) / 8;
        assertThat(saved / 1e9).isCloseTo(3.0, within(0.05));
        T t = new T("llama-2-7b");
        t.lora = new Lora(16, Set.of("q", "k", "v", "o", "gate", "up", "down"));
        t.qlora = true;
        t.dtype = DataType.BF16;
        t.mixed = true;
        Estimate e = t.run();
        long trainable = e.getLong("trainable_params");
        assertThat(trainable).isEqualTo(32L * 16 * (4 * (4096 + 4096) + 3 * (4096 + 11008)));
        assertThat(e.getLong("gradients_bytes")).isEqualTo(2 * trainable);
        assertThat(e.getLong("optimizer_bytes")).isEqualTo(8 * trainable);
        long base = DataType.NF4.bytes(Presets.get("llama-2-7b"));
        assertThat(e.getLong("weights_bytes")).isEqualTo(base + 2 * trainable);
    }

    /**
     * Hugging Face transformers docs (optimizer choice for t5-3b): "A standard AdamW optimizer will need 24GB of GPU
     * memory because it uses 8 bytes for each parameter (8*3 => 24GB)"; "8bit BNB quantized optimizer will use only
     * (2*3) 6GB". 8-bit adds one fp32 absmax per 2048-element block per state (+0.2%); tolerance 0.05 GB.
     */
    @Test
    void optimizerStateBytes() {
        for (Object[] r : new Object[][] {{Optimizer.ADAMW, 24.0}, {Optimizer.ADAM8BIT, 6.0}, {Optimizer.SGD, 12.0}}) {
            T t = new T(3_000_000_000L);
            t.opt = (Optimizer) r[0];
            assertThat(t.run().getLong("optimizer_bytes") / 1e9).as(r[0].toString()).isCloseTo((double) r[1], within(0.05));
        }
        // Adafactor (Shazeer & Stern 2018): an r x c matrix keeps r + c accumulators, not r*c.
        assertThat(Optimizer.ADAFACTOR.stateBytes(4096, 11008)).isEqualTo(4.0 * (4096 + 11008));
        assertThat(Optimizer.ADAFACTOR.stateBytes(1, 4096)).isEqualTo(4.0 * 4096);
        // bitsandbytes keeps 32-bit states for tensors below min_8bit_size = 4096 elements.
        assertThat(Optimizer.ADAM8BIT.stateBytes(1, 4095)).isEqualTo(8.0 * 4095);
    }

    /**
     * Korthikanti et al. 2022, Table 2, per-layer activations for a GPT shape with 16-bit activations and dropout,
     * checked on GPT-3 175B (s = 2048, h = 12288, a = 96) with t = 8: no parallelism sbh(34 + 5as/h); tensor parallel
     * sbh(10 + 24/t + 5as/(ht)); + sequence parallel sbh(34/t + 5as/(ht)); tensor parallel + selective
     * sbh(10 + 24/t); + sequence parallel sbh(34/t); full recomputation 2sbh. Exact (relative 1e-12).
     */
    @Test
    void korthikantiTable2() {
        ModelShape g = Presets.get("gpt-3-175b");
        double s = 2048, b = 1, h = 12288, a = 96, t = 8, sbh = s * b * h;
        assertThat(act(g, 1, false, Recompute.NONE)).isCloseTo(sbh * (34 + 5 * a * s / h), within(1e-3));
        assertThat(act(g, 8, false, Recompute.NONE)).isCloseTo(sbh * (10 + 24 / t + 5 * a * s / (h * t)), within(1e-3));
        assertThat(act(g, 8, true, Recompute.NONE)).isCloseTo(sbh * (34 / t + 5 * a * s / (h * t)), within(1e-3));
        assertThat(act(g, 8, false, Recompute.SELECTIVE)).isCloseTo(sbh * (10 + 24 / t), within(1e-3));
        assertThat(act(g, 8, true, Recompute.SELECTIVE)).isCloseTo(sbh * (34 / t), within(1e-3));
        assertThat(act(g, 1, false, Recompute.FULL)).isCloseTo(sbh * 2, within(1e-3));
        // Flash attention removes the s^2 terms like selective recomputation.
        assertThat(new ActivationMemory(g, 2048, 1, 8, true, 1, 1, Recompute.NONE, true, true, 2).storedPerLayer(false))
                .isCloseTo(sbh * 34 / t, within(1e-3));
    }

    private static double act(ModelShape g, int t, boolean sp, Recompute rc) {
        return new ActivationMemory(g, 2048, 1, t, sp, 1, 1, rc, false, true, 2).storedPerLayer(false);
    }

    /**
     * Megatron-LM's theoretical_memory_usage.py (same paper): with sequence parallelism and selective recompute,
     * total = (sbh(18 + 4f/h) L + sbh (embedding dropout) + 4sbh(1 + V/h)) / t for p = 1 (token ids aside).
     */
    @Test
    void megatronTheoreticalActivationTotal() {
        ModelShape g = Presets.get("gpt-3-175b");
        double s = 2048, b = 2, h = 12288, t = 8, v = g.vocab();
        double expected = (s * b * h * (18 + 4.0 * 4) * 96 + s * b * h + 4 * s * b * h * (1 + v / h)) / t;
        long got = new ActivationMemory(g, 2048, 2, 8, true, 1, 1, Recompute.SELECTIVE, false, true, 2).bytesOnly();
        assertThat((double) got).isCloseTo(expected, within(1.0));
    }

    /** Property: ZeRO stages never increase per-GPU model states, for every preset, byte model and data-parallel size. */
    @Test
    void zeroStagesNeverIncreaseModelStates() {
        for (String name : Presets.names()) {
            for (int dp : new int[] {1, 2, 8, 64, 1024}) {
                for (ByteModel bm : new ByteModel[] {ByteModel.AUTO, ByteModel.ZERO}) {
                    long prev = Long.MAX_VALUE, prevTotal = Long.MAX_VALUE;
                    for (int stage = 0; stage <= 3; stage++) {
                        T t = new T(name);
                        t.bm = bm;
                        t.dtype = DataType.BF16;
                        t.mixed = true;
                        t.zero = stage;
                        t.dp = dp;
                        Estimate e = t.run();
                        long states = e.getLong("model_states_bytes");
                        assertThat(states).as(name + " dp " + dp + " stage " + stage).isLessThanOrEqualTo(prev);
                        prev = states;
                        if (stage <= 2) {
                            assertThat(e.getLong("total_bytes")).isLessThanOrEqualTo(prevTotal);
                            prevTotal = e.getLong("total_bytes");
                        }
                    }
                }
            }
        }
    }

    /** ZeRO-3's gather buffer can outweigh its savings on a small model with a large embedding: the planner says so. */
    @Test
    void zero3GatherBufferWarning() {
        T t = new T("gpt2");
        t.dtype = DataType.BF16;
        t.mixed = true;
        t.zero = 3;
        t.dp = 2;
        assertThat(t.run().warned("zero3_gather_exceeds")).isTrue();
        t.m = ModelSpec.of(Presets.get("llama-2-70b"));
        t.dp = 64;
        assertThat(t.run().warned("zero3_gather_exceeds")).isFalse();
    }

    /** Property: training memory never decreases as the micro-batch or the sequence grows. */
    @Test
    void monotoneInBatchAndSequence() {
        for (String name : new String[] {"gpt2", "llama-2-7b", "mixtral-8x7b", "t5-base", "bert-base-uncased"}) {
            for (Recompute rc : Recompute.values()) {
                long prev = -1;
                for (long seq = 128; seq <= 8192; seq *= 2) {
                    T t = new T(name);
                    t.seq = seq;
                    t.rc = rc;
                    long total = t.run().getLong("total_bytes");
                    assertThat(total).isGreaterThanOrEqualTo(prev);
                    prev = total;
                }
                prev = -1;
                for (long b = 1; b <= 64; b *= 2) {
                    T t = new T(name);
                    t.seq = 1024;
                    t.batch = b;
                    t.rc = rc;
                    long total = t.run().getLong("total_bytes");
                    assertThat(total).isGreaterThanOrEqualTo(prev);
                    prev = total;
                }
            }
        }
    }

    /** Forgetting the fp32 master copy is flagged; offloading moves optimizer states to CPU memory. */
    @Test
    void warningsAndOffload() {
        T t = new T("llama-2-7b");
        t.dtype = DataType.BF16;
        assertThat(t.run().warned("no_master_copy")).isTrue();
        t.mixed = true;
        t.zero = 2;
        t.dp = 8;
        t.perNode = 8;
        Estimate on = t.run();
        t.offOpt = true;
        Estimate off = t.run();
        assertThat(off.getLong("total_bytes")).isEqualTo(on.getLong("weights_bytes"));
        assertThat(off.getLong("cpu_bytes")).isEqualTo(8 * (on.getLong("model_states_bytes") - on.getLong("weights_bytes")));
        T bad = new T("llama-2-7b");
        bad.offParams = true;
        assertThatThrownBy(bad::run).hasMessageContaining("--zero 3");
    }
}
