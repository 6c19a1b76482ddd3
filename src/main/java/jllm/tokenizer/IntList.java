package jllm.tokenizer;

import java.util.Arrays;

/** A growable list of ints (token ids, piece lengths) without boxing. */
final class IntList {
    private int[] a;
    private int n;

    IntList(int capacity) {
        a = new int[Math.max(4, capacity)];
    }

    void add(int v) {
        if (n == a.length) a = Arrays.copyOf(a, a.length * 2);
        a[n++] = v;
    }

    int get(int i) {
        if (i >= n) throw new IndexOutOfBoundsException(i + " >= " + n);
        return a[i];
    }

    int size() { return n; }

    int[] toArray() { return Arrays.copyOf(a, n); }
}
