package jllm.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

import jllm.generate.Engine;
import jllm.generate.Session;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jllm generate}: continues a prompt. Only the continuation goes to stdout; timings go to stderr. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Continue a prompt with a model; prints only the continuation on stdout.")
public final class GenerateCommand implements Callable<Integer> {
    @Mixin ModelOptions modelOptions;
    @Mixin SamplingOptions sampling;

    @Option(names = {"-p", "--prompt"}, required = true, description = "Prompt text.")
    String prompt;

    @Option(names = "--no-bos", description = "Do not add the BOS token even if the model asks for it.")
    boolean noBos;

    @Option(names = "--no-special", description = "Treat special-token text in the prompt as plain text.")
    boolean noSpecial;

    @Option(names = "--quiet", description = "No timings on stderr.")
    boolean quiet;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (Engine engine = modelOptions.open()) {
            int[] ids = engine.tokenizer().encode(prompt, !noBos, !noSpecial);
            int nCtx = engine.contextSize(modelOptions.ctx, Engine.DEFAULT_CONTEXT_CAP);
            Session session = engine.newSession(nCtx, modelOptions.batch);
            if (!quiet) {
                long full = jllm.model.KvCache.bytes(engine.model().config(), nCtx);
                err.printf("jllm: %s, %d layers, dim %d; KV cache %d tokens = %d bytes (%.1f MiB), allocated as positions fill; activations %d bytes%n",
                        engine.model().config().architecture(), engine.model().config().nLayers(), engine.model().config().dim(),
                        nCtx, full, full / 1048576.0, session.state().bytes());
            }
            Session.Result r = session.generate(ids, sampling.generation(), piece -> {
                out.print(piece);
                out.flush();
            });
            out.println();
            out.flush();
            if (!quiet) {
                err.printf("jllm: prompt %d tokens in %.3f s (%.2f tok/s); generated %d tokens in %.3f s (%.2f tok/s); stop: %s%n",
                        r.evaluatedPromptTokens(), r.prefillNanos() / 1e9, r.evaluatedPromptTokens() / (r.prefillNanos() / 1e9),
                        r.tokens().length, r.decodeNanos() / 1e9, r.tokens().length / Math.max(1e-9, r.decodeNanos() / 1e9),
                        r.reason().name().toLowerCase());
                err.flush();
            }
        }
        return 0;
    }
}
