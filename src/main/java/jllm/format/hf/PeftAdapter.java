package jllm.format.hf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A PEFT LoRA adapter folder: {@code adapter_config.json} and {@code adapter_model.safetensors}, as PEFT's
 * {@code PeftModel.save_pretrained} writes them (huggingface/peft peft_model.py: {@code safe_save_file(state_dict,
 * path, metadata={"format": "pt"})}; docs/source/developer_guides/checkpoint.md for the key names). Reading
 * validates every key ({@code base_model.model.<module>.lora_A.weight} / {@code lora_B.weight}, nothing else), that
 * A and B come in pairs of shapes (r, in) and (out, r) with the config's r, and converts F32, F16 or BF16 values to
 * floats. Writing is atomic per file, the weights first and the config last.
 */
public final class PeftAdapter {
    private PeftAdapter() {}

    public static final String CONFIG = "adapter_config.json";
    public static final String WEIGHTS = "adapter_model.safetensors";

    private static final Pattern KEY = Pattern.compile(Pattern.quote(LoraAdapter.PREFIX) + "(.+)\\.lora_([AB])\\.weight");

    /** Whether {@code dir} holds a PEFT adapter. */
    public static boolean isAdapterFolder(Path dir) {
        return Files.isRegularFile(dir.resolve(CONFIG)) && Files.isRegularFile(dir.resolve(WEIGHTS));
    }

    /** Reads an adapter folder; throws {@link HfFormatException} naming the file, key and value it cannot use. */
    public static LoraAdapter read(Path dir) throws IOException {
        if (!Files.isRegularFile(dir.resolve(CONFIG))) throw new HfFormatException(dir.getFileName() + ": no " + CONFIG);
        if (!Files.isRegularFile(dir.resolve(WEIGHTS))) {
            boolean bin = Files.isRegularFile(dir.resolve("adapter_model.bin"));
            throw new HfFormatException(dir.getFileName() + ": no " + WEIGHTS + (bin ? " (adapter_model.bin is a pickle; jllm reads safetensors only)" : ""));
        }
        PeftLoraConfig config = PeftLoraConfig.fromJson(HfJson.read(dir.resolve(CONFIG)));
        Map<String, float[]> as = new TreeMap<>(), bs = new TreeMap<>();
        Map<String, long[]> aShape = new TreeMap<>(), bShape = new TreeMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(WEIGHTS))) {
            for (SafetensorsTensorInfo t : f.tensors().values()) {
                Matcher m = KEY.matcher(t.name());
                if (!m.matches()) {
                    throw new HfFormatException(WEIGHTS + ": key '" + t.name() + "' is not base_model.model.<module>.lora_A.weight or lora_B.weight"
                            + " (embedding LoRA, DoRA magnitudes and trained biases are not supported)");
                }
                long[] s = t.shape();
                if (s.length != 2 || s[0] <= 0 || s[1] <= 0 || s[0] > Integer.MAX_VALUE || s[1] > Integer.MAX_VALUE) {
                    throw new HfFormatException(WEIGHTS + ": '" + t.name() + "' has shape " + java.util.Arrays.toString(s) + ", expected a matrix");
                }
                float[] v;
                try {
                    v = f.floats(t.name());
                } catch (SafetensorsFormatException e) {
                    throw new HfFormatException(WEIGHTS + ": '" + t.name() + "' has dtype " + t.dtype() + ", expected F32, F16 or BF16", e);
                }
                (m.group(2).equals("A") ? as : bs).put(m.group(1), v);
                (m.group(2).equals("A") ? aShape : bShape).put(m.group(1), s);
            }
        }
        Map<String, LoraAdapter.Target> targets = new LinkedHashMap<>();
        for (String module : as.keySet()) {
            if (!bs.containsKey(module)) throw new HfFormatException(WEIGHTS + ": '" + LoraAdapter.keyA(module) + "' has no " + LoraAdapter.keyB(module));
            long[] sa = aShape.get(module), sb = bShape.get(module);
            if (sa[0] != config.r() || sb[1] != config.r()) {
                throw new HfFormatException(WEIGHTS + ": module '" + module + "' has lora_A " + java.util.Arrays.toString(sa) + " and lora_B "
                        + java.util.Arrays.toString(sb) + "; with r = " + config.r() + " they must be (r, in) and (out, r)");
            }
            targets.put(module, new LoraAdapter.Target(module, config.r(), (int) sa[1], (int) sb[0], as.get(module), bs.get(module)));
        }
        for (String module : bs.keySet()) {
            if (!as.containsKey(module)) throw new HfFormatException(WEIGHTS + ": '" + LoraAdapter.keyB(module) + "' has no " + LoraAdapter.keyA(module));
        }
        return new LoraAdapter(config, targets);
    }

    /**
     * Writes {@code adapter} into {@code dir} (created if needed) as PEFT would: F32 lora_A (r, in) and lora_B
     * (out, r) under PEFT's keys, sorted as the safetensors library sorts them, metadata {@code {"format": "pt"}};
     * then adapter_config.json.
     */
    public static void write(LoraAdapter adapter, Path dir) throws IOException {
        Files.createDirectories(dir);
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        for (LoraAdapter.Target t : adapter.targets().values()) {
            w.floats(LoraAdapter.keyA(t.module()), t.a(), t.r(), t.in());
            w.floats(LoraAdapter.keyB(t.module()), t.b(), t.out(), t.r());
        }
        w.sortLikeSafetensors().write(dir.resolve(WEIGHTS));
        Json.writePretty(dir.resolve(CONFIG), adapter.config().toJson());
    }
}
