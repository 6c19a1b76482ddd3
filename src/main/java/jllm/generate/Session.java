package jllm.generate;

import java.util.Arrays;
import java.util.function.Consumer;

import jllm.model.KvCache;
import jllm.model.LlamaModel;
import jllm.tokenizer.StreamingDecoder;
import jllm.tokenizer.Tokenizer;

/**
 * A conversation with a model: the KV cache and the tokens it holds. Each call appends tokens: the prompt is
 * prefilled in batches, then tokens are decoded one at a time from the cache. When a new prompt starts with
 * tokens the cache already holds (multi-turn chat), only the new suffix is evaluated.
 */
public final class Session {
    /** Why generation ended. */
    public enum StopReason { EOG, STOP_STRING, MAX_TOKENS, CONTEXT_FULL }

    public record Result(String text, int[] tokens, StopReason reason, int promptTokens, int evaluatedPromptTokens,
                         long prefillNanos, long decodeNanos) {}

    private final LlamaModel model;
    private final Tokenizer tokenizer;
    private final KvCache cache;
    private final LlamaModel.State state;
    private int[] held;     // tokens whose keys/values are in the cache, in order
    private int nHeld;

    public Session(LlamaModel model, Tokenizer tokenizer, int nCtx, int batch) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.cache = new KvCache(model.config(), nCtx);
        this.state = model.newState(batch);
        this.held = new int[nCtx];
    }

    public KvCache cache() { return cache; }
    public int contextSize() { return cache.nCtx; }
    public int position() { return nHeld; }
    public LlamaModel.State state() { return state; }

    /** Forgets the conversation (the cache is reused). */
    public void reset() { nHeld = 0; }

    /**
     * Continues from {@code prompt} (the whole conversation so far: tokens the cache already holds are skipped) and
     * generates. {@code onText} receives text pieces as they become valid UTF-8 and cannot be part of a stop string.
     */
    public Result generate(int[] prompt, GenerationConfig gen, Consumer<String> onText) {
        if (prompt.length == 0) throw new IllegalArgumentException("the prompt is empty (no tokens)");
        if (prompt.length >= cache.nCtx) {
            throw new IllegalArgumentException("the prompt has " + prompt.length + " tokens, which does not fit the context of "
                    + cache.nCtx + " tokens (leave room for at least one generated token; raise --ctx)");
        }
        int common = 0;
        while (common < nHeld && common < prompt.length - 1 && held[common] == prompt[common]) common++;
        nHeld = common;
        long t0 = System.nanoTime();
        int toEval = prompt.length - common;
        float[] logits = model.forward(prompt, common, toEval, common, cache, state, false);
        System.arraycopy(prompt, common, held, common, toEval);
        nHeld = prompt.length;
        long t1 = System.nanoTime();

        Sampler sampler = new Sampler(gen.sampler());
        StreamingDecoder decoder = tokenizer.newStreamingDecoder();
        StopMatcher stops = new StopMatcher(gen.stop(), onText);
        int[] out = new int[gen.maxTokens()];
        int n = 0;
        StopReason reason = StopReason.MAX_TOKENS;
        while (n < gen.maxTokens()) {
            int next = sampler.sample(logits, held, nHeld);
            if (tokenizer.isEog(next)) {
                reason = StopReason.EOG;
                break;
            }
            out[n++] = next;
            if (stops.accept(decoder.push(next))) {
                reason = StopReason.STOP_STRING;
                break;
            }
            if (n == gen.maxTokens()) break;
            if (nHeld >= cache.nCtx) {
                reason = StopReason.CONTEXT_FULL;
                break;
            }
            held[nHeld] = next;
            logits = model.forward(held, nHeld, 1, nHeld, cache, state, false);
            nHeld++;
        }
        if (reason != StopReason.STOP_STRING) stops.finish(decoder.flush());
        // The last sampled token's keys/values are not cached: the next turn's prompt evaluates it as new input.
        long t2 = System.nanoTime();
        return new Result(stops.text(), Arrays.copyOf(out, n), reason, prompt.length, toEval, t1 - t0, t2 - t1);
    }
}
