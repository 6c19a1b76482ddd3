package jllm.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code jllm} command line: parses, calls the library, prints. Errors become one line on stderr and a
 * non-zero exit code; the stack trace only under {@code --verbose}.
 */
@Command(name = "jllm", mixinStandardHelpOptions = true, version = "jllm 0.1.0",
        description = "Pure-Java LLM inference, training and planning.",
        subcommands = {GenerateCommand.class, ChatCommand.class, TokenizeCommand.class, InspectCommand.class, BenchCommand.class,
                EstimateCommand.class, TrainCommand.class, EvalCommand.class, LoraCommand.class, TokenizerCommand.class,
                MakeModelCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    /** Exit code for bad input (bad file, bad flag value); picocli uses 2 for usage errors. */
    public static final int EXIT_ERROR = 1;

    @Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT,
            description = "Print stack traces for errors.")
    boolean verbose;

    @Override
    public void run() {
        new CommandLine(this).usage(System.err);
    }

    /** Builds the command tree; tests call this to run commands in-process. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            boolean verbose = parseResult.hasMatchedOption("--verbose")
                    || parseResult.subcommands().stream().anyMatch(p -> p.hasMatchedOption("--verbose"))
                    || anyVerbose(parseResult);
            String msg = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
            cmd.getErr().println("jllm: error: " + msg.replace('\n', ' '));
            if (verbose) ex.printStackTrace(cmd.getErr());
            return EXIT_ERROR;
        });
        return cl;
    }

    private static boolean anyVerbose(CommandLine.ParseResult pr) {
        for (CommandLine.ParseResult p = pr; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) return true;
        }
        return false;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
