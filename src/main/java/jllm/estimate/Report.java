package jllm.estimate;

import java.io.UncheckedIOException;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;


/**
 * Renders an {@link Estimate} three ways from the same numbers: a table (default), the step-by-step derivation
 * ({@code --explain}) and one JSON object ({@code --json}) with only the keys of {@link Estimate#KEYS}.
 */
public final class Report {
    private Report() {}

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** The JSON object: each computed key with its number (bytes and counts as integers). */
    public static String json(Estimate e) {
        try {
            return JSON.writeValueAsString(e.values());
        } catch (JsonProcessingException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    /** The default table: one row per computed key, bytes in B, GiB and GB; then warnings. */
    public static String table(Estimate e, Messages m) {
        StringBuilder sb = new StringBuilder();
        sb.append(m.text("header." + e.command(), e.subject())).append('\n');
        sb.append(String.format(Locale.ROOT, "  %-34s %26s %12s %12s%n", m.text("col.quantity"), m.text("col.value"),
                "GiB", "GB"));
        for (Map.Entry<String, Number> v : e.values().entrySet()) {
            String label = m.text("key." + v.getKey());
            double x = v.getValue().doubleValue();
            if (v.getKey().endsWith("_bytes")) {
                sb.append(String.format(Locale.ROOT, "  %-34s %26s %12s %12s%n", label, Units.n(Math.round(x)) + " B",
                        Units.gib(x), Units.gb(x)));
            } else {
                sb.append(String.format(Locale.ROOT, "  %-34s %26s%n", label, plain(v.getKey(), x, m)));
            }
        }
        notes(sb, e, m);
        return sb.toString();
    }

    /** The derivation: for each step its title, formula, the numbers put in and the result. */
    public static String explain(Estimate e, Messages m) {
        StringBuilder sb = new StringBuilder();
        sb.append(m.text("header." + e.command(), e.subject())).append(" — ").append(m.text("explain.derivation"))
                .append('\n');
        int i = 1;
        for (Estimate.Step s : e.steps()) {
            sb.append(String.format(Locale.ROOT, "%2d. %s%n", i++, m.text("step." + s.id() + ".title", s.args())));
            sb.append("    ").append(m.text("explain.formula")).append(": ")
                    .append(m.text("step." + s.id() + ".formula", s.args())).append('\n');
            sb.append("    ").append(m.text("explain.numbers")).append(": ").append(s.numbers()).append('\n');
            sb.append("    ").append(m.text("explain.result")).append(": ").append(result(s, m));
            if (s.key() != null) sb.append("   [").append(s.key()).append(']');
            sb.append('\n');
        }
        notes(sb, e, m);
        return sb.toString();
    }

    private static void notes(StringBuilder sb, Estimate e, Messages m) {
        if (!e.warnings().isEmpty()) {
            sb.append(m.text("explain.warnings")).append('\n');
            for (Estimate.Note n : e.warnings()) sb.append("  ! ").append(m.text("warn." + n.id(), n.args())).append('\n');
        }
        List<Estimate.Note> notes = e.notes();
        if (!notes.isEmpty()) {
            sb.append(m.text("explain.notes")).append('\n');
            for (Estimate.Note n : notes) sb.append("  - ").append(m.text("note." + n.id(), n.args())).append('\n');
        }
    }

    /** A step's result in the units a person reads. */
    static String result(Estimate.Step s, Messages m) {
        double v = s.value();
        return switch (s.unit()) {
            case BYTES -> Units.bytes(v);
            case COUNT -> Units.count(v);
            case TOKENS -> Units.n(Math.round(v)) + " " + m.text("unit.tokens");
            case FLOPS -> Units.sci(v) + " FLOPs";
            case FLOPS_PER_SECOND -> Units.sci(v) + " FLOP/s = " + Units.n(v / 1e12) + " TFLOP/s";
            case RATIO -> Units.n(v) + " = " + Units.percent(v);
            case SECONDS -> seconds(v, m);
        };
    }

    private static String plain(String key, double x, Messages m) {
        return switch (key) {
            case "flops" -> Units.sci(x);
            case "time_seconds" -> seconds(x, m);
            case "achieved_flops_per_gpu" -> Units.n(x / 1e12) + " TFLOP/s";
            case "mfu" -> Units.percent(x);
            default -> Units.count(x);
        };
    }

    /** Seconds with a readable companion unit: days, hours, minutes or milliseconds. */
    static String seconds(double s, Messages m) {
        String base = Units.n(s) + " s";
        if (s >= 86400 * 2) return base + " = " + String.format(Locale.ROOT, "%.2f", s / 86400) + " " + m.text("unit.days");
        if (s >= 3600) return base + " = " + String.format(Locale.ROOT, "%.2f", s / 3600) + " " + m.text("unit.hours");
        if (s >= 60) return base + " = " + String.format(Locale.ROOT, "%.2f", s / 60) + " " + m.text("unit.minutes");
        if (s < 1) return base + " = " + String.format(Locale.ROOT, "%.3f", s * 1000) + " ms";
        return base;
    }
}
