package jllm.estimate;

import jllm.estimate.Estimate.Unit;

/**
 * DeepSpeed's model-state estimators, as its documentation states them (DeepSpeed docs, "Memory Requirements",
 * memory.rst; functions {@code estimate_zero2_model_states_mem_needs} and
 * {@code estimate_zero3_model_states_mem_needs}). P = parameters, N = GPUs in all, n = GPUs per node,
 * Lmax = parameters of the largest layer, 1.5 = DeepSpeed's additional buffer factor for CPU memory:
 * <pre>
 *   ZeRO-2, optimizer offloaded   GPU 2P                        CPU P * max(4N, 16) * 1.5
 *   ZeRO-2                        GPU 4P + 16P/N                CPU P * 4n * 1.5 (only while initialising)
 *   ZeRO-3, params + optimizer    GPU 4Lmax                     CPU P * 18 / nodes * 1.5 (zero.Init), else P * max(4n, 18/nodes) * 1.5
 *   ZeRO-3, optimizer offloaded   GPU 4Lmax + 2P/N              CPU P * 16 / nodes * 1.5 (zero.Init), else P * max(4n, 16/nodes) * 1.5
 *   ZeRO-3                        GPU 4Lmax + 18P/N             CPU Lmax * 4n * 1.5 (zero.Init), else P * 4n * 1.5
 * </pre>
 * 4Lmax holds one gathered layer's fp16 weights and fp16 gradients; 18 bytes are fp32 weights, gradients,
 * momentum and variance (16) plus fp16 weights (2). DeepSpeed prints these in GiB labelled "GB".
 *
 * @param params        P
 * @param largestLayer  Lmax
 * @param zero          stage (2 or 3)
 * @param gpus          N
 * @param gpusPerNode   n
 * @param offloadOpt    optimizer states in CPU memory
 * @param offloadParams parameters in CPU memory
 * @param zeroInit      the model is built under zero.Init (partitioned as it is created)
 */
record DeepSpeedEstimator(long params, long largestLayer, int zero, int gpus, int gpusPerNode, boolean offloadOpt,
                          boolean offloadParams, boolean zeroInit) {

    static final double BUFFER = 1.5;

    /** Records the steps; returns {GPU bytes excluding the gathered layer, gathered-layer bytes}. */
    double[] estimate(Estimate e) {
        if (zero < 2) {
            throw new IllegalArgumentException("DeepSpeed publishes estimators for ZeRO-2 and ZeRO-3 only; "
                    + "use --zero 2 or 3 with --byte-model deepspeed, or --byte-model zero");
        }
        if (gpus % gpusPerNode != 0) {
            throw new IllegalArgumentException(gpus + " GPUs do not fill nodes of --gpus-per-node " + gpusPerNode);
        }
        double p = params, n = gpusPerNode, nodes = (double) gpus / gpusPerNode;
        double gpu, cpu, gather = 0;
        String gpuNumbers, cpuNumbers;
        if (zero == 2) {
            if (offloadOpt) {
                gpu = 2 * p;
                cpu = p * Math.max(4.0 * gpus, 16) * BUFFER;
                gpuNumbers = "2 × " + Units.n(params);
                cpuNumbers = Units.n(params) + " × max(4 × " + gpus + ", 16) × 1.5";
            } else {
                gpu = 4 * p + Math.floor(16 * p / gpus);
                cpu = p * 4 * n * BUFFER;
                gpuNumbers = "4 × " + Units.n(params) + " + 16 × " + Units.n(params) + " / " + gpus;
                cpuNumbers = Units.n(params) + " × 4 × " + gpusPerNode + " × 1.5";
            }
        } else {
            if (largestLayer <= 0) {
                throw new IllegalArgumentException("ZeRO-3 needs the largest layer's size: give a model shape or --largest-layer");
            }
            gather = 4.0 * largestLayer;
            e.step("ds_largest_layer", "4 × " + Units.n(largestLayer), "largest_layer_bytes", gather, Unit.BYTES);
            if (offloadOpt && offloadParams) {
                gpu = 0;
                gpuNumbers = "0";
                double k = zeroInit ? 18 / nodes : Math.max(4 * n, 18 / nodes);
                cpu = p * k * BUFFER;
                cpuNumbers = Units.n(params) + " × " + Units.n(k) + " × 1.5";
            } else if (offloadOpt) {
                gpu = Math.floor(2 * p / gpus);
                gpuNumbers = "2 × " + Units.n(params) + " / " + gpus;
                double k = zeroInit ? 16 / nodes : Math.max(4 * n, 16 / nodes);
                cpu = p * k * BUFFER;
                cpuNumbers = Units.n(params) + " × " + Units.n(k) + " × 1.5";
            } else if (offloadParams) {
                throw new IllegalArgumentException("DeepSpeed's estimator has no case for --offload-params without --offload-optimizer");
            } else {
                gpu = Math.floor(18 * p / gpus);
                gpuNumbers = "18 × " + Units.n(params) + " / " + gpus;
                cpu = zeroInit ? largestLayer * 4 * n * BUFFER : p * 4 * n * BUFFER;
                cpuNumbers = Units.n(zeroInit ? largestLayer : params) + " × 4 × " + gpusPerNode + " × 1.5";
            }
        }
        e.step("ds_states", gpuNumbers, "model_states_bytes", gpu, Unit.BYTES, zero);
        e.step("ds_cpu", cpuNumbers, "cpu_bytes", cpu, Unit.BYTES);
        e.note("deepspeed_gib");
        return new double[] {gpu, gather};
    }
}
