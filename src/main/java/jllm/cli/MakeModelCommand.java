package jllm.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import jllm.format.gguf.GGUFFile;
import jllm.format.gguf.SyntheticModel;
import jllm.tensor.GGMLType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code jllm make-model}: writes a LLaMA-family GGUF with seeded random weights (for cross-checks against
 * llama.cpp and for benchmarks). The same flags always give the same bytes.
 */
@Command(name = "make-model", mixinStandardHelpOptions = true,
        description = "Write a GGUF model with seeded random weights (tests, cross-checks, benchmarks).")
public final class MakeModelCommand implements Callable<Integer> {
    @Option(names = "--arch", defaultValue = "llama", description = "llama or qwen2 (default: ${DEFAULT-VALUE}).")
    String arch;
    @Option(names = "--dim", defaultValue = "256", description = "Embedding width (default: ${DEFAULT-VALUE}).")
    int dim;
    @Option(names = "--layers", defaultValue = "2", description = "Blocks (default: ${DEFAULT-VALUE}).")
    int layers;
    @Option(names = "--heads", defaultValue = "4", description = "Query heads (default: ${DEFAULT-VALUE}).")
    int heads;
    @Option(names = "--kv-heads", defaultValue = "2", description = "Key/value heads (default: ${DEFAULT-VALUE}).")
    int kvHeads;
    @Option(names = "--ffn", defaultValue = "512", description = "SwiGLU hidden width (default: ${DEFAULT-VALUE}).")
    int ffn;
    @Option(names = "--vocab", defaultValue = "32000", description = "Vocabulary size when --vocab-from is not given (default: ${DEFAULT-VALUE}).")
    int vocab;
    @Option(names = "--vocab-from", description = "Copy the tokenizer (and vocabulary size) from this GGUF file.")
    Path vocabFrom;
    @Option(names = "--ctx", defaultValue = "2048", description = "Trained context length (default: ${DEFAULT-VALUE}).")
    int ctx;
    @Option(names = "--type", defaultValue = "F16", description = "Type of the weight matrices: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K (default: ${DEFAULT-VALUE}).")
    GGMLType type;
    @Option(names = "--embed-type", description = "Type of token_embd/output (default: same as --type).")
    GGMLType embedType;
    @Option(names = "--tied", description = "No output.weight: the output matrix is the token embedding.")
    boolean tied;
    @Option(names = "--output-scale", defaultValue = "8", description = "Multiplier of the output matrix, to make the next-token distribution peaked (default: ${DEFAULT-VALUE}).")
    float outputScale;
    @Option(names = "--rope-theta", defaultValue = "10000", description = "RoPE base (default: ${DEFAULT-VALUE}).")
    float ropeTheta;
    @Option(names = "--llama3-rope-scaling", description = "Write Llama 3.1 RoPE frequency factors (rope_freqs.weight; factor 8, original context 8192).")
    boolean llama3Rope;
    @Option(names = "--seed", defaultValue = "42", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = {"-o", "--output"}, required = true, description = "Output GGUF file.")
    Path output;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        SyntheticModel.Spec s = new SyntheticModel.Spec(arch, dim, layers, heads, kvHeads, ffn, vocab, ctx, type,
                embedType != null ? embedType : type, tied, outputScale, ropeTheta, seed, llama3Rope);
        if (vocabFrom != null) {
            try (GGUFFile v = GGUFFile.open(vocabFrom)) {
                SyntheticModel.write(s, v, output);
            }
        } else {
            SyntheticModel.write(s, null, output);
        }
        spec.commandLine().getErr().println("jllm: wrote " + output);
        return 0;
    }
}
