package jllm.tokenizer;

import java.util.SplittableRandom;

/**
 * Seeded text for tokenizer training tests: English-like sentences with Zipf-distributed words, contractions,
 * numbers and punctuation; lines of Chinese verse (runs of Han characters between full-width punctuation); emoji;
 * code-like lines with indentation and runs of '=' and '-'. The held-out variant adds scripts, marks and controls
 * that the training text never has.
 */
final class SyntheticText {
    private static final String[] WORDS = ("the of and to in a is that for it as was with be by on not he I this are or his from at "
            + "which but have an they you were her she there been one all we their has would when if so no will what more about "
            + "model token train data layer weight java vector merge pair byte text word count rank queue value file tensor "
            + "lower newest widest running jumped quickly quietly tokenizer tokenizers encoding decoding").split(" ");
    private static final String HAN = "床前明月光疑是地上霜举头望低思故乡春眠不觉晓处闻啼鸟夜来风雨声花落知多少白日依山尽黄河入海流欲穷千里目更一层楼";
    private static final String[] EMOJI = {"😀", "🦀", "👍", "🎉", "☕", "🌧️"};

    private SyntheticText() {}

    /** About {@code chars} characters of training-like text. */
    static String training(long seed, int chars) {
        SplittableRandom r = new SplittableRandom(seed);
        StringBuilder sb = new StringBuilder(chars + 200);
        while (sb.length() < chars) {
            switch (r.nextInt(10)) {
                case 0, 1 -> verse(sb, r);
                case 2 -> code(sb, r);
                default -> sentence(sb, r);
            }
        }
        return sb.toString();
    }

    /** Text with material the training text lacks, for round trips. */
    static String heldOut(long seed) {
        return training(seed, 3000)
                + "Привет, мир! مرحبا بالعالم नमस्ते दुनिया\tTabs\tand\r\nCRLF lines\r\n"
                + "Combining: e\u0301 n\u0303; ZWJ family 👨\u200D👩\u200D👧\u200D👦; flags 🇯🇵🇫🇷; rare CJK 𠀀𪚥.\n"
                + "Controls \u0000\u0001\u007F and NBSP\u00A0here, ideographic\u3000space, 12345678901234567890.\n"
                + "   leading spaces, trailing spaces   \n\n\n<|endoftext|> as text, <s> too.";
    }

    private static String word(SplittableRandom r) {
        // Zipf-like: the first words far more often
        int i = (int) Math.min(WORDS.length - 1, Math.floor(Math.exp(r.nextDouble() * Math.log(WORDS.length + 1)) - 1));
        return WORDS[i];
    }

    private static void sentence(StringBuilder sb, SplittableRandom r) {
        int n = 4 + r.nextInt(12);
        for (int k = 0; k < n; k++) {
            String w = word(r);
            if (k == 0) w = Character.toUpperCase(w.charAt(0)) + w.substring(1);
            sb.append(k == 0 ? "" : " ").append(w);
            int x = r.nextInt(40);
            if (x == 0) sb.append("'s");
            else if (x == 1) sb.append("n't");
            else if (x == 2) sb.append(',');
            else if (x == 3) sb.append(' ').append(r.nextInt(100000));
        }
        sb.append(r.nextInt(6) == 0 ? "!" : r.nextInt(5) == 0 ? "?" : ".");
        if (r.nextInt(8) == 0) sb.append(' ').append(EMOJI[r.nextInt(EMOJI.length)]);
        sb.append(r.nextInt(3) == 0 ? "\n" : " ");
    }

    private static void verse(StringBuilder sb, SplittableRandom r) {
        int len = r.nextBoolean() ? 5 : 7;
        for (int line = 0; line < 4; line++) {
            for (int k = 0; k < len; k++) sb.append(HAN.charAt(r.nextInt(HAN.length())));
            sb.append(line % 2 == 0 ? '，' : '。');
            if (line % 2 == 1) sb.append('\n');
        }
        sb.append('\n');
    }

    private static void code(StringBuilder sb, SplittableRandom r) {
        int indent = 4 * r.nextInt(4);
        sb.append(" ".repeat(indent)).append(word(r)).append(" = ").append(word(r)).append('(').append(r.nextInt(1000)).append(");");
        if (r.nextInt(3) == 0) sb.append(" // ").append("=".repeat(1 + r.nextInt(12)));
        if (r.nextInt(4) == 0) sb.append('\n').append("-".repeat(2 + r.nextInt(20)));
        sb.append('\n');
    }
}
