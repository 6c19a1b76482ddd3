package jllm.format.hf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import com.fasterxml.jackson.databind.node.ObjectNode;

import jllm.format.gguf.GGUFValue;
import jllm.model.LlamaWeights;
import jllm.model.ModelConfig;
import jllm.tensor.GGMLType;
import jllm.tokenizer.Tokenizers;
import jllm.tokenizer.VocabTokenizer;

/**
 * A Hugging Face model folder as {@code save_pretrained} writes it: config.json, the weights in model.safetensors
 * or in shards listed by model.safetensors.index.json, and the tokenizer (tokenizer.json, or GPT-2's vocab.json and
 * merges.txt, with tokenizer_config.json). Opening maps the weights; {@link #llama()} and {@link #gpt2()} give the
 * config and weights by jllm role through {@link HfLlamaMapping} and {@link HfGpt2Mapping} (LLaMA weights are views
 * over the mapped files in their stored type, F32, F16 or BF16; GPT-2's Conv1D matrices are transposed F32 copies).
 * Close it to unmap the files; weights obtained from it are invalid afterwards.
 *
 * <p>{@link #saveLlama} and {@link #saveGpt2} write such a folder. Every file is written atomically, the weights
 * first and config.json last, so a folder that has a config.json has all its files.
 */
public final class HfFolder implements AutoCloseable {
    public static final String CONFIG = "config.json";
    public static final String WEIGHTS = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";
    public static final String TOKENIZER = "tokenizer.json";
    public static final String TOKENIZER_CONFIG = "tokenizer_config.json";
    /** transformers' default max_shard_size ("5GB"). */
    public static final long DEFAULT_MAX_SHARD_BYTES = 5_000_000_000L;

    private final Path dir;
    private final HfJson config;
    private final SafetensorsStore weights;
    private VocabTokenizer tokenizer;

    private HfFolder(Path dir, HfJson config, SafetensorsStore weights) {
        this.dir = dir;
        this.config = config;
        this.weights = weights;
    }

    /** Whether {@code dir} looks like a Hugging Face model folder: config.json and safetensors weights. */
    public static boolean isHfFolder(Path dir) {
        return Files.isDirectory(dir) && Files.isRegularFile(dir.resolve(CONFIG))
                && (Files.isRegularFile(dir.resolve(WEIGHTS)) || Files.isRegularFile(dir.resolve(INDEX)));
    }

