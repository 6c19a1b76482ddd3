package jllm.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;

/**
 * Central finite differences of a scalar function of float arrays, compared with an analytic gradient.
 * {@code (f(x + h e_i) - f(x - h e_i)) / 2h} is computed for every element (or a sample); f is evaluated in float by
 * the code under test and summed in double by the caller. The check is
 * {@code |fd_i - g_i| <= tol * max_j |g_j| + absFloor}: relative to the largest gradient of the tensor, plus an
 * absolute floor for the float rounding of f, which limits every difference to about eps * |f| / h whatever the
 * gradient (a tensor whose true gradient is 0, such as a key bias without RoPE, is then checked to be 0 within it).
 */
final class GradCheck {
    private GradCheck() {}

    interface Fn {
        double eval();
    }

    /** {max |fd - analytic|, max |analytic|} over the checked elements (all, or a sample of maxChecks). */
    static double[] errors(float[] x, float[] analytic, Fn f, float h, int maxChecks) {
        double maxG = 0;
        for (float g : analytic) maxG = Math.max(maxG, Math.abs(g));
        SplittableRandom r = new SplittableRandom(x.length * 31L + 7);
        int n = x.length;
        boolean all = n <= maxChecks;
        double worst = 0;
        for (int c = 0; c < Math.min(n, maxChecks); c++) {
            int i = all ? c : r.nextInt(n);
            float old = x[i], up = old + h, down = old - h;
            x[i] = up;
            double fp = f.eval();
            x[i] = down;
            double fm = f.eval();
            x[i] = old;
            double fd = (fp - fm) / ((double) up - down);
            worst = Math.max(worst, Math.abs(fd - analytic[i]));
        }
        return new double[] {worst, maxG};
    }

    static void check(String what, float[] x, float[] analytic, Fn f, float h, double tol) {
        check(what, x, analytic, f, h, tol, 0);
    }

    static void check(String what, float[] x, float[] analytic, Fn f, float h, double tol, double absFloor) {
        double[] e = errors(x, analytic, f, h, 400);
        System.out.printf("gradcheck %-40s max |fd - g| = %.2e, max |g| = %.2e, ratio %.2e (tol %.0e + %.0e)%n",
                what, e[0], e[1], e[0] / Math.max(e[1], 1e-30), tol, absFloor);
        assertThat(e[0]).as(what + ": max |finite difference - analytic| vs max |gradient| " + e[1])
                .isLessThanOrEqualTo(tol * e[1] + absFloor);
    }

    static float[] gaussian(SplittableRandom r, int n, double sigma) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * sigma);
        return a;
    }

    static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (double) a[i] * b[i];
        return s;
    }
}
