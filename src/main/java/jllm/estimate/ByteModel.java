package jllm.estimate;

import java.util.Locale;

/**
 * How many bytes of model states each parameter costs during training. Published sources disagree because
 * they count different buffers; each is a named preset ({@code --byte-model}) so a user can reproduce the
 * source's figure and see why it differs.
 * <pre>
 *   auto        composed from the flags: weights in --dtype, gradients in --grad-dtype (default --dtype),
 *               an fp32 master copy (4 B) under --mixed-precision, optimizer states from --optimizer (AdamW 8 B).
 *               Mixed-precision AdamW: 2 + 2 + 4 + 8 = 16 B. Supports LoRA, QLoRA, offload and ZeRO 0-3.
 *   zero        Rajbhandari et al. 2020 (ZeRO), Sec. 3.1: fp16 weights 2, fp16 gradients 2, and K = 12 bytes of
 *               optimizer state (fp32 weights 4, momentum 4, variance 4): (2 + 2 + K) = 16 B per parameter,
 *               partitioned as in their Figure 1 (stage 1: 4 + K/Nd; 2: 2 + (2 + K)/Nd; 3: (4 + K)/Nd).
 *   megatron    Megatron-LM distributed optimizer (docs: distrib_optimizer.md): bf16 weights 2, fp32 main
 *               gradients 4, fp32 master 4, Adam 8 = 18 B; with the distributed optimizer (ZeRO stage 1)
 *               6 + 12/d. With 16-bit gradients 20 B and 4 + 16/d; fp32 weights and gradients 16 B and 8 + 8/d.
 *   deepspeed   DeepSpeed's estimators (docs: memory.rst; estimate_zero2/zero3_model_states_mem_needs):
 *               ZeRO-2 4P + 16P/N (optimizer offloaded: 2P on GPU); ZeRO-3 4 x largest layer + 18P/N (offloaded
 *               optimizer: + 2P/N; offloaded parameters: the largest layer only); CPU needs with a 1.5 buffer
 *               factor. Model states only; ZeRO-2 and ZeRO-3 only.
 *   accelerate  Hugging Face accelerate estimate-memory (docs: model_size_estimator.md): training with Adam is
 *               4x the weights in their dtype (1x weights, 1x gradients, 2x optimizer), single device.
 * </pre>
 */
public enum ByteModel {
    AUTO, ZERO, MEGATRON, DEEPSPEED, ACCELERATE;

    public static ByteModel parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException ex) {
            throw new IllegalArgumentException("unknown --byte-model '" + s + "' (auto, zero, megatron, deepspeed, accelerate)");
        }
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
