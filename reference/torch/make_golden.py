#!/usr/bin/python3
"""Writes the PyTorch golden files that jllm's training tests compare against (src/test/resources/golden/torch/).

Run with Debian's PyTorch (apt-get install python3-torch; torch 1.13): /usr/bin/python3 reference/torch/make_golden.py

For a tiny GPT-2 and a tiny LLaMA (tiny_models.py, Hugging Face layouts) with seeded random weights, in float64:
  * the loss of one batch (B=2, T=8, two targets masked with ignore_index -100), mean over the scored targets;
  * the gradient of every parameter, and its global L2 norm (clip_grad_norm_'s total norm);
  * two AdamW steps and two SGD-with-momentum steps applied to the dumped float32 parameters with the dumped float32
    gradient (the same gradient both times), to check the optimizers' arithmetic by itself;
  * ten training steps on that batch: AdamW (betas 0.9/0.95, eps 1e-8, weight decay 0.1 on matrices only), global
    gradient clipping at 1.0, learning rate 1e-2 with 2 warm-up steps and a cosine decay to 0 over the 10 steps;
    the loss before each step's update, the pre-clip gradient norm and the learning rate of each step.

File format: safetensors (https://github.com/huggingface/safetensors: u64 little-endian header length, a JSON header
{name: {dtype, shape, data_offsets}}, then the raw little-endian data), all tensors F32 and named by jllm's GGUF names
and layouts (matrices (out, in); GPT-2's Conv1D weights transposed and c_attn split into Q, K, V):
  param.NAME  initial weights     grad.NAME  gradient of the loss     adamw2.NAME / sgd2.NAME  after two optimizer steps
The header's __metadata__ holds JSON strings: config, tokens, targets, loss, grad_norm, losses, grad_norms, lrs, hyper.
"""
import json
import math
import os
import struct

import torch

from tiny_models import GPT2, Llama, gguf_tensors

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "src", "test", "resources", "golden", "torch")
B, T, VOCAB = 2, 8, 32
HYPER = {"lr": 1e-2, "betas": [0.9, 0.95], "eps": 1e-8, "weight_decay": 0.1, "grad_clip": 1.0, "warmup": 2,
         "steps": 10, "min_lr": 0.0,
         "sgd": {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}, "opt_check_adamw_lr": 1e-2}


def init(model, gen):
    for name, p in model.named_parameters():
        with torch.no_grad():
            if name.endswith("norm.weight") or ".ln_" in name and name.endswith("weight") or "layernorm" in name:
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=gen, dtype=torch.float64))
            elif p.dim() == 1:
                p.copy_(0.1 * torch.randn(p.shape, generator=gen, dtype=torch.float64))
            else:
                std = 0.2 if ("wte" in name or "wpe" in name or "embed" in name) else 0.1
                p.copy_(std * torch.randn(p.shape, generator=gen, dtype=torch.float64))


def lr_at(step):
    h = HYPER
    if step < h["warmup"]:
        return h["lr"] * (step + 1) / h["warmup"]
    progress = (step - h["warmup"]) / (h["steps"] - h["warmup"])
    return h["min_lr"] + 0.5 * (1 + math.cos(math.pi * progress)) * (h["lr"] - h["min_lr"])


def loss_of(model, tokens, targets):
    logits = model(tokens)
    return torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1), ignore_index=-100)


def adamw(model):
    decay = [p for p in model.parameters() if p.dim() >= 2]
    other = [p for p in model.parameters() if p.dim() < 2]
    h = HYPER
    return torch.optim.AdamW([{"params": decay, "weight_decay": h["weight_decay"]},
                              {"params": other, "weight_decay": 0.0}], lr=h["lr"], betas=tuple(h["betas"]), eps=h["eps"])


def optimizer_steps(model, convert, params32, grads32, kind):
    """Two steps of the optimizer from float32 params with the same float32 gradient; returns the params."""
    with torch.no_grad():
        named = dict(model.named_parameters())
        for name, p in named.items():
            p.copy_(params32[name].double())
    h = HYPER
    if kind == "adamw":
        opt = adamw(model)
        for g in opt.param_groups:
            g["lr"] = h["opt_check_adamw_lr"]
    else:
        s = h["sgd"]
        decay = [p for p in model.parameters() if p.dim() >= 2]
        other = [p for p in model.parameters() if p.dim() < 2]
        opt = torch.optim.SGD([{"params": decay, "weight_decay": s["weight_decay"]},
                               {"params": other, "weight_decay": 0.0}], lr=s["lr"], momentum=s["momentum"])
    for _ in range(2):
        for name, p in model.named_parameters():
            p.grad = grads32[name].double().clone()
        opt.step()
    return convert({n: p.detach().clone() for n, p in model.named_parameters()})


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {k: json.dumps(v) for k, v in metadata.items()}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def golden(name, model, config):
    gen = torch.Generator().manual_seed(1234)
    model = model.double()
    init(model, gen)
    convert = gguf_tensors(model)
    seq = torch.randint(0, VOCAB, (B, T + 1), generator=gen)
    tokens, targets = seq[:, :-1].clone(), seq[:, 1:].clone()
    targets[0, 2] = -100
    targets[1, 7] = -100

    params0 = {n: p.detach().clone() for n, p in model.named_parameters()}
    loss = loss_of(model, tokens, targets)
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
    grad_norm = torch.sqrt(sum((g ** 2).sum() for g in grads.values())).item()
    params32 = {n: p.float() for n, p in params0.items()}
    grads32 = {n: g.float() for n, g in grads.items()}

    tensors = {}
    for k, v in convert(params0).items():
        tensors["param." + k] = v
    for k, v in convert(grads).items():
        tensors["grad." + k] = v
    for kind in ("adamw", "sgd"):
        for k, v in optimizer_steps(model, convert, params32, grads32, kind).items():
            tensors[kind + "2." + k] = v

    # ten steps from the initial weights
    with torch.no_grad():
        for n, p in model.named_parameters():
            p.copy_(params0[n])
            p.grad = None
    opt = adamw(model)
    losses, norms, lrs = [], [], []
    for step in range(HYPER["steps"]):
        lr = lr_at(step)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad()
        l = loss_of(model, tokens, targets)
        l.backward()
        norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), HYPER["grad_clip"]).item())
        opt.step()
        losses.append(l.item())
        lrs.append(lr)

    meta = {"config": config, "tokens": tokens.tolist(), "targets": [[-1 if t < 0 else t for t in row] for row in targets.tolist()],
            "loss": loss.item(), "grad_norm": grad_norm, "losses": losses, "grad_norms": norms, "lrs": lrs,
            "hyper": HYPER, "torch": torch.__version__}
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name + ".safetensors")
    write_safetensors(path, tensors, meta)
    print(f"{path}: loss {loss.item():.6f}, grad norm {grad_norm:.6f}, losses {[round(x, 5) for x in losses]}")


if __name__ == "__main__":
    golden("gpt2-tiny", GPT2(VOCAB, 16, 16, 2, 4, 64),
           {"arch": "gpt2", "vocab": VOCAB, "ctx": 16, "dim": 16, "layers": 2, "heads": 4, "kv_heads": 4, "ffn": 64,
            "eps": 1e-5})
    golden("llama-tiny", Llama(VOCAB, 16, 2, 4, 2, 40),
           {"arch": "llama", "vocab": VOCAB, "ctx": 16, "dim": 16, "layers": 2, "heads": 4, "kv_heads": 2, "ffn": 40,
            "eps": 1e-5, "rope_theta": 10000.0, "rope_type": "neox"})
