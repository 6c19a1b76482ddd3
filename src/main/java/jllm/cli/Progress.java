package jllm.cli;

/**
 * A "loading..." line on the terminal for work that takes over a second: a daemon thread prints a spinner to
 * stderr after one second, only when stderr is a terminal, and clears it when the work ends.
 */
final class Progress {
    private final Thread thread;
    private volatile boolean finished;

    private Progress(String what) {
        thread = Thread.ofPlatform().daemon().unstarted(() -> {
            try {
                Thread.sleep(1000);
                long start = System.nanoTime() - 1_000_000_000L;
                char[] spin = {'|', '/', '-', '\\'};
                for (int i = 0; !finished; i++) {
                    System.err.printf("\r%s %c %.1fs", what, spin[i % 4], (System.nanoTime() - start) / 1e9);
                    System.err.flush();
                    Thread.sleep(200);
                }
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        });
    }

    static Progress start(String what) {
        Progress p = new Progress(what);
        if (System.console() != null) p.thread.start();
        return p;
    }

    void done(long nanos) {
        finished = true;
        if (thread.isAlive()) {
            thread.interrupt();
            try {
                thread.join(500);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
            System.err.print("\r\033[K");
            System.err.flush();
        }
    }
}
