package jllm.tokenizer;

/**
 * The token types of the GGUF key {@code tokenizer.ggml.token_type} (llama.cpp's {@code llama_token_type}, whose
 * numbers the file stores). Codes outside 0..6 read as {@link #UNDEFINED}, as in llama.cpp.
 */
public enum TokenType {
    UNDEFINED, NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE;

    private static final TokenType[] BY_CODE = values();

    public static TokenType fromCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : UNDEFINED;
    }

    /** The code stored in GGUF files. */
    public int code() { return ordinal(); }

    /** Split out of raw text before the tokenizer runs: control, user-defined and unknown tokens. */
    boolean isSpecial() {
        return this == CONTROL || this == USER_DEFINED || this == UNKNOWN;
    }
}
