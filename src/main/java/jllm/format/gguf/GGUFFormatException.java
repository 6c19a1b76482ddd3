package jllm.format.gguf;

/** A GGUF file is malformed, truncated or hostile; the message names the field and the offending value. */
public final class GGUFFormatException extends RuntimeException {
    public GGUFFormatException(String message) {
        super(message);
    }

    public GGUFFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
