package jllm.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

import jllm.format.gguf.GGUFArray;
import jllm.format.gguf.GGUFValue;
import jllm.format.gguf.GGUFValueType;

/**
 * Learns a byte-level BPE vocabulary from text: byte-pair encoding as Sennrich et al. (2016, "Neural Machine
 * Translation of Rare Words with Subword Units") learn it, over the UTF-8 bytes of the words that GPT-2's scheme
 * (Radford et al. 2019) cuts the text into, so that every string is encodable and no unknown token exists.
 * <ol>
 *   <li>Each document is cut at the special tokens (they are never merged into), and each remaining span is split
 *       into words by the pre-tokenizer that the trained vocabulary will use when it encodes ({@code --pre}:
 *       llama.cpp's GPT-2, Llama 3 or Qwen2 scanner, see {@link PreTokenizer}); the words are counted.</li>
 *   <li>The vocabulary starts as the 256 byte tokens: id b stands for byte b, written in GPT-2's byte alphabet
 *       ({@link ByteLevel}).</li>
 *   <li>Repeatedly the most frequent adjacent pair of symbols (counted over all words, times each word's count)
 *       is merged into a new symbol, in every word, left to right; ties go to the pair with the smaller left id, then
 *       the smaller right id. The merge "left right" is appended to the merge list (its rank is its index) and the
 *       concatenated text becomes the next token. (No two merges spell the same text: merges only join symbols, and
 *       a left-to-right pass segments a span whose ends are symbol boundaries the same way in every word, so when a
 *       text is first made, every aligned occurrence of it is made at once.) Merging stops when the vocabulary has {@code vocabSize} tokens with the special tokens, or when no
 *       pair occurs at least {@code minFrequency} times.</li>
 *   <li>The special tokens follow, as control tokens.</li>
 * </ol>
 * Pair counts are kept up to date incrementally: merging a pair visits only the words that contain it (an index
 * from pair to words) and changes the counts of the pairs around each merged position; a priority queue with lazy
 * deletion (an entry whose count is out of date is re-queued with the current one when it surfaces) yields the next
 * pair. The result depends only on the word counts, so the same text always gives the same vocabulary.
 */
public final class BpeTrainer {
    /** The pre-tokenizers a vocabulary can be trained for ({@code tokenizer.ggml.pre} values). */
    public static final List<String> PRE_TOKENIZERS = List.of("gpt-2", "llama-bpe", "qwen2");

    /**
     * What to train.
     *
     * @param vocabSize    tokens in the result, special tokens included (at least 256 + specials)
     * @param minFrequency a pair is merged only if it occurs at least this often
     * @param specials     control tokens appended after the merged tokens, at least one (llama.cpp would otherwise
     *                     take token 11 as BOS and EOS); BOS and EOS are chosen among them by {@link #bosIndex} and
     *                     {@link #eosIndex}
     * @param pre          the pre-tokenizer, one of {@link #PRE_TOKENIZERS} ("gpt2" is read as "gpt-2")
     * @param addBos       the vocabulary asks for BOS at the start of encoded text ({@code add_bos_token})
     */
    public record Config(int vocabSize, long minFrequency, List<String> specials, String pre, boolean addBos) {
        public Config {
            specials = List.copyOf(specials);
            if (pre.equals("gpt2")) pre = "gpt-2";
            if (!PRE_TOKENIZERS.contains(pre)) {
                throw new IllegalArgumentException("pre-tokenizer '" + pre + "' is not one of gpt2, " + String.join(", ", PRE_TOKENIZERS.subList(1, PRE_TOKENIZERS.size())));
            }
            if (specials.isEmpty()) throw new IllegalArgumentException("at least one special token is needed (e.g. <|endoftext|>) to be BOS and EOS");
            if (new LinkedHashSet<>(specials).size() != specials.size()) throw new IllegalArgumentException("special tokens repeat: " + specials);
            for (String s : specials) {
                if (s.isEmpty()) throw new IllegalArgumentException("a special token is empty");
                if (s.length() == 1 && ByteLevel.byteOf(s.charAt(0)) >= 0) {
                    throw new IllegalArgumentException("special token '" + s + "' is the text of a byte token");
                }
            }
            if (vocabSize < 256 + specials.size()) {
                throw new IllegalArgumentException("vocabulary size " + vocabSize + " is below the 256 byte tokens plus "
                        + specials.size() + " special token(s)");
            }
            if (minFrequency < 1) throw new IllegalArgumentException("minimum pair frequency " + minFrequency + " must be at least 1");
        }

