package jllm.train;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import jllm.model.Linear;
import jllm.model.ModelConfig;

/**
 * The process {@link CheckpointKillTest} kills: saves checkpoints of a 6M-parameter model in a loop, the k-th with
 * every weight and optimizer value equal to k and step k, printing "saved k" after each.
 */
public final class CheckpointKillChild {
    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        ModelConfig c = ModelConfig.llama(256, 4, 4, 4, 512, 8000, 64);
        Parameters p = Parameters.init(c, 1, false);
        try (Linear pool = new Linear(1)) {
            AdamW opt = new AdamW(p.entries(), 0.9, 0.95, 1e-8, 0, pool);
            for (int k = 1; ; k++) {
                for (Parameters.Entry e : p.entries()) java.util.Arrays.fill(e.value(), k);
                Map<String, float[]> s = new LinkedHashMap<>();
                for (var e : opt.state().entrySet()) {
                    float[] a = new float[e.getValue().length];
                    java.util.Arrays.fill(a, k);
                    s.put(e.getKey(), a);
                }
                opt.restore(s, k);
                Checkpoint.save(file, p, opt, "adamw", 10L * k, Map.of());
                System.out.println("saved " + k);
                System.out.flush();
            }
        }
    }
}
