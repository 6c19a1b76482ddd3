#!/usr/bin/env python3
"""Records ggml's reference quantizer bytes for jllm's QuantizeGgmlGoldenTest.

Calls quantize_row_{q8_0,q4_0,q4_1,q4_K,q5_K,q6_K}_ref and ggml_fp32_to_{fp16,bf16}_row from a llama.cpp build's
libggml-base.so (LLAMACPP_DIR, default /work/llamacpp; see README.md) on fixed inputs, and writes the inputs and
each type's bytes and ggml's dequantization of them (dequantize_row_*, ggml_fp16/bf16_to_fp32_row)
to src/test/resources/jllm/tensor/ggml-quant-golden/. Only the outputs are kept in the repo.

Usage: python3 reference/llamacpp/record_quant_goldens.py
"""
import ctypes
import os
import pathlib

import numpy as np

LLAMACPP_DIR = os.environ.get("LLAMACPP_DIR", "/work/llamacpp")
OUT = pathlib.Path(__file__).resolve().parents[2] / "src/test/resources/jllm/tensor/ggml-quant-golden"

# 24 super-blocks of 256 with the cases that exercise the searches: Gaussians of several scales, uniform,
# heavy tails, an all-zero block, a constant block, all-negative and all-positive blocks, one outlier, tiny and
# large magnitudes, exact ties (multiples of 0.5), and sub-blocks of mixed scale.
rng = np.random.default_rng(20240229)
blocks = []
for sigma in (1.0, 0.02, 30.0):
    blocks.append(rng.normal(0, sigma, 256))
blocks.append(rng.uniform(-1, 1, 256))
blocks.append(rng.standard_t(2, 256))
blocks.append(np.zeros(256))
blocks.append(np.full(256, 0.75))
blocks.append(-np.abs(rng.normal(0, 1, 256)))
blocks.append(np.abs(rng.normal(0, 1, 256)) + 0.1)
b = rng.normal(0, 0.1, 256); b[77] = 40.0; blocks.append(b)
blocks.append(rng.normal(0, 1e-4, 256))
blocks.append(rng.normal(0, 1e3, 256))
blocks.append(np.round(rng.normal(0, 4, 256) * 2) / 2)
b = rng.normal(0, 1, 256); b[::32] = 0.0; blocks.append(b)
blocks.append(rng.normal(0, 1, 256) * np.repeat(np.array([1e-3, 1, 10, 0.1, 5, 1e-2, 2, 0.5]), 32))
blocks.append(rng.normal(0, 1, 256) * np.repeat(rng.uniform(0.01, 3, 16), 16))
b = np.zeros(256); b[:32] = rng.normal(0, 1, 32); blocks.append(b)
blocks.append(np.linspace(-8, 7, 256))
blocks.append(np.linspace(0, 15, 256))
blocks.append(rng.integers(-32, 32, 256).astype(np.float64) * 0.125)
for _ in range(4):
    blocks.append(rng.normal(0, 1, 256))
x = np.concatenate(blocks).astype(np.float32)
assert x.size == 24 * 256

lib = ctypes.CDLL(os.path.join(LLAMACPP_DIR, "build/bin/libggml-base.so"))


class InitParams(ctypes.Structure):
    _fields_ = [("mem_size", ctypes.c_size_t), ("mem_buffer", ctypes.c_void_p), ("no_alloc", ctypes.c_bool)]


# ggml_init fills ggml's f16 -> f32 table, which GGML_FP16_TO_FP32 reads inside the K-quant quantizers; without
# it every stored scale reads back as 0 and their requantization step is silently skipped.
lib.ggml_init.restype = ctypes.c_void_p
lib.ggml_init.argtypes = [InitParams]
lib.ggml_free.argtypes = [ctypes.c_void_p]
lib.ggml_free(lib.ggml_init(InitParams(1024 * 1024, None, False)))
OUT.mkdir(parents=True, exist_ok=True)
(OUT / "input.f32").write_bytes(x.astype("<f4").tobytes())

