package jllm.cli;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import jllm.generate.ChatTemplate;
import jllm.generate.Engine;
import jllm.generate.Session;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code jllm chat}: an interactive REPL. Each turn renders the whole conversation with the chat template; the
 * session re-evaluates only the tokens its KV cache does not already hold. Commands: /reset, /exit.
 */
@Command(name = "chat", mixinStandardHelpOptions = true, description = "Chat with a model (interactive REPL).")
public final class ChatCommand implements Callable<Integer> {
    @Mixin ModelOptions modelOptions;
    @Mixin SamplingOptions sampling;

    @Option(names = "--system", description = "System prompt.")
    String system;

    @Option(names = "--chat-template", description = "Use a built-in template instead of the file's: chatml, llama2, llama3, zephyr.")
    String template;

    @Spec CommandSpec spec;

    /** Where the user's lines come from (stdin; tests substitute a stream). */
    java.io.InputStream input = System.in;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        try (Engine engine = modelOptions.open()) {
            ChatTemplate tpl = engine.chatTemplate(template);
            Session session = engine.newSession(engine.contextSize(modelOptions.ctx, Engine.DEFAULT_CONTEXT_CAP), modelOptions.batch);
            List<ChatTemplate.Message> messages = new ArrayList<>();
            if (system != null) messages.add(new ChatTemplate.Message("system", system));
            BufferedReader in = new BufferedReader(new InputStreamReader(input, StandardCharsets.UTF_8));
            boolean tty = System.console() != null;
            while (true) {
                if (tty) {
                    out.print("> ");
                    out.flush();
                }
                String line = in.readLine();
                if (line == null || line.strip().equals("/exit")) break;
                if (line.strip().equals("/reset")) {
                    messages.removeIf(m -> !m.role().equals("system"));
                    session.reset();
                    continue;
                }
                if (line.isBlank()) continue;
                messages.add(new ChatTemplate.Message("user", line));
                String text = tpl.render(messages, true);
                int[] ids = engine.tokenizer().encode(text, false, true);
                Session.Result r = session.generate(ids, sampling.generation(), piece -> {
                    out.print(piece);
                    out.flush();
                });
                out.println();
                out.flush();
                spec.commandLine().getErr().printf("jllm: turn: %d prompt tokens, %d evaluated (the rest reused from the KV cache); %d generated%n",
                        r.promptTokens(), r.evaluatedPromptTokens(), r.tokens().length);
                messages.add(new ChatTemplate.Message("assistant", r.text()));
            }
        }
        return 0;
    }
}
