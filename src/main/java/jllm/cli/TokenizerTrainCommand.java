package jllm.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;

import jllm.format.gguf.GGUFWriter;
import jllm.format.hf.HfTokenizerWriter;
import jllm.tokenizer.BpeTrainer;
import jllm.tokenizer.TextCorpus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code jllm tokenizer train --data FILE --vocab-size N --out FILE}: learns a byte-level BPE vocabulary
 * ({@link BpeTrainer}) from plain text or JSONL ({@link TextCorpus}) and writes it as a GGUF file that holds only
 * tokenizer metadata (readable by {@code jllm tokenize -m}, {@code jllm make-model --vocab-from} and the trainer),
 * and with {@code --hf-json} also as a Hugging Face tokenizer.json.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train a byte-level BPE tokenizer on a text file and write it as a vocabulary-only GGUF file.")
public final class TokenizerTrainCommand implements Callable<Integer> {
    @Option(names = "--data", required = true, paramLabel = "FILE",
            description = "Training text: plain text, or JSON Lines with a \"text\" field (files named *.jsonl).")
    Path data;

    @Option(names = "--vocab-size", required = true, paramLabel = "N",
            description = "Tokens in the vocabulary: 256 bytes, the learned merges and the special tokens.")
    int vocabSize;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "FILE", description = "Output GGUF file.")
    Path out;

    @Option(names = "--min-frequency", defaultValue = "2", paramLabel = "K",
            description = "Merge only pairs that occur at least K times (default: ${DEFAULT-VALUE}).")
    long minFrequency;

    @Option(names = "--special", arity = "1..*", paramLabel = "TOKEN",
            description = "Special (control) tokens, appended after the learned ones (default: <|endoftext|>). "
                    + "BOS/EOS are <s>/</s>, <|begin_of_text|>/<|end_of_text|> or <|endoftext|> when present, else the first.")
    List<String> specials = List.of("<|endoftext|>");

    @Option(names = "--pre", defaultValue = "llama-bpe", paramLabel = "NAME",
            description = "Pre-tokenizer, used for training and stored for encoding: gpt2, llama-bpe or qwen2 (default: ${DEFAULT-VALUE}).")
    String pre;

    @Option(names = "--add-bos", description = "The vocabulary asks for BOS at the start of encoded text.")
    boolean addBos;

    @Option(names = "--hf-json", paramLabel = "FILE", description = "Also write a Hugging Face tokenizer.json.")
    Path hfJson;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        BpeTrainer trainer = new BpeTrainer(new BpeTrainer.Config(vocabSize, minFrequency, specials, pre, addBos));
        long t0 = System.nanoTime();
        Progress p = Progress.start("reading " + data.getFileName());
        long chars;
        try {
            chars = TextCorpus.read(data, trainer::add);
        } finally {
            p.done(System.nanoTime() - t0);
        }
        long t1 = System.nanoTime();
        p = Progress.start("training");
        BpeTrainer.Result r;
        try {
            r = trainer.train();
        } finally {
            p.done(System.nanoTime() - t1);
        }
        long t2 = System.nanoTime();
        new GGUFWriter().putAll(r.metadata()).write(out);
        if (hfJson != null) {
            String json = new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(HfTokenizerWriter.tokenizerJson(r.metadata()));
            Files.writeString(hfJson, json + "\n", StandardCharsets.UTF_8);
        }
        PrintWriter err = spec.commandLine().getErr();
        err.printf(Locale.ROOT, "jllm: %,d characters, %,d words (%,d distinct) read in %.2f s; %,d merges learned in %.2f s%n",
                chars, r.words(), r.distinct(), (t1 - t0) / 1e9, r.merges().length, (t2 - t1) / 1e9);
        if (r.vocabSize() < vocabSize) {
            err.printf(Locale.ROOT, "jllm: no pair occurs %d times any more: the vocabulary has %d tokens, not %d%n",
                    minFrequency, r.vocabSize(), vocabSize);
        }
        err.printf(Locale.ROOT, "jllm: wrote %s (%d tokens, pre-tokenizer %s, BOS %d, EOS %d)%s%n", out, r.vocabSize(), r.pre(),
                r.bos(), r.eos(), hfJson != null ? " and " + hfJson : "");
        err.flush();
        return 0;
    }
}
