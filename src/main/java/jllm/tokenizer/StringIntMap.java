package jllm.tokenizer;

/**
 * A map from strings to non-negative ints for the tokenizer's big tables (token text to id, merge pair to rank):
 * open addressing with linear probing over two parallel arrays, so an entry costs two array slots instead of a
 * {@code HashMap} node and a boxed {@code Integer}. For Llama 3's 128,256 tokens and 280,147 merges that is about
 * 6 MB instead of about 26 MB of heap, most of which a model keeps for its whole run.
 */
final class StringIntMap {
    private String[] keys;
    private int[] values;
    private int size;

    /** An empty map sized for {@code expected} entries without growing. */
    StringIntMap(int expected) {
        int cap = Integer.highestOneBit(Math.max(4, expected) * 2 - 1) << 1;   // load factor <= 1/2
        keys = new String[cap];
        values = new int[cap];
    }

    int size() { return size; }

    /** The value of {@code key}, or -1. */
    int get(String key) {
        int mask = keys.length - 1;
        for (int i = slot(key, mask); ; i = (i + 1) & mask) {
            String k = keys[i];
            if (k == null) return -1;
            if (k.equals(key)) return values[i];
        }
    }

    /** Sets {@code key} to {@code value} (>= 0), replacing an earlier value. */
    void put(String key, int value) {
        insert(key, value, true);
    }

    /** Sets {@code key} to {@code value} (>= 0) unless the key is present; true if it was absent. */
    boolean putIfAbsent(String key, int value) {
        return insert(key, value, false);
    }

    private boolean insert(String key, int value, boolean replace) {
        if (value < 0) throw new IllegalArgumentException("negative value " + value + " for '" + key + "'");
        if (2 * (size + 1) > keys.length) grow();
        int mask = keys.length - 1;
        for (int i = slot(key, mask); ; i = (i + 1) & mask) {
            String k = keys[i];
            if (k == null) {
                keys[i] = key;
                values[i] = value;
                size++;
                return true;
            }
            if (k.equals(key)) {
                if (replace) values[i] = value;
                return false;
            }
        }
    }

    private void grow() {
        String[] oldKeys = keys;
        int[] oldValues = values;
        keys = new String[oldKeys.length * 2];
        values = new int[oldKeys.length * 2];
        int mask = keys.length - 1;
        for (int j = 0; j < oldKeys.length; j++) {
            if (oldKeys[j] == null) continue;
            int i = slot(oldKeys[j], mask);
            while (keys[i] != null) i = (i + 1) & mask;
            keys[i] = oldKeys[j];
            values[i] = oldValues[j];
        }
    }

    /** String.hashCode mixed (its low bits are weak for short, similar keys), masked to the table. */
    private static int slot(String key, int mask) {
        int h = key.hashCode() * 0x9E3779B9;
        return (h ^ (h >>> 16)) & mask;
    }
}
