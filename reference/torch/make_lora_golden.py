#!/usr/bin/python3
"""Writes the PyTorch golden files that jllm's LoRA tests compare against (src/test/resources/golden/torch/).

Run with Debian's PyTorch (apt-get install python3-torch; torch 1.13): /usr/bin/python3 reference/torch/make_lora_golden.py

LoRA (Hu et al. 2021) as PEFT computes it (huggingface/peft, src/peft/tuners/lora/layer.py, class Linear.forward):
    result = base_layer(x) + lora_B(lora_A(dropout(x))) * scaling,   scaling = lora_alpha / r,
lora_A = nn.Linear(in_features, r, bias=False) (weight (r, in)), lora_B = nn.Linear(r, out_features, bias=False)
(weight (out, r)); for transformers' Conv1D (GPT-2) in_features, out_features = weight.shape. PEFT itself is not
installed (nor on Debian); the wrapper below is written from those facts. Dropout is 0 (PyTorch's mask cannot be
reproduced outside PyTorch; jllm's dropout is checked by finite differences instead).

For a tiny LLaMA with LoRA on q_proj and v_proj, and a tiny GPT-2 with LoRA on c_attn and c_fc (tiny_models.py, Hugging
Face layouts; base weights seeded, rounded to float32, frozen; A Kaiming-uniform as PEFT's default, B N(0, 0.1^2) rather
than PEFT's zeros so that A has a gradient), in float64:
  * the loss of one batch (B=2, T=8, two targets masked with ignore_index -100), and the logits of every position;
  * the gradients of every lora_A and lora_B, and their global L2 norm;
  * the logits of the merged model, W + scaling B A (Conv1D: W + (scaling B A)^T), as PEFT's merge computes them;
  * five training steps of the adapter alone: AdamW (betas 0.9/0.999, eps 1e-8, weight decay 0.01 on A and B),
    global gradient clipping at 1.0, learning rate 1e-2 with 2 warm-up steps and a cosine decay to 0 over the 5 steps;
    the loss before each update, the pre-clip gradient norm, the learning rate, and A and B after the last step.

File format: as make_golden.py (safetensors, F32), tensors named
  param.NAME                    base weights under jllm's GGUF names and layouts (as make_golden.py)
  lora0.KEY / grad.KEY / lora5.KEY   the adapter before training, its gradient, after five steps; KEY is PEFT's
                                     state-dict key, e.g. base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight
  logits / merged_logits        (B*T, vocab)
The header's __metadata__ holds JSON strings: config, lora (r, alpha, target_modules), tokens, targets, loss,
grad_norm, losses, grad_norms, lrs, hyper.
"""
import math
import os

import torch
import torch.nn as nn

from make_golden import OUT, B, T, VOCAB, init, write_safetensors
from tiny_models import GPT2, Llama, gguf_tensors

HYPER = {"lr": 1e-2, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.01, "grad_clip": 1.0, "warmup": 2,
         "steps": 5, "min_lr": 0.0}
R, ALPHA = 4, 8


class LoraLinear(nn.Module):
    """PEFT's lora.Linear around a frozen nn.Linear or Conv1D: base(x) + lora_B(lora_A(x)) * scaling."""

    def __init__(self, base, n_in, n_out, r, alpha):
        super().__init__()
        self.base_layer = base
        self.lora_A = nn.Linear(n_in, r, bias=False)
        self.lora_B = nn.Linear(r, n_out, bias=False)
        self.scaling = alpha / r

    def forward(self, x):
        return self.base_layer(x) + self.lora_B(self.lora_A(x)) * self.scaling

    def delta_weight(self, conv1d):
        d = (self.lora_B.weight @ self.lora_A.weight) * self.scaling  # (out, in)
        return d.t() if conv1d else d


def lr_at(step):
    h = HYPER
    if step < h["warmup"]:
        return h["lr"] * (step + 1) / h["warmup"]
    progress = (step - h["warmup"]) / (h["steps"] - h["warmup"])
    return h["min_lr"] + 0.5 * (1 + math.cos(math.pi * progress)) * (h["lr"] - h["min_lr"])


def loss_of(model, tokens, targets):
    logits = model(tokens)
    return torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1), ignore_index=-100), logits


def attach(model, targets, gen):
    """Wraps every module whose path ends in one of targets; returns {path: (wrapper, conv1d)} in path order."""
    found = {}
    for path, module in list(model.named_modules()):
        if not any(path == t or path.endswith("." + t) for t in targets):
            continue
        parent = model.get_submodule(path.rsplit(".", 1)[0])
        conv1d = not isinstance(module, nn.Linear)
        n_in, n_out = module.weight.shape if conv1d else (module.in_features, module.out_features)
        w = LoraLinear(module, n_in, n_out, R, ALPHA).double()
        with torch.no_grad():
            bound = 1 / math.sqrt(n_in)  # kaiming_uniform_(a=sqrt(5)): U(-1/sqrt(in), 1/sqrt(in))
            w.lora_A.weight.copy_((torch.rand(w.lora_A.weight.shape, generator=gen, dtype=torch.float64) * 2 - 1) * bound)
            w.lora_B.weight.copy_(0.1 * torch.randn(w.lora_B.weight.shape, generator=gen, dtype=torch.float64))
            for p in (w.lora_A.weight, w.lora_B.weight):
                p.copy_(p.float().double())
        setattr(parent, path.rsplit(".", 1)[1], w)
        found[path] = (w, conv1d)
    return dict(sorted(found.items()))


