package jllm.estimate;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import jllm.estimate.ModelShape.Arch;
import jllm.estimate.ModelShape.Norm;

/**
 * Reads a model shape from a Hugging Face {@code config.json} (or a folder holding one), by {@code model_type}:
 * <pre>
 *   llama, mistral, mixtral, qwen2, gemma   hidden_size, num_hidden_layers, num_attention_heads,
 *                                           num_key_value_heads, head_dim, intermediate_size, vocab_size,
 *                                           tie_word_embeddings, max_position_embeddings, num_local_experts,
 *                                           num_experts_per_tok, sliding_window (mistral), attention_bias
 *   gpt2                                    n_embd, n_layer, n_head, n_inner (null: 4 n_embd), vocab_size, n_positions
 *   opt                                     hidden_size, num_hidden_layers, num_attention_heads, ffn_dim, vocab_size,
 *                                           max_position_embeddings (+2: OPT's learned positions start at offset 2)
 *   bert                                    hidden_size, num_hidden_layers, num_attention_heads, intermediate_size,
 *                                           vocab_size, max_position_embeddings, type_vocab_size (BertModel with pooler)
 *   t5                                      d_model, d_kv, num_heads, d_ff, num_layers, num_decoder_layers, vocab_size,
 *                                           relative_attention_num_buckets, feed_forward_proj (gated-*: T5 v1.1)
 * </pre>
 * Field names and defaults are those of the {@code transformers} configuration classes.
 */
public final class HfConfig {
    private HfConfig() {}

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Reads {@code path}, a config.json or a folder containing one. */
    public static ModelShape read(Path path) throws IOException {
        Path file = Files.isDirectory(path) ? path.resolve("config.json") : path;
        if (!Files.isRegularFile(file)) throw new IOException("no config.json at " + file);
        JsonNode c;
        try {
            c = JSON.readTree(file.toFile());
        } catch (IOException ex) {
            throw new IOException("cannot parse " + file + " as JSON: " + ex.getMessage(), ex);
        }
        String name = Files.isDirectory(path) ? path.getFileName().toString() : file.getParent() == null
                ? file.getFileName().toString() : file.getParent().getFileName() + "/" + file.getFileName();
        return parse(c, name, file.toString());
    }

    /** Builds a shape from a parsed config; {@code where} names the file in error messages. */
    public static ModelShape parse(JsonNode c, String name, String where) {
        String type = text(c, "model_type", where);
        return switch (type) {
            case "llama", "mistral", "mixtral", "qwen2", "gemma" -> llamaLike(c, type, name, where);
            case "gpt2" -> {
                int h = integer(c, "n_embd", where);
                long ffn = c.hasNonNull("n_inner") ? integer(c, "n_inner", where) : 4L * h;
                int heads = integer(c, "n_head", where);
                int positions = integer(c, "n_positions", where);
                yield new ModelShape(name, Arch.DECODER, integer(c, "n_layer", where), 0, h, heads, heads, h / heads, ffn,
                        integer(c, "vocab_size", where), positions, positions, 0, 0, true, false, Norm.LAYER_NORM, true,
                        false, 0, false, 0, 0);
            }
            case "opt" -> {
                int h = integer(c, "hidden_size", where);
                int proj = c.path("word_embed_proj_dim").asInt(h);
                if (proj != h) {
                    throw new IllegalArgumentException(where + ": OPT with word_embed_proj_dim " + proj + " != hidden_size " + h
                            + " has projection layers the planner does not model");
                }
                int heads = integer(c, "num_attention_heads", where);
                int positions = integer(c, "max_position_embeddings", where);
                yield new ModelShape(name, Arch.DECODER, integer(c, "num_hidden_layers", where), 0, h, heads, heads,
                        h / heads, integer(c, "ffn_dim", where), integer(c, "vocab_size", where), positions, positions + 2,
                        0, 0, c.path("tie_word_embeddings").asBoolean(true), false, Norm.LAYER_NORM, true, false, 0,
                        false, 0, 0);
            }
            case "bert" -> {
                int h = integer(c, "hidden_size", where);
                int heads = integer(c, "num_attention_heads", where);
                int positions = integer(c, "max_position_embeddings", where);
                yield new ModelShape(name, Arch.ENCODER, integer(c, "num_hidden_layers", where), 0, h, heads, heads,
                        h / heads, integer(c, "intermediate_size", where), integer(c, "vocab_size", where), positions,
                        positions, 0, 0, false, false, Norm.LAYER_NORM, true, false, c.path("type_vocab_size").asInt(2),
                        true, 0, 0);
            }
            case "t5" -> {
                int layers = integer(c, "num_layers", where);
                boolean gated = c.path("feed_forward_proj").asText("relu").startsWith("gated");
                int heads = integer(c, "num_heads", where);
                yield new ModelShape(name, Arch.ENCODER_DECODER, layers, c.path("num_decoder_layers").asInt(layers),
                        integer(c, "d_model", where), heads, heads, integer(c, "d_kv", where), integer(c, "d_ff", where),
                        integer(c, "vocab_size", where), c.path("n_positions").asInt(512), 0, 0, 0,
                        c.path("tie_word_embeddings").asBoolean(true), gated, Norm.RMS_NORM, false, false, 0, false,
                        c.path("relative_attention_num_buckets").asInt(32), 0);
            }
            default -> throw new IllegalArgumentException(where + ": model_type '" + type
                    + "' is not supported (llama, mistral, mixtral, qwen2, gemma, gpt2, opt, bert, t5)");
        };
    }

    private static ModelShape llamaLike(JsonNode c, String type, String name, String where) {
        int h = integer(c, "hidden_size", where);
        int heads = integer(c, "num_attention_heads", where);
        int kv = c.hasNonNull("num_key_value_heads") ? integer(c, "num_key_value_heads", where) : heads;
        int headDim = c.hasNonNull("head_dim") ? integer(c, "head_dim", where) : h / heads;
        int experts = c.path("num_local_experts").asInt(0);
        int active = c.path("num_experts_per_tok").asInt(experts > 0 ? 2 : 0);
        boolean tiedDefault = type.equals("gemma");
        boolean qkvBias = type.equals("qwen2") || c.path("attention_bias").asBoolean(false);
        int window = type.equals("mistral") || type.equals("mixtral") ? c.path("sliding_window").asInt(0) : 0;
        if (type.equals("qwen2") && c.path("use_sliding_window").asBoolean(false)) window = c.path("sliding_window").asInt(0);
        return new ModelShape(name, Arch.DECODER, integer(c, "num_hidden_layers", where), 0, h, heads, kv, headDim,
                integer(c, "intermediate_size", where), integer(c, "vocab_size", where),
                c.path("max_position_embeddings").asLong(0), 0, experts, active,
                c.path("tie_word_embeddings").asBoolean(tiedDefault), true, Norm.RMS_NORM, false, qkvBias, 0, false, 0,
                window);
    }

    private static String text(JsonNode c, String field, String where) {
        JsonNode n = c.get(field);
        if (n == null || !n.isTextual()) throw new IllegalArgumentException(where + ": missing string field '" + field + "'");
        return n.asText();
    }

    private static int integer(JsonNode c, String field, String where) {
        JsonNode n = c.get(field);
        if (n == null || !n.canConvertToInt() || !n.isIntegralNumber()) {
            throw new IllegalArgumentException(where + ": missing or non-integer field '" + field + "'" + (n == null ? "" : " = " + n));
        }
        int v = n.asInt();
        if (v <= 0) throw new IllegalArgumentException(where + ": field '" + field + "' must be positive, got " + v);
        return v;
    }
}
