package jllm.cli;

import java.io.PrintWriter;
import java.util.Locale;

import jllm.train.TrainConfig;
import jllm.train.Trainer;

/**
 * Training progress on stderr: on a terminal, one line redrawn after every step with a bar, the loss, tokens per
 * second and the time left; otherwise about twenty plain lines over the run.
 */
final class TrainProgress {
    private final PrintWriter err;
    private final boolean terminal = System.console() != null;
    private long start = -1, startStep;
    private boolean drawn;

    TrainProgress(PrintWriter err) {
        this.err = err;
    }

    void onStep(Trainer.StepResult r, TrainConfig cfg, long firstStep) {
        long now = System.nanoTime();
        if (start < 0) {
            start = now - r.nanos();
            startStep = firstStep;
        }
        long done = r.step() + 1, total = cfg.steps();
        double perStep = (now - start) / 1e9 / (done - startStep);
        double eta = perStep * (total - done);
        String stats = String.format(Locale.ROOT, "step %d/%d  loss %.4f  lr %.2e  %,.0f tok/s  ETA %s",
                done, total, r.loss(), r.lr(), r.tokensPerSecond(), time(eta));
        if (terminal) {
            int width = 24, fill = (int) (width * done / total);
            err.print("\r[" + "=".repeat(fill) + (fill < width ? ">" : "") + " ".repeat(Math.max(0, width - fill - 1)) + "] " + stats + "\033[K");
            err.flush();
            drawn = true;
        } else if (done == total || done % Math.max(1, total / 20) == 0) {
            err.println("jllm: " + stats);
            err.flush();
        }
    }

    void finish() {
        if (drawn) {
            err.println();
            err.flush();
        }
    }

    static String time(double s) {
        if (!Double.isFinite(s)) return "?";
        long t = Math.round(s);
        return t >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", t / 3600, t / 60 % 60)
                : String.format(Locale.ROOT, "%dm%02ds", t / 60, t % 60);
    }
}
