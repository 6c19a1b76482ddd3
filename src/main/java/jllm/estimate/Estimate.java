package jllm.estimate;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The result of a planner run: the numbers under their JSON keys, the derivation that produced them (one
 * {@link Step} per formula, in order) and the warnings. The table, {@code --explain} and {@code --json} are all
 * rendered from this one object ({@link Report}), so they cannot disagree.
 *
 * <p>JSON keys are the contract of issue 4 and nothing else: {@code params, trainable_params, weights_bytes,
 * kv_cache_bytes, activations_bytes, gradients_bytes, optimizer_bytes, master_weights_bytes, model_states_bytes,
 * total_bytes} (all per GPU), {@code cpu_bytes, largest_layer_bytes, flops, time_seconds,
 * achieved_flops_per_gpu, mfu, max_seq, max_batch}.
 */
public final class Estimate {

    /** The keys a result may carry, in output order. */
    public static final List<String> KEYS = List.of("params", "trainable_params", "weights_bytes", "kv_cache_bytes",
            "activations_bytes", "gradients_bytes", "optimizer_bytes", "master_weights_bytes", "model_states_bytes",
            "total_bytes", "cpu_bytes", "largest_layer_bytes", "flops", "time_seconds", "achieved_flops_per_gpu", "mfu",
            "max_seq", "max_batch");

    private static final Set<String> KEY_SET = Set.copyOf(KEYS);

    /** How a number reads. */
    public enum Unit { BYTES, COUNT, FLOPS, SECONDS, FLOPS_PER_SECOND, RATIO, TOKENS }

    /**
     * One line of a derivation.
     *
     * @param id      message id: {@code step.<id>.title} and {@code step.<id>.formula} in the message bundles
     * @param args    values substituted into the title and formula text ({0}, {1}, ...)
     * @param numbers the formula with the numbers put in, language-neutral
     * @param key     the JSON key this step's result is published under, or null for an intermediate result
     * @param value   the result
     * @param unit    the result's unit
     */
    public record Step(String id, List<String> args, String numbers, String key, double value, Unit unit) {}

    /** A warning or remark: message id {@code warn.<id>} or {@code note.<id>} with its arguments. */
    public record Note(String id, List<String> args) {}

    private final String command;
    private final String subject;
    private final Map<String, Number> values = new LinkedHashMap<>();
    private final List<Step> steps = new ArrayList<>();
    private final List<Note> warnings = new ArrayList<>();
    private final List<Note> notes = new ArrayList<>();

    /** A new, empty result for {@code command} ({@code infer}, {@code train}, {@code time}) about {@code subject}. */
    public Estimate(String command, String subject) {
        this.command = command;
        this.subject = subject;
    }

    public String command() {
        return command;
    }

    public String subject() {
        return subject;
    }

    /** Records a derivation step; when {@code key} is not null its value is published under that key. */
    public Step step(String id, String numbers, String key, double value, Unit unit, Object... args) {
        List<String> a = new ArrayList<>();
        for (Object o : args) a.add(String.valueOf(o));
        Step s = new Step(id, List.copyOf(a), numbers, key, value, unit);
        steps.add(s);
        if (key != null) {
            if (unit == Unit.BYTES || unit == Unit.COUNT || unit == Unit.TOKENS) put(key, Math.round(value));
            else put(key, value);
        }
        return s;
    }

    /** Publishes {@code value} under {@code key} (one of {@link #KEYS}). */
    public void put(String key, Number value) {
        if (!KEY_SET.contains(key)) throw new IllegalArgumentException("not a planner output key: " + key);
        values.put(key, value);
    }

    /** Adds a warning about a common mistake or a questionable input. */
    public void warn(String id, Object... args) {
        warnings.add(makeNote(id, args));
    }

    /** Adds a remark that is not a warning (which bound applies, what fits). */
    public void note(String id, Object... args) {
        notes.add(makeNote(id, args));
    }

    private static Note makeNote(String id, Object... args) {
        List<String> a = new ArrayList<>();
        for (Object o : args) a.add(String.valueOf(o));
        return new Note(id, List.copyOf(a));
    }

    /** The published numbers, in {@link #KEYS} order. */
    public Map<String, Number> values() {
        Map<String, Number> ordered = new LinkedHashMap<>();
        for (String k : KEYS) if (values.containsKey(k)) ordered.put(k, values.get(k));
        return Collections.unmodifiableMap(ordered);
    }

    /** The value under {@code key}, or an exception when it was not computed. */
    public double get(String key) {
        Number n = values.get(key);
        if (n == null) throw new IllegalStateException(key + " was not computed");
        return n.doubleValue();
    }

    /** The value under {@code key} as a long (bytes, counts). */
    public long getLong(String key) {
        Number n = values.get(key);
        if (n == null) throw new IllegalStateException(key + " was not computed");
        return n.longValue();
    }

    public boolean has(String key) {
        return values.containsKey(key);
    }

    public List<Step> steps() {
        return Collections.unmodifiableList(steps);
    }

    public List<Note> warnings() {
        return Collections.unmodifiableList(warnings);
    }

    public List<Note> notes() {
        return Collections.unmodifiableList(notes);
    }

    /** True when a warning with this id was raised. */
    public boolean warned(String id) {
        return warnings.stream().anyMatch(w -> w.id().equals(id));
    }
}
