/*
 * EngineAgreement: jllm's engine (as `bin/jllm generate` opens it, with or without the load-time repacking) against
 * llama.cpp's logits for the same file, teacher-forced on llama.cpp's greedy tokens. The reference comes from
 * logits_harness (this folder):
 *
 *   logits_harness FILE.gguf 6 1,450,4996,17354,1701,29916 --kv-type f32 > ref.jsonl
 *   java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx8g -cp target/jllm.jar \
 *       reference/llamacpp/EngineAgreement.java FILE.gguf ref.jsonl true|false
 *
 * It prints, per step, the RMS of (jllm - llama.cpp) over the RMS of llama.cpp's logits and whether the argmax agrees.
 */
import jllm.generate.Engine;
import com.fasterxml.jackson.databind.*;
import java.nio.file.*;
import java.util.*;
import jllm.model.*;
public class EngineAgreement {
    public static void main(String[] a) throws Exception {
        Path model = Path.of(a[0]);
        boolean repack = Boolean.parseBoolean(a[2]);
        ObjectMapper om = new ObjectMapper();
        List<JsonNode> steps = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(a[1]))) if (line.startsWith("{")) steps.add(om.readTree(line));
        int[] prompt = {1, 450, 4996, 17354, 1701, 29916};   // the ids given to logits_harness
        try (Engine e = Engine.open(model, 2, null, repack)) {
            LlamaModel m = e.model();
            KvCache cache = new KvCache(m.config(), 64);
            LlamaModel.State s = m.newState(8);
            int[] toks = new int[prompt.length + steps.size()];
            System.arraycopy(prompt, 0, toks, 0, prompt.length);
            for (int i = 0; i < steps.size(); i++) toks[prompt.length + i] = steps.get(i).get("token").asInt();
            float[] lg = m.forward(toks, 0, prompt.length, 0, cache, s, false).clone();
            int agree = 0; double worst = 0;
            for (int st = 0; st < steps.size(); st++) {
                if (st > 0) lg = m.forward(toks, prompt.length + st - 1, 1, prompt.length + st - 1, cache, s, false).clone();
                JsonNode ref = steps.get(st).get("logits");
                int V = ref.size();
                double d2 = 0, r2 = 0; int am = 0;
                for (int i = 0; i < V; i++) { double r = ref.get(i).asDouble(); d2 += (lg[i] - r) * (lg[i] - r); r2 += r * r; if (lg[i] > lg[am]) am = i; }
                double rel = Math.sqrt(d2 / r2);
                worst = Math.max(worst, rel);
                boolean same = am == steps.get(st).get("token").asInt();
                if (same) agree++;
                System.out.printf("step %d: rms diff / rms logits %.3e, argmax %d vs %d, llama.cpp top1-top2 gap %.4f%n", st, rel, am, steps.get(st).get("token").asInt(), steps.get(st).get("top1").asDouble() - steps.get(st).get("top2").asDouble());
            }
            System.out.printf("%s repack=%b: worst rms diff %.3e, argmax agrees %d/%d%n", model.getFileName(), repack, worst, agree, steps.size());
        }
    }
}