        /** BOS: the first special that reads as a beginning token (&lt;s&gt;, &lt;|begin_of_text|&gt;, ...), else the first. */
        public int bosIndex() {
            return pick(List.of("<|begin_of_text|>", "<s>", "<|startoftext|>", "<bos>", "<|endoftext|>"));
        }

        /** EOS: the first special that reads as an end token (&lt;/s&gt;, &lt;|end_of_text|&gt;, ...), else the first. */
        public int eosIndex() {
            return pick(List.of("<|end_of_text|>", "</s>", "<|endoftext|>", "<eos>", "<|im_end|>"));
        }

        private int pick(List<String> names) {
            for (String n : names) if (specials.contains(n)) return specials.indexOf(n);
            return 0;
        }
    }

    /**
     * A trained vocabulary.
     *
     * @param tokens   token texts in GPT-2's byte alphabet: bytes 0..255, merged tokens, special tokens
     * @param types    NORMAL for bytes and merged tokens, CONTROL for specials
     * @param merges   "left right" lines, by rank
     * @param bos      BOS id (a special token)
     * @param eos      EOS id (a special token)
     * @param words    words counted in the training text (with repeats)
     * @param distinct distinct words
     */
    public record Result(String pre, String[] tokens, TokenType[] types, String[] merges, int bos, int eos, boolean addBos,
                         long words, long distinct) {

        public int vocabSize() { return tokens.length; }

        /**
         * The vocabulary as GGUF tokenizer metadata ({@code tokenizer.ggml.model} = gpt2, pre, tokens, token_type,
         * merges, BOS/EOS ids, add_bos_token), in a fixed order, so equal results write equal bytes.
         */
        public Map<String, GGUFValue> metadata() {
            String p = "tokenizer.ggml.";
            int[] codes = new int[types.length];
            for (int i = 0; i < codes.length; i++) codes[i] = types[i].code();
            Map<String, GGUFValue> md = new LinkedHashMap<>();
            md.put("general.name", GGUFValue.ofString("byte-level BPE, " + tokens.length + " tokens (jllm tokenizer train)"));
            md.put(p + "model", GGUFValue.ofString("gpt2"));
            md.put(p + "pre", GGUFValue.ofString(pre));
            md.put(p + "tokens", GGUFValue.ofArray(new GGUFArray(GGUFValueType.STRING, tokens.clone())));
            md.put(p + "token_type", GGUFValue.ofArray(new GGUFArray(GGUFValueType.INT32, codes)));
            md.put(p + "merges", GGUFValue.ofArray(new GGUFArray(GGUFValueType.STRING, merges.clone())));
            md.put(p + "bos_token_id", GGUFValue.ofUInt32(bos));
            md.put(p + "eos_token_id", GGUFValue.ofUInt32(eos));
            md.put(p + "add_bos_token", GGUFValue.ofBool(addBos));
            md.put(p + "add_eos_token", GGUFValue.ofBool(false));
            return md;
        }

        /** The tokenizer this vocabulary makes (as it would be read back from its GGUF file). */
        public VocabTokenizer tokenizer() {
            return Tokenizers.fromMetadata("trained vocabulary", metadata());
        }
    }

    private final Config config;
    private final PreTokenizer preTokenizer;
    private final HashMap<String, long[]> wordCounts = new HashMap<>(); // byte-alphabet word -> {count}
    private long words;

