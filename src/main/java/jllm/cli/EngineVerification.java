package jllm.cli;

import java.io.PrintWriter;
import java.nio.file.Path;

import jllm.estimate.Estimate;
import jllm.generate.Engine;
import jllm.generate.GenerationConfig;
import jllm.generate.SamplerConfig;
import jllm.generate.Session;

/**
 * {@code jllm estimate infer -m FILE.gguf --seq N --verify}: loads the model, allocates the KV cache for N tokens
 * and the activation buffers for one prompt chunk, runs a prompt, and prints the planner's prediction beside what
 * the engine allocated. Weights and KV cache must match to the byte, activations within 10%.
 */
final class EngineVerification {
    /** Activations may differ by this fraction: the planner counts the big per-row buffers, not small scratch. */
    static final double ACTIVATION_TOLERANCE = 0.10;

    record Row(String what, long predicted, long measured, boolean ok) {}

    private EngineVerification() {}

    /** Returns true when every row agrees. */
    static boolean run(Path model, int seq, int chunk, int threads, Estimate predicted, PrintWriter out) throws Exception {
        try (Engine engine = Engine.open(model, threads)) {
            Session session = engine.newSession(seq, chunk);
            session.cache().ensureCapacity(seq);   // the cache grows as positions fill; verify it holding all of --seq
            int n = Math.min(chunk, seq - 1);
            int[] prompt = new int[n];
            int bos = Math.max(0, engine.tokenizer().bos());
            java.util.Arrays.fill(prompt, bos);
            session.generate(prompt, new GenerationConfig(1, SamplerConfig.greedy(), java.util.List.of()), null);

            long w = engine.model().weights().storedBytes();
            long kv = session.cache().bytes();
            long act = session.state().bytes();
            Row[] rows = {
                    new Row("weights", value(predicted, "weights_bytes"), w, value(predicted, "weights_bytes") == w),
                    new Row("KV cache", value(predicted, "kv_cache_bytes"), kv, value(predicted, "kv_cache_bytes") == kv),
                    new Row("activations", value(predicted, "activations_bytes"), act,
                            Math.abs(value(predicted, "activations_bytes") - act) <= ACTIVATION_TOLERANCE * act),
            };
            out.printf("%nverify: %s, KV cache for %d tokens, prompt of %d tokens run (chunk %d)%n", model.getFileName(), seq, n, chunk);
            out.printf("%-12s %16s %16s %9s  %s%n", "", "predicted B", "engine B", "diff", "");
            boolean ok = true;
            for (Row r : rows) {
                double diff = r.measured == 0 ? 0 : (r.predicted - r.measured) / (double) r.measured;
                out.printf("%-12s %16d %16d %8.2f%%  %s%n", r.what, r.predicted, r.measured, 100 * diff,
                        r.ok ? "ok" : "MISMATCH" + (r.what.equals("activations") ? " (tolerance 10%)" : " (must be exact)"));
                ok &= r.ok;
            }
            long held = engine.model().weights().heldBytes();
            if (held != w) {
                out.printf("(weights held in memory: %d B; the engine repacks Q4_K matrices for decoding, 192 bytes per 256 "
                        + "weights instead of 144; -Djllm.repack=false keeps the file's layout)%n", held);
            }
            out.flush();
            return ok;
        }
    }

    private static long value(Estimate e, String key) {
        Number v = e.values().get(key);
        if (v == null) throw new IllegalStateException("the plan has no " + key);
        return v.longValue();
    }
}
