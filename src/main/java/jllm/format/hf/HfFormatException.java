package jllm.format.hf;

/**
 * A file of a Hugging Face model folder (config.json, tokenizer.json, a safetensors file, a PEFT adapter) is
 * malformed, truncated, hostile or describes something jllm does not support; the message starts with the file's
 * name and names the field and the offending value.
 */
public class HfFormatException extends RuntimeException {
    public HfFormatException(String message) {
        super(message);
    }

    public HfFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
