package jllm.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import jllm.model.LlamaModel;
import jllm.model.LlamaWeights;
import jllm.model.LoRA;
import jllm.model.LoRAInit;
import jllm.model.Linear;
import jllm.model.ModelConfig;
import jllm.model.Projection;

/**
 * The memory a training run reports is measured from what it allocated (the master and bf16 arrays, the gradient
 * arrays, the optimizer's state arrays, the state's activation buffers), and must equal the size functions' prediction
 * from the shapes alone, to the byte in every category, for every combination of precision, optimizer and
 * recomputation, full training and LoRA. Mixed precision keeps the matmul and attention operands as bf16 for the
 * backward: its loss and gradients stay within bf16 rounding of fp32's, recomputation changes no bit of them, and the
 * kept activations take half the bytes.
 */
class TrainerMemoryTest {
    static final ModelConfig LLAMA = ModelConfig.llama(32, 2, 4, 2, 64, 50, 32);
    static final ModelConfig GPT2 = ModelConfig.gpt2(32, 2, 4, 128, 50, 32);

    record Opt(TrainConfig.OptimizerKind kind, double momentum, int states) {}

    static final Opt[] OPTIMIZERS = {new Opt(TrainConfig.OptimizerKind.ADAMW, 0.9, 2), new Opt(TrainConfig.OptimizerKind.SGD, 0.9, 1),
            new Opt(TrainConfig.OptimizerKind.SGD, 0, 0)};

    static TrainConfig config(Opt o, boolean mixed, boolean recompute) {
        return LoraTrainerTest.config(o.kind(), o.momentum(), mixed, recompute, 1);
    }

    /** Exact for every category: weights, gradients, optimizer state and activations (0 bytes apart). */
    @Test
    void measuredBytesEqualThePrediction() {
        for (ModelConfig c : new ModelConfig[] {LLAMA, GPT2}) {
            long p = 0, matrices = 0;
            for (LlamaWeights.Param q : LlamaWeights.parameters(c)) {
                p += q.size();
                if (q.matrix()) matrices += q.size();
            }
            for (Opt o : OPTIMIZERS) {
                for (boolean mixed : new boolean[] {false, true}) {
                    for (boolean recompute : new boolean[] {false, true}) {
                        TrainConfig cfg = config(o, mixed, recompute);
                        try (Trainer t = new Trainer(Parameters.init(c, 1, mixed), cfg)) {
                            t.step(LoraTrainerTest.repeat(LoraTrainerTest.batch(c)));
                            MemoryReport m = t.memory();
                            String what = c.architecture() + " " + o + " mixed " + mixed + " recompute " + recompute;
                            assertThat(m).as(what).isEqualTo(Trainer.predict(c, cfg));
                            // and by hand: 4 B per master value (+ 2 per matrix value in bf16), 4 per gradient, 4 per state value
                            assertThat(m.weights()).as(what).isEqualTo(4 * p + (mixed ? 2 * matrices : 0));
                            assertThat(m.gradients()).as(what).isEqualTo(4 * p);
                            assertThat(m.optimizer()).as(what).isEqualTo(4L * o.states() * p);
                        }
                    }
                }
            }
        }
    }

    @Test
    void loraMeasuredBytesEqualThePrediction() {
        for (ModelConfig c : new ModelConfig[] {LLAMA, GPT2}) {
            for (Opt o : OPTIMIZERS) {
                for (boolean mixed : new boolean[] {false, true}) {
                    for (boolean recompute : new boolean[] {false, true}) {
                        List<LoRA.Module> modules = new ArrayList<>();
                        for (int l = 0; l < c.nLayers(); l++) {
                            modules.add(LoRA.Module.of(l, Projection.Q));
                            modules.add(LoRA.Module.of(l, Projection.DOWN));
                        }
                        LoRA lora = LoRA.init(c, modules, 4, 2.0, 0.1, LoRAInit.KAIMING, 3);
                        try (LoraTrainer t = new LoraTrainer(Parameters.init(c, 1, false).weights(), lora, config(o, mixed, recompute))) {
                            t.step(LoraTrainerTest.repeat(LoraTrainerTest.batch(c)));
                            LoraMemoryReport m = t.memory();
                            String what = c.architecture() + " LoRA " + o + " mixed " + mixed + " recompute " + recompute;
                            assertThat(m).as(what).isEqualTo(t.predict());
                            long n = lora.parameterCount();
                            assertThat(m.adapter()).as(what).isEqualTo(4 * n);
                            assertThat(m.gradients()).as(what).isEqualTo(4 * n);
                            assertThat(m.optimizer()).as(what).isEqualTo(4L * o.states() * n);
                        }
                    }
                }
            }
        }
    }

    /** Loss and gradients of one forward and backward, for a state in the given mode. */
    record Run(double loss, List<float[]> grads, long activationBytes) {}

    static Run run(ModelConfig c, boolean mixed, boolean recompute) {
        Parameters p = Parameters.init(c, 11, mixed);
        Batch b = LoraTrainerTest.batch(c);
        try (Linear linear = new Linear(2)) {
            LlamaModel m = new LlamaModel(c, p.weights(), linear);
            LlamaModel.State s = m.newTrainingState(b.B(), b.T(), recompute, mixed);
            p.zeroGrad();
            double loss = m.forward(b.tokens(), b.targets(), s);
            m.backward(b.tokens(), b.targets(), s, p.gradients(), 1f);
            List<float[]> g = new ArrayList<>();
            for (Parameters.Entry e : p.entries()) g.add(e.grad().clone());
            return new Run(loss, g, s.bytes());
        }
    }

