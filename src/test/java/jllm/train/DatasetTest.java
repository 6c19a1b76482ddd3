package jllm.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import jllm.model.CrossEntropy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data formats (plain text, JSONL text, prompt/completion with the loss on the completion only, pre-tokenized
 * input_ids), batching in file order with --no-shuffle, seeded shuffling per epoch, and errors that name the line.
 * Expected rows are written out by hand from the byte tokenizer (one id per byte, BOS 256, EOS 257).
 */
class DatasetTest {
    @TempDir Path tmp;
    final ByteEncoder enc = new ByteEncoder();

    Path file(String name, String content) throws Exception {
        Path p = tmp.resolve(name);
        Files.writeString(p, content);
        return p;
    }

    @Test
    void plainTextIsCutIntoOverlappingRows() throws Exception {
        Dataset d = Dataset.read(file("a.txt", "abcdefgh"), enc, 4);
        // BOS a b c d e f g h: rows of 5 tokens overlapping by one
        assertThat(d.format()).isEqualTo(Dataset.Format.TEXT);
        assertThat(d.size()).isEqualTo(2);
        assertThat(d.row(0).ids()).containsExactly(256, 'a', 'b', 'c', 'd');
        assertThat(d.row(1).ids()).containsExactly('d', 'e', 'f', 'g', 'h');
        // one more byte leaves a tail of two tokens, a row of its own (padded in a batch)
        Dataset e = Dataset.read(file("b.txt", "abcdefghi"), enc, 4);
        assertThat(e.size()).isEqualTo(3);
        assertThat(e.row(2).ids()).containsExactly('h', 'i');
    }

    @Test
    void promptCompletionScoresOnlyTheCompletion() throws Exception {
        Dataset d = Dataset.read(file("a.jsonl", "{\"prompt\": \"Q:\", \"completion\": \"ok\"}\n\n{\"prompt\": \"x\", \"completion\": \"y\"}\n"), enc, 8);
        assertThat(d.size()).isEqualTo(2);
        assertThat(d.row(0).ids()).containsExactly(256, 'Q', ':', 'o', 'k', 257);
        DataLoader l = new DataLoader(d, 2, 8, false, 1);
        Batch b = l.next();
        int I = CrossEntropy.IGNORE;
        assertThat(b.tokens()).containsExactly(256, 'Q', ':', 'o', 'k', 257, 0, 0, 256, 'x', 'y', 257, 0, 0, 0, 0);
        // predictions of prompt tokens and of padding are masked; 'o', 'k', EOS are scored
        assertThat(b.targets()).containsExactly(I, I, 'o', 'k', 257, I, I, I, I, 'y', 257, I, I, I, I, I);
    }

    @Test
    void jsonlTextAndInputIds() throws Exception {
        Dataset d = Dataset.read(file("b.jsonl", "{\"text\": \"hi\"}\n{\"input_ids\": [5, 6, 7]}\n"), enc, 8);
        assertThat(d.row(0).ids()).containsExactly(256, 'h', 'i', 257);
        assertThat(d.row(1).ids()).containsExactly(5, 6, 7);
        assertThat(d.row(1).firstScored()).isEqualTo(1);
    }

    @Test
    void noShuffleTakesTheNextRowsInFileOrderAndWraps() throws Exception {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 5; i++) s.append("{\"input_ids\": [").append(i).append(", ").append(i + 10).append("]}\n");
        Dataset d = Dataset.read(file("c.jsonl", s.toString()), enc, 2);
        DataLoader l = new DataLoader(d, 2, 2, false, 1);
        assertThat(l.next().tokens()).containsExactly(0, 10, 1, 11);
        assertThat(l.next().tokens()).containsExactly(2, 12, 3, 13);
        assertThat(l.next().tokens()).containsExactly(4, 14, 0, 10);
        assertThat(l.position()).isEqualTo(6);
    }

    @Test
    void shuffleVisitsEveryRowOncePerEpochAndIsSeeded() throws Exception {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 10; i++) s.append("{\"input_ids\": [").append(i).append(", 1]}\n");
        Dataset d = Dataset.read(file("d.jsonl", s.toString()), enc, 1);
        DataLoader a = new DataLoader(d, 5, 1, true, 7), b = new DataLoader(d, 5, 1, true, 7);
        List<Integer> order = new ArrayList<>();
        for (int k = 0; k < 4; k++) {
            int[] ta = a.next().tokens(), tb = b.next().tokens();
            assertThat(ta).containsExactly(tb);
            for (int x : ta) order.add(x);
        }
        Set<Integer> epoch0 = new HashSet<>(order.subList(0, 10)), epoch1 = new HashSet<>(order.subList(10, 20));
        assertThat(epoch0).hasSize(10);
        assertThat(epoch1).hasSize(10);
        assertThat(order.subList(0, 10)).isNotEqualTo(order.subList(10, 20));
        assertThat(order.subList(0, 10)).isNotEqualTo(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
        DataLoader c = new DataLoader(d, 5, 1, true, 7);
        c.seek(10);
        int[] third = c.next().tokens();
        for (int i = 0; i < 5; i++) assertThat(third[i]).isEqualTo(order.get(10 + i));
    }

    @Test
    void errorsNameTheLine() throws Exception {
        assertThatThrownBy(() -> Dataset.read(file("e.jsonl", "{\"text\": \"a\"}\n{\"foo\": 1}\n"), enc, 4))
                .hasMessageContaining("line 2").hasMessageContaining("\"text\"");
        assertThatThrownBy(() -> Dataset.read(file("f.jsonl", "{\"input_ids\": [1, 999]}\n"), enc, 4))
                .hasMessageContaining("line 1").hasMessageContaining("input_ids[1] = 999");
        assertThatThrownBy(() -> Dataset.read(file("g.jsonl", "{\"text\": \"a\"}\n{oops\n"), enc, 4))
                .hasMessageContaining("line 2: not JSON");
        assertThatThrownBy(() -> Dataset.read(tmp.resolve("missing.txt"), enc, 4)).hasMessageContaining("not found");
    }
}
