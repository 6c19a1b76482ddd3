package jllm.format.hf;

import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A PEFT {@code adapter_config.json} for LoRA (spec: huggingface/peft {@code LoraConfig},
 * src/peft/tuners/lora/config.py, and docs/source/developer_guides/checkpoint.md). Defaults are PEFT's:
 * r 8, lora_alpha 8, lora_dropout 0, bias "none", fan_in_fan_out false, use_rslora false.
 *
 * @param targetModules        module names (matched against the end of a module path) or, when
 *                             {@code targetModulesIsRegex}, one regular expression PEFT full-matches
 * @param bias                 "none", "all" or "lora_only" (which biases PEFT trains and saves)
 * @param taskType             e.g. "CAUSAL_LM", or null
 * @param baseModelNameOrPath  the base model's hub name or path, or null
 * @param fanInFanOut          the base weight is stored (in, out), as GPT-2's Conv1D (PEFT sets it for Conv1D)
 * @param useRslora            scaling alpha / sqrt(r) instead of alpha / r (Kalajdzievski 2023)
 */
public record PeftLoraConfig(int r, double loraAlpha, List<String> targetModules, boolean targetModulesIsRegex,
                             double loraDropout, String bias, String taskType, String baseModelNameOrPath,
                             boolean fanInFanOut, boolean useRslora) {

    public static final String PEFT_TYPE = "LORA";

    public PeftLoraConfig {
        if (r <= 0) throw new IllegalArgumentException("r " + r + " must be positive");
        if (!(loraAlpha > 0) || !Double.isFinite(loraAlpha)) throw new IllegalArgumentException("lora_alpha " + loraAlpha + " must be positive");
        if (!(loraDropout >= 0 && loraDropout < 1)) throw new IllegalArgumentException("lora_dropout " + loraDropout + " must be in [0, 1)");
        if (!List.of("none", "all", "lora_only").contains(bias)) throw new IllegalArgumentException("bias '" + bias + "' is not none, all or lora_only");
        targetModules = List.copyOf(targetModules);
        if (targetModules.isEmpty()) throw new IllegalArgumentException("target_modules is empty");
        if (targetModulesIsRegex && targetModules.size() != 1) throw new IllegalArgumentException("a target_modules regex is one string");
    }

    /** A config with PEFT's defaults for everything but rank, alpha and targets; task CAUSAL_LM. */
    public static PeftLoraConfig of(int r, double alpha, List<String> targetModules) {
        return new PeftLoraConfig(r, alpha, targetModules, false, 0.0, "none", "CAUSAL_LM", null, false, false);
    }

    /** The factor of B A in W x + scaling B A x: alpha / r, or alpha / sqrt(r) with rsLoRA (PEFT's LoraLayer.update_layer). */
    public double scaling() {
        return useRslora ? loraAlpha / Math.sqrt(r) : loraAlpha / r;
    }

    /** Reads adapter_config.json; PEFT options that change what the weights mean and that jllm does not implement are refused. */
    public static PeftLoraConfig fromJson(HfJson j) {
        String type = j.getString("peft_type");
        if (!type.equals(PEFT_TYPE)) throw j.error("peft_type '" + type + "' is not LORA");
        if (j.getBool("use_dora", false)) throw j.error("use_dora = true is not supported (DoRA adds a magnitude vector)");
        for (String k : new String[] {"rank_pattern", "alpha_pattern"}) {
            JsonNode p = j.get(k);
            if (p != null && !p.isNull() && !(p.isObject() && p.isEmpty())) throw j.error(k + " " + p + " is not supported (one r and alpha for all targets)");
        }
        JsonNode save = j.get("modules_to_save");
        if (save != null && !save.isNull() && !(save.isArray() && save.isEmpty())) {
            throw j.error("modules_to_save " + save + " is not supported (the adapter would carry full copies of those modules)");
        }
        if (j.getBool("lora_bias", false)) throw j.error("lora_bias = true is not supported (lora_B has no bias in jllm)");
        List<String> targets;
        boolean regex;
        JsonNode t = j.get("target_modules");
        if (t != null && t.isTextual()) {
            targets = List.of(t.textValue());
            regex = true;
        } else {
            targets = j.getStringList("target_modules");
            regex = false;
        }
        try {
            return new PeftLoraConfig(j.getInt("r", 8), j.getDouble("lora_alpha", 8), targets, regex,
                    j.getDouble("lora_dropout", 0.0), j.getString("bias", "none"), j.getString("task_type", null),
                    j.getString("base_model_name_or_path", null), j.getBool("fan_in_fan_out", false), j.getBool("use_rslora", false));
        } catch (IllegalArgumentException e) {
            throw j.error(e.getMessage());
        }
    }

    /** adapter_config.json with the keys PEFT writes (sorted, as PEFT's save_pretrained writes them). */
    public ObjectNode toJson() {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.putObject("alpha_pattern");
        o.putNull("auto_mapping");
        o.put("base_model_name_or_path", baseModelNameOrPath);
        o.put("bias", bias);
        o.put("fan_in_fan_out", fanInFanOut);
        o.put("inference_mode", true);
        o.put("init_lora_weights", true);
        o.putNull("layers_pattern");
        o.putNull("layers_to_transform");
        if (loraAlpha == Math.rint(loraAlpha) && Math.abs(loraAlpha) < 1e9) o.put("lora_alpha", (long) loraAlpha);
        else o.put("lora_alpha", loraAlpha);
        o.put("lora_dropout", loraDropout);
        o.putNull("modules_to_save");
        o.put("peft_type", PEFT_TYPE);
        o.put("r", r);
        o.putObject("rank_pattern");
        o.putNull("revision");
        if (targetModulesIsRegex) {
            o.put("target_modules", targetModules.get(0));
        } else {
            ArrayNode a = o.putArray("target_modules");
            targetModules.stream().sorted().forEach(a::add);
        }
        o.put("task_type", taskType);
        o.put("use_dora", false);
        o.put("use_rslora", useRslora);
        return o;
    }
}