    public BpeTrainer(Config config) {
        this.config = config;
        this.preTokenizer = BpePreset.forName(config.pre()).preTokenizer();
    }

    public Config config() { return config; }

    /** Counts the words of one document (special tokens cut out first). */
    public void add(String text) {
        List<String> specials = config.specials();
        int[] next = new int[specials.size()]; // each special's next occurrence at or after from (-1: none)
        Arrays.fill(next, -2);
        int from = 0;
        while (from < text.length()) {
            int at = text.length(), len = 0;
            for (int k = 0; k < next.length; k++) { // the earliest special; at one position, the longest
                String s = specials.get(k);
                if (next[k] != -1 && next[k] < from) next[k] = text.indexOf(s, from);
                if (next[k] >= 0 && (next[k] < at || (next[k] == at && s.length() > len))) {
                    at = next[k];
                    len = s.length();
                }
            }
            countWords(text.substring(from, at));
            from = at + len;
        }
    }

    private void countWords(String span) {
        if (span.isEmpty()) return;
        int[] cps = span.codePoints().toArray();
        int pos = 0;
        for (int len : preTokenizer.split(cps)) {
            wordCounts.computeIfAbsent(ByteLevel.encode(cps, pos, pos + len), w -> new long[1])[0]++;
            words++;
            pos += len;
        }
    }

    /** Words counted so far, with repeats. */
    public long words() { return words; }

