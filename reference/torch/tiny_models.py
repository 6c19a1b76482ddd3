"""Tiny GPT-2 and LLaMA models in plain PyTorch, with Hugging Face's module names and tensor layouts.

GPT-2 (Radford et al. 2019) as transformers' modeling_gpt2: transformer.wte / wpe / h.N.{ln_1, attn.c_attn,
attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj} / ln_f, lm_head tied to wte; Conv1D weights are [in, out]; GELU is
"gelu_new" (the tanh approximation). LLaMA (Touvron et al. 2023) as modeling_llama: model.embed_tokens /
layers.N.{input_layernorm, self_attn.{q,k,v,o}_proj, post_attention_layernorm, mlp.{gate,up,down}_proj} / norm,
lm_head; Linear weights are [out, in]; RoPE rotates the half-split pairs (i, i + d/2) ("rotate_half"); K and V
heads are repeated for grouped-query attention. transformers itself is not needed (nor available on Debian).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class Conv1D(nn.Module):
    """GPT-2's linear layer: y = x W + b with W stored [in, out]."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_in, n_out))
        self.bias = nn.Parameter(torch.empty(n_out))

    def forward(self, x):
        return x @ self.weight + self.bias


class GPT2Block(nn.Module):
    def __init__(self, d, n_head, d_ff, eps):
        super().__init__()
        self.n_head = n_head
        self.ln_1 = nn.LayerNorm(d, eps=eps)
        self.attn = nn.Module()
        self.attn.c_attn = Conv1D(d, 3 * d)
        self.attn.c_proj = Conv1D(d, d)
        self.ln_2 = nn.LayerNorm(d, eps=eps)
        self.mlp = nn.Module()
        self.mlp.c_fc = Conv1D(d, d_ff)
        self.mlp.c_proj = Conv1D(d_ff, d)

    def forward(self, x):
        B, T, C = x.shape
        h = self.ln_1(x)
        q, k, v = self.attn.c_attn(h).split(C, dim=2)
        q, k, v = [t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v)]
        att = (q @ k.transpose(-2, -1)) / math.sqrt(C // self.n_head)
        mask = torch.ones(T, T, dtype=torch.bool).tril()
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + self.attn.c_proj(y)
        x = x + self.mlp.c_proj(F.gelu(self.mlp.c_fc(self.ln_2(x)), approximate="tanh"))
        return x


class GPT2(nn.Module):
    def __init__(self, vocab, ctx, d, n_layer, n_head, d_ff, eps=1e-5):
        super().__init__()
        self.transformer = nn.Module()
        self.transformer.wte = nn.Embedding(vocab, d)
        self.transformer.wpe = nn.Embedding(ctx, d)
        self.transformer.h = nn.ModuleList([GPT2Block(d, n_head, d_ff, eps) for _ in range(n_layer)])
        self.transformer.ln_f = nn.LayerNorm(d, eps=eps)

    def forward(self, idx):
        B, T = idx.shape
        x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(T))
        for block in self.transformer.h:
            x = block(x)
        return self.transformer.ln_f(x) @ self.transformer.wte.weight.t()  # lm_head tied to wte


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


class LlamaLayer(nn.Module):
    def __init__(self, d, n_head, n_kv, d_ff, eps):
        super().__init__()
        self.n_head, self.n_kv, self.hd = n_head, n_kv, d // n_head
        self.input_layernorm = RMSNorm(d, eps)
        self.self_attn = nn.Module()
        self.self_attn.q_proj = nn.Linear(d, n_head * self.hd, bias=False)
        self.self_attn.k_proj = nn.Linear(d, n_kv * self.hd, bias=False)
        self.self_attn.v_proj = nn.Linear(d, n_kv * self.hd, bias=False)
        self.self_attn.o_proj = nn.Linear(n_head * self.hd, d, bias=False)
        self.post_attention_layernorm = RMSNorm(d, eps)
        self.mlp = nn.Module()
        self.mlp.gate_proj = nn.Linear(d, d_ff, bias=False)
        self.mlp.up_proj = nn.Linear(d, d_ff, bias=False)
        self.mlp.down_proj = nn.Linear(d_ff, d, bias=False)

    def forward(self, x, cos, sin):
        B, T, C = x.shape
        h = self.input_layernorm(x)
        a = self.self_attn
        q = a.q_proj(h).view(B, T, self.n_head, self.hd).transpose(1, 2)
        k = a.k_proj(h).view(B, T, self.n_kv, self.hd).transpose(1, 2)
        v = a.v_proj(h).view(B, T, self.n_kv, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = self.n_head // self.n_kv
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(self.hd)
        mask = torch.ones(T, T, dtype=torch.bool).tril()
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, self.n_head * self.hd)
        x = x + a.o_proj(y)
        h = self.post_attention_layernorm(x)
        m = self.mlp
        return x + m.down_proj(F.silu(m.gate_proj(h)) * m.up_proj(h))