def lora_tensors(adapters, what):
    out = {}
    for path, (w, _) in adapters.items():
        for name in ("lora_A", "lora_B"):
            p = getattr(w, name).weight
            out[f"base_model.model.{path}.{name}.weight"] = (p.grad if what == "grad" else p).detach().clone()
    return out


def golden(name, model, config, targets):
    gen = torch.Generator().manual_seed(4321)
    model = model.double()
    init(model, gen)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.float().double())  # the weights jllm reads, exactly
    base = {n: p.detach().clone() for n, p in model.named_parameters()}
    convert = gguf_tensors(model)
    for p in model.parameters():
        p.requires_grad_(False)
    seq = torch.randint(0, VOCAB, (B, T + 1), generator=gen)
    tokens, targets_ = seq[:, :-1].clone(), seq[:, 1:].clone()
    targets_[0, 2] = -100
    targets_[1, 7] = -100
    adapters = attach(model, targets, gen)
    lora_params = [p for w, _ in adapters.values() for p in (w.lora_A.weight, w.lora_B.weight)]

    tensors = {"param." + k: v for k, v in convert(base).items()}
    tensors.update({"lora0." + k: v for k, v in lora_tensors(adapters, "value").items()})
    loss, logits = loss_of(model, tokens, targets_)
    loss.backward()
    grad_norm = torch.sqrt(sum((p.grad ** 2).sum() for p in lora_params)).item()
    tensors.update({"grad." + k: v for k, v in lora_tensors(adapters, "grad").items()})
    tensors["logits"] = logits.detach().reshape(B * T, VOCAB)

    # merged: W + scaling B A in the base weight, the LoRA path switched off (scaling 0), then restored
    with torch.no_grad():
        saved = {}
        for path, (w, conv1d) in adapters.items():
            saved[path] = (w.base_layer.weight.detach().clone(), w.scaling)
            w.base_layer.weight.add_(w.delta_weight(conv1d))
            w.scaling = 0.0
        tensors["merged_logits"] = model(tokens).reshape(B * T, VOCAB).detach().clone()
        for path, (w, _) in adapters.items():
            w.base_layer.weight.copy_(saved[path][0])
            w.scaling = saved[path][1]

    h = HYPER
    opt = torch.optim.AdamW(lora_params, lr=h["lr"], betas=tuple(h["betas"]), eps=h["eps"], weight_decay=h["weight_decay"])
    losses, norms, lrs = [], [], []
    for step in range(h["steps"]):
        lr = lr_at(step)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad()
        l, _ = loss_of(model, tokens, targets_)
        l.backward()
        norms.append(torch.nn.utils.clip_grad_norm_(lora_params, h["grad_clip"]).item())
        opt.step()
        losses.append(l.item())
        lrs.append(lr)
    tensors.update({"lora5." + k: v for k, v in lora_tensors(adapters, "value").items()})

    meta = {"config": config, "lora": {"r": R, "alpha": ALPHA, "target_modules": targets},
            "tokens": tokens.tolist(), "targets": [[-1 if t < 0 else t for t in row] for row in targets_.tolist()],
            "loss": loss.item(), "grad_norm": grad_norm, "losses": losses, "grad_norms": norms, "lrs": lrs,
            "hyper": HYPER, "torch": torch.__version__}
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name + ".safetensors")
    write_safetensors(path, tensors, meta)
    print(f"{path}: loss {loss.item():.6f}, adapter grad norm {grad_norm:.6f}, losses {[round(x, 5) for x in losses]}")


if __name__ == "__main__":
    golden("llama-tiny-lora", Llama(VOCAB, 16, 2, 4, 2, 40),
           {"arch": "llama", "vocab": VOCAB, "ctx": 16, "dim": 16, "layers": 2, "heads": 4, "kv_heads": 2, "ffn": 40,
            "eps": 1e-5, "rope_theta": 10000.0, "rope_type": "neox"}, ["q_proj", "v_proj"])
    golden("gpt2-tiny-lora", GPT2(VOCAB, 16, 16, 2, 4, 64),
           {"arch": "gpt2", "vocab": VOCAB, "ctx": 16, "dim": 16, "layers": 2, "heads": 4, "kv_heads": 4, "ffn": 64,
            "eps": 1e-5}, ["c_attn", "c_fc"])
