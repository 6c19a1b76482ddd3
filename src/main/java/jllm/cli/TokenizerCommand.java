package jllm.cli;

import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code jllm tokenizer ...}: tokenizer tools; {@code train} learns a byte-level BPE vocabulary. */
@Command(name = "tokenizer", mixinStandardHelpOptions = true,
        description = "Tokenizer tools.",
        subcommands = {TokenizerTrainCommand.class, CommandLine.HelpCommand.class})
public final class TokenizerCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return 2;
    }
}
