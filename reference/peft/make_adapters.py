#!/usr/bin/env python3
"""Writes two small LoRA adapters in PEFT's on-disk format, by hand (json + struct; no torch, no peft, no safetensors
package), as fixtures for jllm's PEFT reader and writer (src/test/java/jllm/format/hf/PeftAdapterTest.java).

PEFT facts used (huggingface/peft):
  * PeftModel.save_pretrained writes adapter_model.safetensors with safe_save_file(state_dict, path,
    metadata={"format": "pt"}) and adapter_config.json (docs/source/developer_guides/checkpoint.md, peft_model.py).
  * State-dict keys are "base_model.model." + the module path in the base model + ".lora_A.weight" / ".lora_B.weight";
    the adapter name (".default") is stripped on save (checkpoint.md, "When you call save_pretrained ... the adapter
    name is stripped").
  * lora_A = nn.Linear(in_features, r, bias=False) -> weight (r, in); lora_B = nn.Linear(r, out_features) -> weight
    (out, r) (src/peft/tuners/lora/layer.py, LoraLayer.update_layer). For transformers' Conv1D (GPT-2) in_features,
    out_features = weight.shape, i.e. (in, out), and PEFT sets fan_in_fan_out = True (layer.py, LoraLayer.__init__;
    model.py _create_new_module).
  * scaling = lora_alpha / r (lora_alpha / sqrt(r) with use_rslora).
Safetensors facts: u64 little-endian header length N, N bytes of JSON padded with spaces to a multiple of 8,
"__metadata__" first, tensors sorted by dtype then name, each {"dtype", "shape", "data_offsets"}, compact separators
(huggingface/safetensors, safetensors/src/tensor.rs, prepare/serialize).

Values are exact in float32: A[m][i][j] = ((7i + 3j + m) % 11 - 5) / 8, B[m][o][i] = ((5o + 2i + m) % 13 - 6) / 16,
where m is the target's index in the sorted list of module paths; jllm's test recomputes them.

Usage: python3 reference/peft/make_adapters.py src/test/resources/peft
"""
import json
import os
import struct
import sys


def a_value(m, i, j):
    return ((7 * i + 3 * j + m) % 11 - 5) / 8.0


def b_value(m, o, i):
    return ((5 * o + 2 * i + m) % 13 - 6) / 16.0


def safetensors_bytes(tensors, metadata):
    """tensors: {name: (shape, [float values row-major])}, all F32; written in sorted name order (one dtype)."""
    header = {"__metadata__": metadata}
    data = b""
    for name in sorted(tensors):
        shape, values = tensors[name]
        raw = struct.pack("<%df" % len(values), *values)
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


def adapter(out_dir, modules, r, alpha, config_extra):
    """modules: {module path: (in_features, out_features)}."""
    tensors = {}
    for m, path in enumerate(sorted(modules)):
        fin, fout = modules[path]
        a = [a_value(m, i, j) for i in range(r) for j in range(fin)]
        b = [b_value(m, o, i) for o in range(fout) for i in range(r)]
        tensors["base_model.model." + path + ".lora_A.weight"] = ((r, fin), a)
        tensors["base_model.model." + path + ".lora_B.weight"] = ((fout, r), b)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "adapter_model.safetensors"), "wb") as f:
        f.write(safetensors_bytes(tensors, {"format": "pt"}))
    config = {
        "alpha_pattern": {},
        "auto_mapping": None,
        "base_model_name_or_path": None,
        "bias": "none",
        "fan_in_fan_out": False,
        "inference_mode": True,
        "init_lora_weights": True,
        "layers_pattern": None,
        "layers_to_transform": None,
        "lora_alpha": alpha,
        "lora_dropout": 0.05,
        "modules_to_save": None,
        "peft_type": "LORA",
        "r": r,
        "rank_pattern": {},
        "revision": None,
        "target_modules": sorted({p.rsplit(".", 1)[1] for p in modules}),
        "task_type": "CAUSAL_LM",
        "use_dora": False,
        "use_rslora": False,
    }
    config.update(config_extra)
    with open(os.path.join(out_dir, "adapter_config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")


def main(root):
    # LlamaForCausalLM: hidden 32, 4 query heads and 2 KV heads of 8 -> q_proj 32 -> 32, v_proj 32 -> 16; 2 layers
    llama = {}
    for layer in range(2):
        llama["model.layers.%d.self_attn.q_proj" % layer] = (32, 32)
        llama["model.layers.%d.self_attn.v_proj" % layer] = (32, 16)
    adapter(os.path.join(root, "llama-lora"), llama, 4, 8, {"base_model_name_or_path": "jllm/tiny-llama"})
    # GPT2LMHeadModel: n_embd 8; c_attn is a Conv1D (8, 24): in 8, out 24; fan_in_fan_out as PEFT sets it for Conv1D
    gpt2 = {"transformer.h.%d.attn.c_attn" % layer: (8, 24) for layer in range(2)}
    adapter(os.path.join(root, "gpt2-lora"), gpt2, 2, 16, {"base_model_name_or_path": "gpt2", "fan_in_fan_out": True})


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "src/test/resources/peft")