    /** Learns the merges from the words counted so far. */
    public Result train() {
        int nWords = wordCounts.size();
        int[][] symbols = new int[nWords][];
        long[] counts = new long[nWords];
        int w = 0;
        for (Map.Entry<String, long[]> e : wordCounts.entrySet()) {
            String word = e.getKey();
            int[] s = new int[word.length()]; // byte-alphabet characters are one char each
            for (int i = 0; i < s.length; i++) s[i] = ByteLevel.byteOf(word.charAt(i));
            symbols[w] = s;
            counts[w++] = e.getValue()[0];
        }

        List<String> texts = new ArrayList<>();
        Map<String, Integer> ids = new HashMap<>();
        for (int b = 0; b < 256; b++) {
            texts.add(String.valueOf(ByteLevel.charOf(b)));
            ids.put(texts.get(b), b);
        }
        List<String> merges = new ArrayList<>();
        int target = config.vocabSize() - config.specials().size();

        PairTable pairs = new PairTable(1 << 16);
        for (w = 0; w < nWords; w++) {
            int[] s = symbols[w];
            for (int i = 0; i + 1 < s.length; i++) {
                int slot = pairs.slot(s[i], s[i + 1]);
                pairs.count[slot] += counts[w];
                pairs.addWord(slot, w);
            }
        }
        PriorityQueue<Candidate> queue = new PriorityQueue<>();
        for (int slot = 0; slot < pairs.capacity(); slot++) {
            if (pairs.used(slot) && pairs.count[slot] > 0) queue.add(pairs.candidate(slot));
        }

        int[] wordStamp = new int[nWords];
        Arrays.fill(wordStamp, -1);
        Touched touched = new Touched();
        while (texts.size() < target) {
            Candidate best = nextValid(queue, pairs);
            if (best == null || best.count < config.minFrequency()) break;
            int step = merges.size();
            String left = texts.get(best.left), right = texts.get(best.right);
            merges.add(left + ' ' + right);
            String joined = left + right;
            int c = texts.size();
            if (ids.putIfAbsent(joined, c) != null) {
                // cannot happen: a span whose ends are symbol boundaries is segmented the same in every word
                throw new IllegalStateException("merge '" + merges.getLast() + "' spells the existing token '" + joined + "'");
            }
            texts.add(joined);
            // merge the pair in every word that has it, changing the counts of the pairs around each merge
            touched.clear();
            int bestSlot = pairs.find(best.left, best.right);
            int[] where = pairs.words(bestSlot);
            for (int k = 0, n = pairs.wordCount(bestSlot); k < n; k++) {
                int word = where[k];
                if (wordStamp[word] == step) continue;
                wordStamp[word] = step;
                mergeWord(symbols, word, counts[word], best.left, best.right, c, pairs, step, touched);
            }
            for (int k = 0; k < touched.n; k++) { // a pair whose count rose gets an entry with its new count
                int slot = pairs.find(touched.keys[k]);
                if (pairs.count[slot] > touched.before[k]) queue.add(pairs.candidate(slot));
            }
        }

        List<String> tokens = new ArrayList<>(texts);
        List<TokenType> types = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) types.add(TokenType.NORMAL);
        int firstSpecial = tokens.size();
        for (String s : config.specials()) {
            String t = s;
            if (ids.containsKey(t)) throw new IllegalArgumentException("special token '" + s + "' is also a learned token");
            tokens.add(t);
            types.add(TokenType.CONTROL);
        }
        return new Result(config.pre(), tokens.toArray(new String[0]), types.toArray(new TokenType[0]),
                merges.toArray(new String[0]), firstSpecial + config.bosIndex(), firstSpecial + config.eosIndex(),
                config.addBos(), words, nWords);
    }

    /** The highest queued pair whose count is current (stale entries are re-queued with their count or dropped). */
    private static Candidate nextValid(PriorityQueue<Candidate> queue, PairTable pairs) {
        while (!queue.isEmpty()) {
            Candidate top = queue.poll();
            int slot = pairs.find(top.left, top.right);
            long now = pairs.count[slot];
            if (now == top.count) return top;
            if (now > 0) queue.add(new Candidate(now, top.left, top.right));
        }
        return null;
    }

    /**
     * Replaces each occurrence of (l, r) in word w, left to right, by c. Pairs touching a merged position leave the
     * counts (the old symbols' pairs) and enter them (the new symbols' pairs); pairs elsewhere are the same before and
     * after. Each pair whose count changes is recorded once per step in {@code touched}, with its count before.
     */
    private static void mergeWord(int[][] symbols, int w, long count, int l, int r, int c, PairTable pairs, int step,
                                  Touched touched) {
        int[] s = symbols[w];
        int n = s.length;
        boolean[] merged = new boolean[n];     // positions of s inside a merged pair
        int[] t = new int[n];
        boolean[] fresh = new boolean[n];      // positions of t holding a merged symbol
        int m = 0;
        for (int i = 0; i < n; ) {
            if (i + 1 < n && s[i] == l && s[i + 1] == r) {
                merged[i] = merged[i + 1] = true;
                fresh[m] = true;
                t[m++] = c;
                i += 2;
            } else {
                t[m++] = s[i++];
            }
        }
        if (m == n) return; // the word no longer has the pair (the index keeps words it once had)
        for (int i = 0; i + 1 < n; i++) {
            if (merged[i] || merged[i + 1]) change(pairs, s[i], s[i + 1], -count, step, touched);
        }
        for (int i = 0; i + 1 < m; i++) {
            if (fresh[i] || fresh[i + 1]) {
                int slot = change(pairs, t[i], t[i + 1], count, step, touched);
                pairs.addWord(slot, w);
            }
        }
        symbols[w] = Arrays.copyOf(t, m);
    }

    private static int change(PairTable pairs, int a, int b, long delta, int step, Touched touched) {
        int slot = pairs.slot(a, b);
        if (pairs.stamp[slot] != step) {
            pairs.stamp[slot] = step;
            touched.add(PairTable.key(a, b), pairs.count[slot]);
        }
        pairs.count[slot] += delta;
        return slot;
    }

    /** The pairs one merge step changed (by key: slots move when the table grows), with their counts before it. */
    private static final class Touched {
        long[] keys = new long[64], before = new long[64];
        int n;

        void clear() { n = 0; }

        void add(long key, long countBefore) {
            if (n == keys.length) {
                keys = Arrays.copyOf(keys, 2 * n);
                before = Arrays.copyOf(before, 2 * n);
            }
            keys[n] = key;
            before[n++] = countBefore;
        }
    }

    /** A queued pair: higher count first, then smaller left id, then smaller right id. */
    private record Candidate(long count, int left, int right) implements Comparable<Candidate> {
        @Override
        public int compareTo(Candidate o) {
            if (count != o.count) return Long.compare(o.count, count);
            if (left != o.left) return Integer.compare(left, o.left);
            return Integer.compare(right, o.right);
        }
    }

    /**
     * Pair statistics in an open-addressing table keyed by (left, right): the pair's count, the words that have (or
     * once had) it, and the last merge step that changed it. Pairs are never removed; a count may drop to 0.
     */
    private static final class PairTable {
        private long[] keys;
        long[] count;
        int[] stamp;
        private int[][] words;
        private int[] wordCount;
        private int size;

        PairTable(int capacity) {
            allocate(capacity);
        }

        private void allocate(int capacity) {
            keys = new long[capacity];
            Arrays.fill(keys, -1L);
            count = new long[capacity];
            stamp = new int[capacity];
            Arrays.fill(stamp, -1);
            words = new int[capacity][];
            wordCount = new int[capacity];
        }

        int capacity() { return keys.length; }

        boolean used(int slot) { return keys[slot] != -1L; }

        static long key(int a, int b) {
            return ((long) a << 32) | (b & 0xFFFFFFFFL);
        }

        private int probe(long key) {
            int mask = keys.length - 1;
            int i = (int) (mix(key) & mask);
            while (keys[i] != -1L && keys[i] != key) i = (i + 1) & mask;
            return i;
        }

        private static long mix(long k) {
            k *= 0x9E3779B97F4A7C15L;
            return k ^ (k >>> 29);
        }

        /** The slot of an existing pair. */
        int find(int a, int b) {
            return find(key(a, b));
        }

        int find(long key) {
            int i = probe(key);
            if (keys[i] == -1L) throw new IllegalStateException("pair " + (key >>> 32) + " " + (int) key + " is not in the table");
            return i;
        }

        /** The slot of the pair, added with count 0 if new. Slots move when the table grows. */
        int slot(int a, int b) {
            long k = key(a, b);
            int i = probe(k);
            if (keys[i] == k) return i;
            if (2 * (size + 1) > keys.length) {
                grow();
                i = probe(k);
            }
            keys[i] = k;
            size++;
            return i;
        }

        private void grow() {
            long[] oldKeys = keys, oldCount = count;
            int[] oldStamp = stamp, oldWordCount = wordCount;
            int[][] oldWords = words;
            allocate(oldKeys.length * 2);
            for (int j = 0; j < oldKeys.length; j++) {
                if (oldKeys[j] == -1L) continue;
                int i = probe(oldKeys[j]);
                keys[i] = oldKeys[j];
                count[i] = oldCount[j];
                stamp[i] = oldStamp[j];
                words[i] = oldWords[j];
                wordCount[i] = oldWordCount[j];
            }
        }

        void addWord(int slot, int w) {
            int n = wordCount[slot];
            int[] a = words[slot];
            if (n > 0 && a[n - 1] == w) return; // the same word again (a pair twice in one word)
            if (a == null) a = words[slot] = new int[2];
            else if (n == a.length) a = words[slot] = Arrays.copyOf(a, n * 2);
            a[n] = w;
            wordCount[slot] = n + 1;
        }

        int[] words(int slot) { return words[slot] == null ? new int[0] : words[slot]; }

        int wordCount(int slot) { return wordCount[slot]; }

        Candidate candidate(int slot) {
            return new Candidate(count[slot], (int) (keys[slot] >>> 32), (int) keys[slot]);
        }
    }
}