class Llama(nn.Module):
    def __init__(self, vocab, d, n_layer, n_head, n_kv, d_ff, eps=1e-5, theta=10000.0):
        super().__init__()
        self.model = nn.Module()
        self.model.embed_tokens = nn.Embedding(vocab, d)
        self.model.layers = nn.ModuleList([LlamaLayer(d, n_head, n_kv, d_ff, eps) for _ in range(n_layer)])
        self.model.norm = RMSNorm(d, eps)
        self.lm_head = nn.Linear(d, vocab, bias=False)
        self.hd, self.theta = d // n_head, theta

    def forward(self, idx):
        B, T = idx.shape
        inv = 1.0 / (self.theta ** (torch.arange(0, self.hd, 2, dtype=torch.float64) / self.hd))
        ang = torch.outer(torch.arange(T, dtype=torch.float64), inv)
        ang = torch.cat((ang, ang), dim=-1)
        dtype = self.lm_head.weight.dtype
        cos, sin = ang.cos().to(dtype), ang.sin().to(dtype)
        x = self.model.embed_tokens(idx)
        for layer in self.model.layers:
            x = layer(x, cos, sin)
        return self.lm_head(self.model.norm(x))


def gguf_tensors(model):
    """The model's tensors under jllm's GGUF names and layouts ((out, in) rows; GPT-2's c_attn split into Q, K, V).

    Works on any name-indexed dict (parameters, gradients, optimizer states): returns a function of such a dict.
    """
    def convert(t):  # t: dict HF name -> tensor
        out = {}
        if isinstance(model, GPT2):
            d = t["transformer.wte.weight"].shape[1]
            out["token_embd.weight"] = t["transformer.wte.weight"]
            out["position_embd.weight"] = t["transformer.wpe.weight"]
            for i in range(len(model.transformer.h)):
                p, b = f"transformer.h.{i}.", f"blk.{i}."
                out[b + "attn_norm.weight"] = t[p + "ln_1.weight"]
                out[b + "attn_norm.bias"] = t[p + "ln_1.bias"]
                w, bias = t[p + "attn.c_attn.weight"].t(), t[p + "attn.c_attn.bias"]
                for j, name in enumerate(("attn_q", "attn_k", "attn_v")):
                    out[b + name + ".weight"] = w[j * d:(j + 1) * d]
                    out[b + name + ".bias"] = bias[j * d:(j + 1) * d]
                out[b + "attn_output.weight"] = t[p + "attn.c_proj.weight"].t()
                out[b + "attn_output.bias"] = t[p + "attn.c_proj.bias"]
                out[b + "ffn_norm.weight"] = t[p + "ln_2.weight"]
                out[b + "ffn_norm.bias"] = t[p + "ln_2.bias"]
                out[b + "ffn_up.weight"] = t[p + "mlp.c_fc.weight"].t()
                out[b + "ffn_up.bias"] = t[p + "mlp.c_fc.bias"]
                out[b + "ffn_down.weight"] = t[p + "mlp.c_proj.weight"].t()
                out[b + "ffn_down.bias"] = t[p + "mlp.c_proj.bias"]
            out["output_norm.weight"] = t["transformer.ln_f.weight"]
            out["output_norm.bias"] = t["transformer.ln_f.bias"]
        else:
            out["token_embd.weight"] = t["model.embed_tokens.weight"]
            names = {"input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
                     "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output",
                     "post_attention_layernorm": "ffn_norm", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
                     "mlp.down_proj": "ffn_down"}
            for i in range(len(model.model.layers)):
                for hf, gg in names.items():
                    out[f"blk.{i}.{gg}.weight"] = t[f"model.layers.{i}.{hf}.weight"]
            out["output_norm.weight"] = t["model.norm.weight"]
            out["output.weight"] = t["lm_head.weight"]
        return {k: v.contiguous() for k, v in out.items()}
    return convert