    /** Reads config.json and maps the weights (the shards of an index if there is one, else model.safetensors). */
    public static HfFolder open(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) throw new HfFormatException(dir + ": not a folder");
        Path cfg = dir.resolve(CONFIG);
        if (!Files.isRegularFile(cfg)) throw new HfFormatException(dir.getFileName() + ": no " + CONFIG);
        HfJson config = HfJson.read(cfg);
        SafetensorsStore store;
        if (Files.isRegularFile(dir.resolve(INDEX))) store = SafetensorsShards.open(dir.resolve(INDEX));
        else if (Files.isRegularFile(dir.resolve(WEIGHTS))) store = SafetensorsFile.open(dir.resolve(WEIGHTS));
        else {
            boolean pickle = Files.isRegularFile(dir.resolve("pytorch_model.bin"));
            throw new HfFormatException(dir.getFileName() + ": no " + WEIGHTS + " or " + INDEX
                    + (pickle ? " (pytorch_model.bin is a pickle; jllm reads safetensors only)" : ""));
        }
        return new HfFolder(dir, config, store);
    }

    public Path dir() { return dir; }

    /** config.json. */
    public HfJson config() { return config; }

    /** config.json's {@code model_type}, e.g. "llama" or "gpt2". */
    public String modelType() {
        return config.getString("model_type");
    }

    /** The mapped weights by checkpoint name. */
    public SafetensorsStore weights() { return weights; }

    /** The config and weights of a {@code llama} folder (views over the mapped files). */
    public HfLlamaMapping.Loaded llama() {
        return HfLlamaMapping.load(config, weights);
    }

    /** The config and weights of a {@code gpt2} folder (embeddings as views, Conv1D matrices as transposed F32 copies). */
    public HfGpt2Mapping.Loaded gpt2() {
        return HfGpt2Mapping.load(config, weights);
    }

    /** Whether the folder has tokenizer files jllm reads. */
    public boolean hasTokenizer() {
        return Files.isRegularFile(dir.resolve(TOKENIZER))
                || (Files.isRegularFile(dir.resolve("vocab.json")) && Files.isRegularFile(dir.resolve("merges.txt")));
    }

    /** The folder's tokenizer (built once). */
    public synchronized VocabTokenizer tokenizer() throws IOException {
        if (tokenizer == null) tokenizer = HfTokenizer.load(dir);
        return tokenizer;
    }

    /** The tokenizer as GGUF {@code tokenizer.ggml.*} metadata (for writing a GGUF file). */
    public Map<String, GGUFValue> tokenizerMetadata() throws IOException {
        Path cfgPath = dir.resolve(TOKENIZER_CONFIG);
        HfJson cfg = Files.isRegularFile(cfgPath) ? HfJson.read(cfgPath) : null;
        if (Files.isRegularFile(dir.resolve(TOKENIZER))) return HfTokenizer.metadata(HfJson.read(dir.resolve(TOKENIZER)), cfg);
        return HfTokenizer.metadataFromVocabAndMerges(HfJson.read(dir.resolve("vocab.json")), HfTokenizer.mergesTxt(dir.resolve("merges.txt")), cfg);
    }

    /** The folder's tokenizer as the two JSON files a saved folder gets (tokenizer.json written anew for slow files). */
    public TokenizerFiles tokenizerFiles() throws IOException {
        Path cfgPath = dir.resolve(TOKENIZER_CONFIG);
        ObjectNode cfg = Files.isRegularFile(cfgPath) ? HfJson.read(cfgPath).node() : null;
        if (Files.isRegularFile(dir.resolve(TOKENIZER))) return new TokenizerFiles(HfJson.read(dir.resolve(TOKENIZER)).node(), cfg);
        return TokenizerFiles.fromGguf(tokenizerMetadata());
    }

    @Override
    public void close() {
        weights.close();
    }

    /**
     * The tokenizer files of a saved folder.
     *
     * @param tokenizerConfig tokenizer_config.json, or null to write none
     */
    public record TokenizerFiles(ObjectNode tokenizerJson, ObjectNode tokenizerConfig) {
        /** tokenizer.json and tokenizer_config.json for a tokenizer given as GGUF metadata (e.g. of a GGUF model). */
        public static TokenizerFiles fromGguf(Map<String, GGUFValue> md) {
            return new TokenizerFiles(HfTokenizerWriter.tokenizerJson(md), HfTokenizerWriter.tokenizerConfig(md));
        }

        /** The jllm tokenizer these files describe. */
        public VocabTokenizer tokenizer() {
            return Tokenizers.fromMetadata(TOKENIZER, metadata());
        }

        Map<String, GGUFValue> metadata() {
            return HfTokenizer.metadata(HfJson.of(TOKENIZER, tokenizerJson),
                    tokenizerConfig == null ? null : HfJson.of(TOKENIZER_CONFIG, tokenizerConfig));
        }
    }

    /** Saves a LLaMA model as a Hugging Face folder (see {@link #saveLlama(Path, HfLlamaMapping.Config, LlamaWeights, TokenizerFiles, long)}). */
    public static void saveLlama(Path dir, HfLlamaMapping.Config cfg, LlamaWeights w, TokenizerFiles tokenizer) throws IOException {
        saveLlama(dir, cfg, w, tokenizer, DEFAULT_MAX_SHARD_BYTES);
    }

    /**
     * Saves a LLaMA model into {@code dir} (created if needed): model.safetensors (or shards of at most
     * {@code maxShardBytes} and their index, when larger), the tokenizer files when given, and config.json (with
     * {@code bos_token_id} / {@code eos_token_id} from the tokenizer). Weights are written by
     * {@link HfLlamaMapping#save}: Hugging Face layout, tensors sorted as the safetensors library sorts them,
     * metadata {@code {"format": "pt"}} as transformers writes it.
     */
    public static void saveLlama(Path dir, HfLlamaMapping.Config cfg, LlamaWeights w, TokenizerFiles tokenizer, long maxShardBytes) throws IOException {
        SafetensorsWriter out = new SafetensorsWriter().metadata("format", "pt");
        HfLlamaMapping.save(cfg, w, out);
        ObjectNode config = HfLlamaMapping.configJson(cfg, w.tokenEmbedding().type());
        save(dir, out.sortLikeSafetensors(), config, tokenizer, maxShardBytes);
    }

    /** Saves a GPT-2 as a Hugging Face folder ({@code GPT2LMHeadModel} names, F32), like {@link #saveLlama}. */
    public static void saveGpt2(Path dir, ModelConfig c, LlamaWeights w, TokenizerFiles tokenizer) throws IOException {
        SafetensorsWriter out = new SafetensorsWriter().metadata("format", "pt");
        HfGpt2Mapping.save(c, w, out);
        save(dir, out.sortLikeSafetensors(), HfGpt2Mapping.configJson(c), tokenizer, DEFAULT_MAX_SHARD_BYTES);
    }

    private static void save(Path dir, SafetensorsWriter weights, ObjectNode config, TokenizerFiles tokenizer, long maxShardBytes) throws IOException {
        Files.createDirectories(dir);
        if (weights.dataSize() > maxShardBytes) {
            weights.writeSharded(dir, "model", maxShardBytes);
            Files.deleteIfExists(dir.resolve(WEIGHTS)); // an older single file would be ignored, but not left to confuse
        } else {
            weights.write(dir.resolve(WEIGHTS));
            Files.deleteIfExists(dir.resolve(INDEX));
        }
        if (tokenizer != null) {
            Json.writePretty(dir.resolve(TOKENIZER), tokenizer.tokenizerJson());
            if (tokenizer.tokenizerConfig() != null) Json.writePretty(dir.resolve(TOKENIZER_CONFIG), tokenizer.tokenizerConfig());
            VocabTokenizer t = tokenizer.tokenizer();
            if (t.bos() >= 0) config.put("bos_token_id", t.bos());
            if (t.eos() >= 0) config.put("eos_token_id", t.eos());
        }
        Json.writePretty(dir.resolve(CONFIG), sorted(config));
    }

    /** The object with its keys in order, as transformers writes config.json (json.dumps(sort_keys=True)). */
    private static ObjectNode sorted(ObjectNode o) {
        ObjectNode s = Json.MAPPER.createObjectNode();
        java.util.List<String> keys = new java.util.ArrayList<>();
        o.fieldNames().forEachRemaining(keys::add);
        java.util.Collections.sort(keys);
        for (String k : keys) s.set(k, o.get(k));
        return s;
    }

    /** The jllm tensor type a folder's weights are mostly stored in (config.json's torch_dtype), F32 if unknown. */
    public GGMLType torchDtype() {
        return switch (config.getString("torch_dtype", "float32")) {
            case "float16" -> GGMLType.F16;
            case "bfloat16" -> GGMLType.BF16;
            default -> GGMLType.F32;
        };
    }
}
