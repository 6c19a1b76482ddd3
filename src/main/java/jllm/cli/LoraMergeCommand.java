package jllm.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import jllm.format.gguf.GGUFFile;
import jllm.format.gguf.GGUFLoraMerge;
import jllm.format.gguf.GGUFValue;
import jllm.format.gguf.GGUFWriter;
import jllm.format.hf.HfFolder;
import jllm.format.hf.HfToGguf;
import jllm.format.hf.RopePermutation;
import jllm.generate.Engine;
import jllm.model.LoRA;
import jllm.model.ModelConfig;
import jllm.model.Projection;
import jllm.train.Parameters;
import jllm.train.TrainingRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code jllm lora merge}: W' = W + (alpha/r) B A for every adapted weight (Hu et al. 2021, Sec. 4.1), written as a
 * GGUF file ({@code --out X.gguf}) or a model folder ({@code DIR/model.gguf}, which every command accepts as -m).
 * A GGUF base keeps its metadata, tokenizer and the types of its other tensors ({@link GGUFLoraMerge}); a Hugging
 * Face llama folder is converted as llama.cpp's converter does ({@link HfToGguf}), a GPT-2 folder written as float32.
 */
@Command(name = "merge", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Merge a LoRA adapter into a model (W + alpha/r B A); writes a GGUF file or a model folder.")
public final class LoraMergeCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, description = "Base model: a GGUF file, a jllm model folder or a Hugging Face folder.")
    Path model;
    @Option(names = "--lora", required = true, paramLabel = "DIR", description = "The PEFT adapter folder to merge.")
    Path lora;
    @Option(names = "--out", required = true, paramLabel = "FILE|DIR", description = "A .gguf file, or a folder that gets model.gguf.")
    Path out;
    @Option(names = {"-t", "--threads"}, defaultValue = "1", description = "Worker threads (default: ${DEFAULT-VALUE}).")
    int threads;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        Path file = out.getFileName() != null && out.getFileName().toString().endsWith(".gguf") ? out : out.resolve(TrainingRun.MODEL);
        try (Engine engine = Engine.open(model, threads, lora, false)) {   // merged weights are written back in the file's types
            ModelConfig c = engine.model().config();
            LoRA l = engine.model().lora();
            Path abs = file.toAbsolutePath().normalize();
            Path dir = abs.getParent();
            if (dir != null) Files.createDirectories(dir);
            String adapterName = lora.toAbsolutePath().normalize().getFileName().toString();
            if (Files.isDirectory(model) && HfFolder.isHfFolder(model)) {
                try (HfFolder hf = HfFolder.open(model)) {
                    if (c.architecture().equals("gpt2")) {
                        TrainingRun.saveModel(file, Parameters.copyOf(c, l.merge(engine.model().weights()), false), hf.tokenizerMetadata(),
                                GGUFLoraMerge.mergedName(hf.dir().toAbsolutePath().getFileName().toString(), adapterName));
                    } else {
                        GGUFWriter w = HfToGguf.llama(hf);
                        GGUFLoraMerge.replaceMerged(w, c, engine.model().weights(), l, (p, v) -> switch (p) {
                            case Q -> RopePermutation.hfToGguf(v, c.dim(), c.nHeads());
                            case K -> RopePermutation.hfToGguf(v, c.dim(), c.nKvHeads());
                            default -> v;
                        });
                        w.put("general.name", GGUFValue.ofString(GGUFLoraMerge.mergedName(hf.dir().toAbsolutePath().getFileName().toString(), adapterName)));
                        w.write(file);
                    }
                }
            } else {
                Path gguf = Files.isDirectory(model) ? model.resolve(TrainingRun.MODEL) : model;
                if (gguf.toAbsolutePath().normalize().equals(abs)) throw new IllegalArgumentException("--out " + out + " is the model itself; write the merged model elsewhere");
                try (GGUFFile f = GGUFFile.open(gguf)) {
                    GGUFWriter w = GGUFWriter.copyOf(f);
                    GGUFLoraMerge.replaceMerged(w, c, engine.model().weights(), l, GGUFLoraMerge.SAME_ROWS);
                    w.put("general.name", GGUFValue.ofString(GGUFLoraMerge.mergedName(f.getString("general.name", null), adapterName)));
                    w.write(file);
                }
            }
            int n = 0;
            for (Projection p : Projection.values()) for (int i = 0; i < c.nLayers(); i++) if (l.get(i, p) != null) n++;
            err.printf(Locale.ROOT, "jllm: merged LoRA r %d (scaling %s) into %d weights of %s; wrote %s (%,d bytes)%n", l.rank(),
                    Double.toString(l.scaling()), n, model.getFileName(), file, Files.size(file));
        }
        return 0;
    }
}
