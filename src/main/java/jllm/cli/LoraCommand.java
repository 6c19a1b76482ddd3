package jllm.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code jllm lora}: train a LoRA adapter on a frozen model, or merge one into it. */
@Command(name = "lora", mixinStandardHelpOptions = true,
        description = "LoRA adapters (Hu et al. 2021) in PEFT's format: train one on a frozen model, or merge one into it.",
        subcommands = {LoraTrainCommand.class, LoraMergeCommand.class, CommandLine.HelpCommand.class})
public final class LoraCommand implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getErr());
    }
}
