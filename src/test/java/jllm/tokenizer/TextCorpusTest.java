package jllm.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link TextCorpus}: the points where plain text is cut into pieces are word boundaries of the whole text under
 * each supported pre-tokenizer (so training on pieces counts the whole text's words); the pieces join to the file;
 * JSON Lines give their "text" (or prompt and completion) and bad lines are errors that name the line.
 */
class TextCorpusTest {
    @TempDir Path tmp;

    static final String TRICKY = "a\n's b\n\n x\n!\r\nfoo\n\u00A0nbsp\n123\n😀 emoji\n。句\n-dash\n\tTab\n'S\n\n\nend  \nz"
            + "\n  lead\n.\n'll\n\u3000ideo\nÉcole\n";

    @Test
    void cutPointsAreWordBoundariesOfTheWholeText() {
        String text = TRICKY + SyntheticText.heldOut(9) + SyntheticText.training(10, 20_000);
        int[] cps = text.codePoints().toArray();
        int cuts = 0;
        for (String pre : BpeTrainer.PRE_TOKENIZERS) {
            Set<Integer> bounds = new HashSet<>(); // word ends, as char offsets
            int cp = 0, ch = 0;
            for (int len : BpePreset.forName(pre).preTokenizer().split(cps)) {
                for (int k = 0; k < len; k++) ch += Character.charCount(cps[cp++]);
                bounds.add(ch);
            }
            cuts = 0;
            for (int i = 1; i < text.length(); i++) {
                if (TextCorpus.isCut(text, i)) {
                    cuts++;
                    assertThat(bounds).as(pre + ": cut before char " + i + " '" + text.substring(Math.max(0, i - 3), i + 1).replace("\n", "\\n") + "'")
                            .contains(i);
                }
            }
        }
        assertThat(cuts).isGreaterThan(100);
    }

    @Test
    void plainTextComesInPiecesThatJoinToTheFile() throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int seed = 0; sb.length() < 2 * TextCorpus.PIECE_CHARS + 1000; seed++) sb.append(SyntheticText.training(seed, 50_000));
        String text = sb.toString();
        Path f = tmp.resolve("big.txt");
        Files.writeString(f, text);
        List<String> pieces = new ArrayList<>();
        long chars = TextCorpus.read(f, pieces::add);
        assertThat(chars).isEqualTo(text.length());
        assertThat(pieces.size()).isBetween(2, 4);
        assertThat(String.join("", pieces)).isEqualTo(text);
        int at = 0;
        for (int k = 0; k + 1 < pieces.size(); k++) {
            at += pieces.get(k).length();
            assertThat(TextCorpus.isCut(text, at)).as("piece " + k + " ends at a cut point").isTrue();
        }
    }

    @Test
    void jsonLinesGiveTheirTexts() throws Exception {
        Path f = tmp.resolve("d.jsonl");
        Files.writeString(f, "{\"text\": \"first 文\"}\n\n{\"prompt\": \"Q?\", \"completion\": \" A.\"}\n{\"text\": \"x\\ny\", \"id\": 3}\n");
        List<String> docs = new ArrayList<>();
        TextCorpus.read(f, docs::add);
        assertThat(docs).containsExactly("first 文", "Q?", " A.", "x\ny");
    }

    @Test
    void badInputIsAnErrorNamingTheLineOrFile() throws Exception {
        Path a = tmp.resolve("a.jsonl");
        Files.writeString(a, "{\"text\": \"ok\"}\n{\"input_ids\": [1, 2]}\n");
        assertThatThrownBy(() -> TextCorpus.read(a, d -> {})).hasMessageContaining("a.jsonl line 2").hasMessageContaining("\"text\"");
        Path b = tmp.resolve("b.jsonl");
        Files.writeString(b, "{\"text\": 5}\n");
        assertThatThrownBy(() -> TextCorpus.read(b, d -> {})).hasMessageContaining("b.jsonl line 1");
        Path c = tmp.resolve("c.jsonl");
        Files.writeString(c, "not json\n");
        assertThatThrownBy(() -> TextCorpus.read(c, d -> {})).hasMessageContaining("c.jsonl line 1: not JSON");
        Path bin = tmp.resolve("bin.txt");
        Files.write(bin, new byte[] {'a', (byte) 0xC3, '(', '\n'});
        assertThatThrownBy(() -> TextCorpus.read(bin, d -> {})).hasMessageContaining("bin.txt").hasMessageContaining("UTF-8");
        assertThatThrownBy(() -> TextCorpus.read(tmp.resolve("none.txt"), d -> {})).hasMessageContaining("none.txt");
    }
}
