package jllm.generate;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;

/**
 * Renders a conversation into a prompt with the model file's {@code tokenizer.chat_template} (a Jinja2 template,
 * as Hugging Face defines chat templates), using HubSpot's Jinjava engine. When a file has no template, a
 * built-in one is chosen by name ({@code chatml}, {@code llama2}, {@code llama3}, {@code zephyr}).
 */
public final class ChatTemplate {
    public record Message(String role, String content) {}

    /** Built-in templates, used when the model file carries none or by {@code --chat-template NAME}. */
    public static final Map<String, String> BUILTIN = Map.of(
            "chatml", "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
                    + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
            "llama3", "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
                    + "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}",
            "llama2", "{% if messages[0]['role'] == 'system' %}{% set sys = '<<SYS>>\\n' + messages[0]['content'] + '\\n<</SYS>>\\n\\n' %}{% set msgs = messages[1:] %}{% else %}{% set sys = '' %}{% set msgs = messages %}{% endif %}"
                    + "{% for message in msgs %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + (sys if loop.first else '') + message['content'] | trim + ' [/INST]' }}"
                    + "{% else %}{{ ' ' + message['content'] | trim + ' ' + eos_token }}{% endif %}{% endfor %}",
            "zephyr", "{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + eos_token + '\\n' }}{% endfor %}"
                    + "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}");

    private final String source;
    private final String bosToken;
    private final String eosToken;
    private final Jinjava jinja;

    public ChatTemplate(String source, String bosToken, String eosToken) {
        if (source == null || source.isBlank()) throw new IllegalArgumentException("empty chat template");
        this.source = source;
        this.bosToken = bosToken == null ? "" : bosToken;
        this.eosToken = eosToken == null ? "" : eosToken;
        this.jinja = new Jinjava(JinjavaConfig.newBuilder().withFailOnUnknownTokens(false).build());
        jinja.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                ChatTemplate.class, "raiseException", String.class));
    }

    /** The file's template if it has one, else the built-in chosen by the vocabulary's special tokens. */
    public static ChatTemplate forModel(String fileTemplate, String bosToken, String eosToken, java.util.function.Predicate<String> hasToken) {
        if (fileTemplate != null && !fileTemplate.isBlank()) return new ChatTemplate(fileTemplate, bosToken, eosToken);
        String name = hasToken.test("<|im_start|>") ? "chatml"
                : hasToken.test("<|start_header_id|>") ? "llama3"
                : hasToken.test("<|assistant|>") ? "zephyr" : "llama2";
        return new ChatTemplate(BUILTIN.get(name), bosToken, eosToken);
    }

    /** The message of the last {@code raise_exception} on this thread (Jinjava wraps the exception itself). */
    private static final ThreadLocal<String> RAISED = new ThreadLocal<>();

    public static String raiseException(String message) {
        RAISED.set(message);
        throw new IllegalArgumentException("chat template: " + message);
    }

    public String source() { return source; }

    public String render(List<Message> messages, boolean addGenerationPrompt) {
        List<Map<String, Object>> msgs = new ArrayList<>();
        for (Message m : messages) {
            Map<String, Object> mm = new LinkedHashMap<>();
            mm.put("role", m.role());
            mm.put("content", m.content());
            msgs.add(mm);
        }
        Map<String, Object> ctx = new LinkedHashMap<>();
        ctx.put("messages", msgs);
        ctx.put("add_generation_prompt", addGenerationPrompt);
        ctx.put("bos_token", bosToken);
        ctx.put("eos_token", eosToken);
        RAISED.remove();
        RenderResult r = jinja.renderForResult(source, ctx);
        for (TemplateError e : r.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                String raised = RAISED.get();
                RAISED.remove();
                throw new IllegalArgumentException(raised != null ? "chat template refused the conversation: " + raised
                        : "chat template failed: " + e.getMessage());
            }
        }
        return r.getOutput();
    }
}
