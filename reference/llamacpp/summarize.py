#!/usr/bin/env python3
"""Turns logits_harness JSON lines (full logits per step) into a small golden file for jllm's tests.

Kept per step (logits rounded to 1e-5): llama.cpp's greedy token, its top-1/top-2 logits, the 16 largest logits, the logits at a fixed
set of 256 token ids (the same set for every model, so runs of the same weights in different types can be
compared), and the sum and sum of squares of all logits.
usage: summarize.py NAME VERSION PROMPT_IDS KV_TYPE VOCAB_FROM MAKE_MODEL_ARGS... < harness.jsonl > golden.json
"""
import json
import random
import sys


def main():
    name, version, prompt, kv_type, vocab_from = sys.argv[1:6]
    make_args = sys.argv[6:]
    steps = []
    ids = None
    for line in sys.stdin:
        line = line.strip()
        if not line.startswith("{"):
            continue
        d = json.loads(line)
        logits = d["logits"]
        if ids is None:
            rng = random.Random(1234)
            ids = sorted(rng.sample(range(len(logits)), 256))
        top = sorted(range(len(logits)), key=lambda i: (-logits[i], i))[:16]
        steps.append({
            "token": d["token"],
            "top1": d["top1"],
            "top2_token": d["top2_token"],
            "top2": d["top2"],
            "top": [[i, round(logits[i], 5)] for i in top],
            "logits_at_ids": [round(logits[i], 5) for i in ids],
            "sum": sum(logits),
            "sumsq": sum(x * x for x in logits),
        })
    json.dump({
        "name": name,
        "llamacpp": version,
        "make_model_args": make_args,
        "vocab_from": vocab_from,
        "prompt": [int(x) for x in prompt.split(",")],
        "kv_type": kv_type,
        "ids": ids,
        "steps": steps,
    }, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