    /**
     * bf16 has an 8-bit significand (relative rounding 2^-9 = 2e-3); after a few products the loss stays within 1e-2
     * relative of fp32's, and the gradient, as a whole, within 2e-2 (relative L2 norm of the difference); each tensor's
     * worst element within 5e-2 of max(its largest, 1e-3 x the largest of all) (the floor keeps gradients that are
     * zero in exact arithmetic, such as a key bias's, from dividing rounding noise by rounding noise).
     */
    @Test
    void mixedPrecisionLossAndGradientsTrackFp32() {
        for (ModelConfig c : new ModelConfig[] {LLAMA, GPT2}) {
            Run f = run(c, false, false), h = run(c, true, false);
            double lossRel = Math.abs(h.loss() / f.loss() - 1);
            double num = 0, den = 0, worstTensor = 0, maxAll = 0;
            for (float[] a : f.grads()) for (float x : a) maxAll = Math.max(maxAll, Math.abs(x));
            for (int i = 0; i < f.grads().size(); i++) {
                float[] a = f.grads().get(i), b = h.grads().get(i);
                double maxDiff = 0, maxRef = 0;
                for (int j = 0; j < a.length; j++) {
                    num += (double) (a[j] - b[j]) * (a[j] - b[j]);
                    den += (double) a[j] * a[j];
                    maxDiff = Math.max(maxDiff, Math.abs(a[j] - b[j]));
                    maxRef = Math.max(maxRef, Math.abs(a[j]));
                }
                worstTensor = Math.max(worstTensor, maxDiff / Math.max(maxRef, 1e-3 * maxAll));
            }
            double gradRel = Math.sqrt(num / den);
            System.out.printf("%s mixed vs fp32: loss rel %.2e, gradient L2 rel %.2e, worst tensor max|diff|/max|ref| %.2e%n",
                    c.architecture(), lossRel, gradRel, worstTensor);
            assertThat(lossRel).isLessThan(1e-2).isGreaterThan(0);
            assertThat(gradRel).isLessThan(2e-2).isGreaterThan(0);
            assertThat(worstTensor).isLessThan(5e-2);
        }
    }

    /** Keeping bf16 copies and recomputing the block give the same bits: the copies are exact. */
    @Test
    void mixedPrecisionKeptOrRecomputedIsBitIdentical() {
        for (ModelConfig c : new ModelConfig[] {LLAMA, GPT2}) {
            Run kept = run(c, true, false), again = run(c, true, true);
            assertThat(again.loss()).isEqualTo(kept.loss());
            for (int i = 0; i < kept.grads().size(); i++) assertThat(again.grads().get(i)).containsExactly(kept.grads().get(i));
        }
    }

    /**
     * The kept operands (ln1, ln2, q, k, v, att, up, hid and gate: 2 dim + 2 qDim + 2 kvDim + 2 or 3 ffnDim per row
     * and layer) take 2 bytes instead of 4, and the layers share one float32 set of them: the saving is
     * N (L (2 B per element) - 4 B per element) x those widths, exactly. What each further layer costs, measured as
     * the difference between 9 and 8 layers, drops to (4 (2 dim + nHeads + 4) + 2 W) / (4 (2 dim + nHeads + 4 + W)) of
     * fp32's (the residual stream res and mid, attention's log-sum-exp and the norm statistics stay fp32): 0.569 here,
     * so a deep model's activations approach that; the logits and the backward's buffers stay fp32.
     */
    @Test
    void mixedPrecisionHalvesTheKeptActivations() {
        ModelConfig c8 = ModelConfig.llama(64, 8, 4, 2, 176, 32, 64), c9 = ModelConfig.llama(64, 9, 4, 2, 176, 32, 64);
        Run f = run(c8, false, false), h = run(c8, true, false);
        long N = 32; // LoraTrainerTest.batch: 2 x 16
        long widths = 2L * c8.dim() + 2L * c8.qDim() + 2L * c8.kvDim() + 3L * c8.ffnDim();
        assertThat(f.activationBytes() - h.activationBytes()).isEqualTo(N * widths * (2L * c8.nLayers() - 4));
        long perLayerF32 = run(c9, false, false).activationBytes() - f.activationBytes();
        long perLayerMixed = run(c9, true, false).activationBytes() - h.activationBytes();
        long f32Kept = 2L * c8.dim() + c8.nHeads() + 4; // the block's input res, mid, lse, norm statistics
        assertThat(perLayerF32).isEqualTo(N * 4 * (f32Kept + widths));
        assertThat(perLayerMixed).isEqualTo(N * (4 * f32Kept + 2 * widths));
        double ratio = (double) perLayerMixed / perLayerF32;
        System.out.printf("activations, 8 layers: fp32 %,d B, mixed %,d B (%.3f); a further layer: fp32 %,d B, mixed %,d B (%.3f)%n",
                f.activationBytes(), h.activationBytes(), (double) h.activationBytes() / f.activationBytes(), perLayerF32, perLayerMixed, ratio);
        assertThat(ratio).isLessThan(0.6);
    }
}
