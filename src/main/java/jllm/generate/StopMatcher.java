package jllm.generate;

import java.util.List;
import java.util.function.Consumer;

/**
 * Streams generated text while watching for stop strings: text that could still be the start of a stop string is
 * held back until it is decided, so a stop string is never printed, even in part.
 */
final class StopMatcher {
    private final List<String> stops;
    private final Consumer<String> sink;
    private final StringBuilder all = new StringBuilder();
    private int emitted;   // chars of `all` already passed to the sink
    private int finalLength = -1;

    StopMatcher(List<String> stops, Consumer<String> sink) {
        this.stops = stops;
        this.sink = sink == null ? s -> { } : sink;
    }

    /** Adds text; returns true when a stop string has appeared (text before it is emitted, the rest dropped). */
    boolean accept(String piece) {
        all.append(piece);
        for (String s : stops) {
            int at = all.indexOf(s, Math.max(0, emitted - s.length()));
            if (at >= 0) {
                emit(at);
                finalLength = at;
                return true;
            }
        }
        int safe = all.length();
        for (String s : stops) {
            // hold back the longest suffix of `all` that is a proper prefix of s
            for (int k = Math.min(s.length() - 1, all.length()); k > 0; k--) {
                if (endsWithPrefix(s, k)) {
                    safe = Math.min(safe, all.length() - k);
                    break;
                }
            }
        }
        emit(safe);
        return false;
    }

    /** Whether the last k chars of the text equal the first k chars of s. */
    private boolean endsWithPrefix(String s, int k) {
        int start = all.length() - k;
        for (int i = 0; i < k; i++) if (all.charAt(start + i) != s.charAt(i)) return false;
        return true;
    }

    void finish(String tail) {
        all.append(tail);
        emit(all.length());
    }

    private void emit(int upTo) {
        if (upTo > emitted) {
            sink.accept(all.substring(emitted, upTo));
            emitted = upTo;
        }
    }

    String text() {
        return finalLength >= 0 ? all.substring(0, finalLength) : all.toString();
    }
}
