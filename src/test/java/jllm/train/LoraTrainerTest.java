package jllm.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import jllm.format.hf.PeftLoraConfig;
import jllm.format.hf.PeftLoraMapping;
import jllm.model.LlamaWeights;
import jllm.model.LoRA;
import jllm.model.LoRAInit;
import jllm.model.ModelConfig;
import jllm.model.Projection;
import jllm.sizes.Sizes;
import jllm.tensor.GGMLType;
import jllm.tensor.Tensor;

/**
 * The LoRA trainer's memory report and its frozen base: what it allocated (the base as held, the adapter's arrays and
 * gradients, the optimizer state, the model state) equals the {@link Sizes} prediction exactly for AdamW and SGD,
 * with and without dropout and recomputation; the trainable count is r (in + out) per adapted layer (GPT-2's c_attn
 * one layer of 3 dim outputs); a Q8_0 base is dequantized for the backward (mixed precision: rounded to BF16) and a
 * few steps lower the loss of a repeated batch, while the base's own bytes stay bit-identical.
 */
class LoraTrainerTest {

    static TrainConfig config(TrainConfig.OptimizerKind opt, double momentum, boolean mixed, boolean recompute, int steps) {
        return new TrainConfig(steps, 2, 16, 1, opt, new LrSchedule(LrSchedule.Kind.CONSTANT, 2e-2, 0, steps, 0), 0.0, 0.9, 0.999,
                1e-8, momentum, 1.0, 7, false, mixed, recompute, 2);
    }

    static Batch batch(ModelConfig c) {
        SplittableRandom r = new SplittableRandom(5);
        int[] t = new int[32], g = new int[32];
        for (int i = 0; i < 32; i++) t[i] = r.nextInt(c.vocab());
        for (int i = 0; i < 32; i++) g[i] = i % 16 == 15 ? t[i - 15] : t[i + 1];
        return new Batch(t, g, 2, 16);
    }

    static Batch.Source repeat(Batch b) {
        return new Batch.Source() {
            long pos;
            public Batch next() { pos++; return b; }
            public long position() { return pos; }
            public void seek(long position) { pos = position; }
        };
    }

    @ParameterizedTest
    @CsvSource({"llama, ADAMW, 0, 0.1, true", "llama, SGD, 0.9, 0, false", "gpt2, SGD, 0, 0.2, false", "gpt2, ADAMW, 0, 0, true"})
    void memoryEqualsTheSizesPrediction(String arch, TrainConfig.OptimizerKind opt, double momentum, double dropout, boolean recompute) {
        ModelConfig c = arch.equals("gpt2") ? ModelConfig.gpt2(32, 2, 4, 64, 50, 32) : ModelConfig.llama(32, 2, 4, 2, 48, 50, 32);
        List<String> targets = arch.equals("gpt2") ? List.of("c_attn", "c_fc") : List.of("q_proj", "v_proj", "down_proj");
        PeftLoraConfig peft = new PeftLoraConfig(4, 8, targets, false, dropout, "none", null, null, false, false);
        LoRA lora = PeftLoraMapping.init(c, peft, LoRAInit.KAIMING, 3);
        long expected = 0;
        for (int l = 0; l < c.nLayers(); l++) {
            if (arch.equals("gpt2")) expected += 4L * (c.dim() + 3L * c.dim()) + 4L * (c.dim() + c.ffnDim());
            else expected += 4L * (c.dim() + c.qDim()) + 4L * (c.dim() + c.kvDim()) + 4L * (c.ffnDim() + c.dim());
        }
        assertThat(lora.parameterCount()).isEqualTo(expected);
        try (LoraTrainer t = new LoraTrainer(Parameters.init(c, 1, false).weights(), lora, config(opt, momentum, false, recompute, 2))) {
            t.step(repeat(batch(c)));
            LoraMemoryReport m = t.memory();
            System.out.println(arch + " " + opt + " dropout " + dropout + " recompute " + recompute + ": " + m);
            assertThat(m).isEqualTo(t.predict());
            int states = opt == TrainConfig.OptimizerKind.ADAMW ? 2 : momentum > 0 ? 1 : 0;
            assertThat(m.adapter()).isEqualTo(4 * expected);
            assertThat(m.gradients()).isEqualTo(4 * expected);
            assertThat(m.optimizer()).isEqualTo(4L * states * expected);
        }
    }

    @ParameterizedTest
    @CsvSource({"false", "true"})
    void aQuantizedBaseTrainsAnAdapterAndStaysBitIdentical(boolean mixed) {
        ModelConfig c = ModelConfig.llama(32, 2, 4, 2, 64, 50, 32);
        Map<String, float[]> values = new LinkedHashMap<>();
        Parameters.init(c, 4, false).entries().forEach(e -> values.put(e.name(), e.value()));
        LlamaWeights q = LlamaWeights.assemble(c, name -> {
            long[] ne = null;
            for (LlamaWeights.Param p : LlamaWeights.parameters(c)) if (p.name().equals(name)) ne = p.ne();
            return Tensor.quantize(name, GGMLType.Q8_0, values.get(name), ne);
        }, values::get, null);
        byte[] before = q.wq()[0].data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        LlamaWeights frozen = LoraTrainer.frozen(c, q, mixed);
        assertThat(frozen.wq()[0].type()).isEqualTo(mixed ? GGMLType.BF16 : GGMLType.F32);
        assertThat(frozen.tokenEmbedding()).isSameAs(q.tokenEmbedding()); // looked up, never multiplied by in the backward
        LoRA lora = PeftLoraMapping.init(c, PeftLoraConfig.of(4, 8, List.of("q_proj", "v_proj", "o_proj")), LoRAInit.KAIMING, 9);
        Batch b = batch(c);
        try (LoraTrainer t = new LoraTrainer(q, lora, config(TrainConfig.OptimizerKind.ADAMW, 0, mixed, false, 6))) {
            double first = t.step(repeat(b)).loss(), last = first;
            for (int i = 1; i < 6; i++) last = t.step(repeat(b)).loss();
            System.out.printf("Q8_0 base, mixed %b: loss %.4f -> %.4f%n", mixed, first, last);
            assertThat(last).isLessThan(first);
            assertThat(t.memory()).isEqualTo(t.predict());
        }
        assertThat(q.wq()[0].data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)).isEqualTo(before);
        assertThat(Projection.Q.weight(q, 0).type()).isEqualTo(GGMLType.Q8_0);
    }
}
