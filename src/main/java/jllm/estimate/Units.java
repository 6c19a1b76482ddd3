package jllm.estimate;

import java.util.Locale;

/**
 * Number formatting for the planner's output, language-neutral: grouped integers, and byte counts shown in both
 * binary (KiB, MiB, GiB, TiB: powers of 1024, IEC 80000-13) and decimal (KB, MB, GB, TB: powers of 1000, SI)
 * units, each labelled, because confusing the two is a 7% error at GiB scale and 10% at TiB.
 */
public final class Units {
    private Units() {}

    public static final double KIB = 1024, MIB = KIB * 1024, GIB = MIB * 1024, TIB = GIB * 1024;

    /** {@code 4294967296} as {@code 4,294,967,296}. */
    public static String n(long v) {
        return String.format(Locale.ROOT, "%,d", v);
    }

    /** A number for a formula: grouped when it is a whole number of moderate size, else 6 significant digits. */
    public static String n(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) return n((long) v);
        String s = String.format(Locale.ROOT, "%.6g", v);
        int e = s.indexOf('e');
        String mantissa = e < 0 ? s : s.substring(0, e), exp = e < 0 ? "" : s.substring(e);
        if (mantissa.contains(".")) mantissa = mantissa.replaceAll("0+$", "").replaceAll("\\.$", "");
        return mantissa + exp;
    }

    /** Bytes with both unit systems: {@code 4,294,967,296 B = 4.00 GiB = 4.29 GB}. */
    public static String bytes(double b) {
        double a = Math.abs(b);
        String bin, dec;
        if (a >= TIB) {
            bin = String.format(Locale.ROOT, "%.2f TiB", b / TIB);
            dec = String.format(Locale.ROOT, "%.2f TB", b / 1e12);
        } else if (a >= GIB) {
            bin = String.format(Locale.ROOT, "%.2f GiB", b / GIB);
            dec = String.format(Locale.ROOT, "%.2f GB", b / 1e9);
        } else if (a >= MIB) {
            bin = String.format(Locale.ROOT, "%.2f MiB", b / MIB);
            dec = String.format(Locale.ROOT, "%.2f MB", b / 1e6);
        } else {
            bin = String.format(Locale.ROOT, "%.2f KiB", b / KIB);
            dec = String.format(Locale.ROOT, "%.2f KB", b / 1e3);
        }
        return n(Math.round(b)) + " B = " + bin + " = " + dec;
    }

    /** Binary-unit part only, for table columns: GiB with two decimals. */
    public static String gib(double b) {
        return String.format(Locale.ROOT, "%.2f", b / GIB);
    }

    /** Decimal-unit part only, for table columns: GB with two decimals. */
    public static String gb(double b) {
        return String.format(Locale.ROOT, "%.2f", b / 1e9);
    }

    /** A count with its magnitude: {@code 6,738,415,616 (6.74e9)}. */
    public static String count(double c) {
        if (Math.abs(c) < 1e4) return n(c);
        return n(Math.round(c)) + String.format(Locale.ROOT, " (%.3g)", c);
    }

    /** Scientific notation with four significant digits: {@code 3.150e+23}. */
    public static String sci(double v) {
        return String.format(Locale.ROOT, "%.4g", v);
    }

    /** A fraction as a percentage: {@code 0.3} as {@code 30.0%}. */
    public static String percent(double r) {
        return String.format(Locale.ROOT, "%.1f%%", 100 * r);
    }
}