n = x.size
fp = x.ctypes.data_as(ctypes.c_void_p)
types = {  # name: (block elements, block bytes, function)
    "Q8_0": (32, 34, "quantize_row_q8_0_ref"),
    "Q4_0": (32, 18, "quantize_row_q4_0_ref"),
    "Q4_1": (32, 20, "quantize_row_q4_1_ref"),
    "Q4_K": (256, 144, "quantize_row_q4_K_ref"),
    "Q5_K": (256, 176, "quantize_row_q5_K_ref"),
    "Q6_K": (256, 210, "quantize_row_q6_K_ref"),
    "F16": (1, 2, "ggml_fp32_to_fp16_row"),
    "BF16": (1, 2, "ggml_fp32_to_bf16_row_ref"),
}
for name, (bs, ts, fn) in types.items():
    out = ctypes.create_string_buffer(n // bs * ts)
    getattr(lib, fn)(fp, out, ctypes.c_int64(n))
    (OUT / f"{name}.bin").write_bytes(out.raw)
    # and ggml's dequantization of those bytes, as little-endian f32
    deq = {"F16": "ggml_fp16_to_fp32_row", "BF16": "ggml_bf16_to_fp32_row"}.get(name, "dequantize_row_" + name.lower().replace("_k", "_K"))
    back = np.zeros(n, dtype=np.float32)
    getattr(lib, deq)(out, back.ctypes.data_as(ctypes.c_void_p), ctypes.c_int64(n))
    (OUT / f"{name}.dequant.f32").write_bytes(back.astype("<f4").tobytes())
    print(name, len(out.raw), "bytes")

# --- The int8 dot products of ggml's CPU backend: the activation quantized by quantize_row_q8_0 / q8_1 / q8_K
# (the vec_dot_type of each weight type) and ggml_vec_dot_<type>_<q8> of each weight row with it. The weights
# are the quantized bytes above, read as 3 rows of 2048.
cpu = ctypes.CDLL(os.path.join(LLAMACPP_DIR, "build/bin/libggml-cpu.so"))
cpu.ggml_cpu_init()
cols = 2048
act = (rng.normal(0, 1, cols) * np.repeat(rng.uniform(0.2, 2, cols // 64), 64)).astype(np.float32)
act[100:132] = 0.0
(OUT / "act.f32").write_bytes(act.astype("<f4").tobytes())
q8 = {"q8_0": (32, 34), "q8_1": (32, 36), "q8_K": (256, 292)}
act_bytes = {}
for fmt, (bs, ts) in q8.items():
    buf = ctypes.create_string_buffer(cols // bs * ts)
    getattr(cpu, "quantize_row_" + fmt)(act.ctypes.data_as(ctypes.c_void_p), buf, ctypes.c_int64(cols))
    (OUT / f"act.{fmt}.bin").write_bytes(buf.raw)
    act_bytes[fmt] = buf
dots = {"Q8_0": "q8_0", "Q4_0": "q8_0", "Q4_1": "q8_1", "Q4_K": "q8_K", "Q5_K": "q8_K", "Q6_K": "q8_K"}
for name, fmt in dots.items():
    bs, ts = types[name][0], types[name][1]
    wbytes = (OUT / f"{name}.bin").read_bytes()
    row_bytes = cols // bs * ts
    res = np.zeros(n // cols, dtype=np.float32)
    fn = getattr(cpu, f"ggml_vec_dot_{name.lower().replace('_k', '_K')}_{fmt}")
    for r in range(n // cols):
        wrow = ctypes.create_string_buffer(wbytes[r * row_bytes:(r + 1) * row_bytes])
        out = ctypes.c_float(0)
        fn(ctypes.c_int(cols), ctypes.byref(out), ctypes.c_size_t(0), wrow, ctypes.c_size_t(0), act_bytes[fmt],
           ctypes.c_size_t(0), ctypes.c_int(1))
        res[r] = out.value
    (OUT / f"dot.{name}.f32").write_bytes(res.astype("<f4").tobytes())
    print("dot", name, res)
