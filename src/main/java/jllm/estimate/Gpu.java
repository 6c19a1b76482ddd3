package jllm.estimate;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Accelerator presets: memory, peak dense 16-bit tensor FLOP/s and memory bandwidth, from the vendors' data
 * sheets. Peaks are the dense figures (NVIDIA prints "with sparsity" numbers at twice these). Memory is the
 * sheet's capacity read as GiB, since HBM and GDDR capacities are binary (an "80GB" A100 reports 81,920 MiB);
 * the driver and CUDA context take a few hundred MiB of it, so pass {@code --gpu-memory} for an exact budget.
 *
 * <pre>
 *   name         memory   peak bf16/fp16 dense   bandwidth   source
 *   a100-40gb    40 GiB   312 TFLOP/s            1,555 GB/s  NVIDIA A100 data sheet (SXM)
 *   a100-80gb    80 GiB   312 TFLOP/s            2,039 GB/s  NVIDIA A100 data sheet (SXM)
 *   h100-sxm     80 GiB   989 TFLOP/s            3,350 GB/s  NVIDIA H100 data sheet (1,979 with sparsity)
 *   h100-pcie    80 GiB   756 TFLOP/s            2,000 GB/s  NVIDIA H100 data sheet (PCIe)
 *   h200        141 GiB   989 TFLOP/s            4,800 GB/s  NVIDIA H200 data sheet
 *   v100-16gb    16 GiB   125 TFLOP/s              900 GB/s  NVIDIA V100 data sheet (SXM2)
 *   v100-32gb    32 GiB   125 TFLOP/s              900 GB/s  NVIDIA V100 data sheet (SXM2)
 *   l4           24 GiB   121 TFLOP/s              300 GB/s  NVIDIA L4 data sheet (242 with sparsity)
 *   l40s         48 GiB   362 TFLOP/s              864 GB/s  NVIDIA L40S data sheet (733 with sparsity)
 *   rtx-3090     24 GiB    71 TFLOP/s              936 GB/s  NVIDIA Ampere GA102 whitepaper (fp16, fp32 accumulate)
 *   rtx-4090     24 GiB   165 TFLOP/s            1,008 GB/s  NVIDIA Ada whitepaper (fp16, fp32 accumulate)
 *   mi300x      192 GiB  1307 TFLOP/s            5,300 GB/s  AMD Instinct MI300X data sheet
 *   tpu-v4       32 GiB   275 TFLOP/s            1,200 GB/s  Google TPU v4 (Chowdhery et al. 2022, App. B: 275)
 * </pre>
 *
 * @param name          preset name
 * @param memoryBytes   device memory in bytes
 * @param peakFlops     peak dense 16-bit tensor FLOP/s
 * @param bandwidth     memory bandwidth in bytes per second
 */
public record Gpu(String name, long memoryBytes, double peakFlops, double bandwidth) {

    private static final long GIB = 1L << 30;
    private static final Map<String, Gpu> GPUS = new LinkedHashMap<>();

    private static void put(String name, long gib, double tflops, double gbPerSecond) {
        GPUS.put(name, new Gpu(name, gib * GIB, tflops * 1e12, gbPerSecond * 1e9));
    }

    static {
        put("a100-40gb", 40, 312, 1555);
        put("a100-80gb", 80, 312, 2039);
        put("h100-sxm", 80, 989, 3350);
        put("h100-pcie", 80, 756, 2000);
        put("h200", 141, 989, 4800);
        put("v100-16gb", 16, 125, 900);
        put("v100-32gb", 32, 125, 900);
        put("l4", 24, 121, 300);
        put("l40s", 48, 362, 864);
        put("rtx-3090", 24, 71, 936);
        put("rtx-4090", 24, 165, 1008);
        put("mi300x", 192, 1307, 5300);
        put("tpu-v4", 32, 275, 1200);
    }

    /** The preset {@code name} (aliases: {@code a100} is a100-80gb, {@code h100} is h100-sxm, {@code v100} is v100-32gb). */
    public static Gpu get(String name) {
        String n = name.toLowerCase(Locale.ROOT).trim();
        n = switch (n) {
            case "a100" -> "a100-80gb";
            case "h100" -> "h100-sxm";
            case "v100" -> "v100-32gb";
            default -> n;
        };
        Gpu g = GPUS.get(n);
        if (g == null) {
            throw new IllegalArgumentException("unknown GPU '" + name + "'; known: " + String.join(", ", GPUS.keySet()));
        }
        return g;
    }
}
