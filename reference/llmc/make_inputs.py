#!/usr/bin/python3
"""Random inputs for llm.c's CPU trainer (train_gpt2.c), so it can run without downloads: a GPT-2 124M checkpoint of
N(0, 0.02^2) weights in llm.c's format (int32 header of 256: magic 20240326, version 3, maxT, V, L, NH, C, Vp; then the
float32 parameters in llm.c's order) and token files of random ids (int32 header: magic 20240520, version 1, count;
uint16 tokens). Usage: make_inputs.py DIR (run train_gpt2 in DIR)."""
import os
import sys

import numpy as np

out = sys.argv[1] if len(sys.argv) > 1 else "."
maxT, V, L, NH, C, Vp = 1024, 50257, 12, 12, 768, 50304
sizes = [Vp * C, maxT * C, L * C, L * C, L * 3 * C * C, L * 3 * C, L * C * C, L * C, L * C, L * C,
         L * 4 * C * C, L * 4 * C, L * C * 4 * C, L * C, C, C]
rng = np.random.default_rng(1)
h = np.zeros(256, dtype=np.int32)
h[:8] = [20240326, 3, maxT, V, L, NH, C, Vp]
with open(os.path.join(out, "gpt2_124M.bin"), "wb") as f:
    f.write(h.tobytes())
    f.write((rng.standard_normal(sum(sizes), dtype=np.float32) * 0.02).tobytes())
d = os.path.join(out, "dev", "data", "tinyshakespeare")
os.makedirs(d, exist_ok=True)
for name, n in (("train", 200000), ("val", 20000)):
    hd = np.zeros(256, dtype=np.int32)
    hd[:3] = [20240520, 1, n]
    with open(os.path.join(d, f"tiny_shakespeare_{name}.bin"), "wb") as f:
        f.write(hd.tobytes())
        f.write(rng.integers(0, V, n).astype(np.uint16).tobytes())
