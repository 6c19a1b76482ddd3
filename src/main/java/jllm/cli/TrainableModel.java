package jllm.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import jllm.format.gguf.GGUFFile;
import jllm.format.gguf.GGUFLlamaMapping;
import jllm.format.gguf.GGUFValue;
import jllm.format.hf.HfFolder;
import jllm.format.hf.HfGpt2Mapping;
import jllm.format.hf.HfLlamaMapping;
import jllm.model.LlamaWeights;
import jllm.model.ModelConfig;
import jllm.train.Parameters;

/**
 * A model given as {@code -m} to a command that trains all its weights ({@code jllm train}, {@code jllm bench
 * --train}): a GGUF file, a jllm model folder (DIR/model.gguf), or a Hugging Face llama/gpt2 folder, copied into
 * float32 trainable {@link Parameters} (GGUF: {@link GGUFLlamaMapping}; Hugging Face: {@link HfLlamaMapping},
 * {@link HfGpt2Mapping}).
 *
 * @param params            the trainable copy of the weights
 * @param tokenizerMetadata the model's {@code tokenizer.*} metadata in GGUF form (empty if it has none)
 * @param name              the model's name as the file gives it
 */
record TrainableModel(Parameters params, Map<String, GGUFValue> tokenizerMetadata, String name) {
    static TrainableModel load(Path model, boolean mixedPrecision) throws IOException {
        if (Files.isDirectory(model) && !Files.exists(model.resolve(ModelPaths.FOLDER_MODEL)) && HfFolder.isHfFolder(model)) {
            try (HfFolder hf = HfFolder.open(model)) {
                ModelConfig c;
                LlamaWeights w;
                if (hf.modelType().equals("gpt2")) {
                    HfGpt2Mapping.Loaded ld = hf.gpt2();
                    c = ld.config();
                    w = ld.weights();
                } else {
                    HfLlamaMapping.Loaded ld = hf.llama();
                    c = ld.config().model();
                    w = ld.weights();
                }
                return new TrainableModel(Parameters.copyOf(c, w, mixedPrecision), hf.tokenizerMetadata(), model.getFileName().toString());
            }
        }
        try (GGUFFile f = GGUFFile.open(ModelPaths.resolve(model))) {
            GGUFLlamaMapping.Loaded ld = GGUFLlamaMapping.load(f);
            return new TrainableModel(Parameters.copyOf(ld.config(), ld.weights(), mixedPrecision),
                    TrainCommand.tokenizerMetadata(f.metadata()), f.getString("general.name", "model"));
        }
    }
}
