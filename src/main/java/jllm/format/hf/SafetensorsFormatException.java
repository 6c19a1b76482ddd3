package jllm.format.hf;

/** A safetensors file is malformed, truncated or hostile; the message names the file, the field and the bad value. */
public final class SafetensorsFormatException extends HfFormatException {
    public SafetensorsFormatException(String message) {
        super(message);
    }

    public SafetensorsFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
