package jllm.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;

/** Chat templates rendered by Jinjava against the prompts their model families document. */
class ChatTemplateTest {
    static final List<ChatTemplate.Message> CONVO = List.of(
            new ChatTemplate.Message("system", "Be brief."),
            new ChatTemplate.Message("user", "Hi!"),
            new ChatTemplate.Message("assistant", "Hello."),
            new ChatTemplate.Message("user", "Bye"));

    @Test
    void chatmlBuiltin() {
        ChatTemplate t = new ChatTemplate(ChatTemplate.BUILTIN.get("chatml"), "", "<|im_end|>");
        assertThat(t.render(CONVO, true)).isEqualTo(
                "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n"
                        + "<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n");
    }

    @Test
    void llama3Builtin() {
        ChatTemplate t = new ChatTemplate(ChatTemplate.BUILTIN.get("llama3"), "<|begin_of_text|>", "<|eot_id|>");
        assertThat(t.render(CONVO.subList(1, 2), true)).isEqualTo(
                "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
    }

    @Test
    void llama2Builtin() {
        ChatTemplate t = new ChatTemplate(ChatTemplate.BUILTIN.get("llama2"), "<s>", "</s>");
        assertThat(t.render(CONVO, true)).isEqualTo(
                "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi! [/INST] Hello. </s><s>[INST] Bye [/INST]");
    }

    @Test
    void raiseExceptionInTemplateBecomesAClearError() {
        ChatTemplate t = new ChatTemplate("{% if messages[0]['role'] != 'user' %}{{ raise_exception('first message must be from the user') }}{% endif %}", "", "");
        assertThatThrownBy(() -> t.render(CONVO, true)).hasMessageContaining("first message must be from the user");
    }

    /** The real template shipped in llama.cpp's Llama 3 vocabulary file renders the documented Llama 3 prompt. */
    @Test
    void realLlama3TemplateFromGGUF() throws Exception {
        try (jllm.format.gguf.GGUFFile f = jllm.format.gguf.GGUFFile.open(
                jllm.testing.TestData.file("tokenizer/llamacpp-vocab/ggml-vocab-llama-bpe.gguf"))) {
            ChatTemplate t = new ChatTemplate(f.getString("tokenizer.chat_template"), "<|begin_of_text|>", "<|end_of_text|>");
            assertThat(t.render(List.of(new ChatTemplate.Message("system", "Be brief."), new ChatTemplate.Message("user", "Hi!")), true))
                    .isEqualTo("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
                            + "<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
        }
    }
}
