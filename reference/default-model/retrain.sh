#!/usr/bin/env bash
# Retrains jllm's embedded default model and its LoRA adapter from scratch, with jllm itself, and installs them as
# src/main/resources/jllm/default/{model.gguf, adapter/}. The corpus is downloaded (prepare_corpus.sh), never
# committed. Deterministic for a given seed and thread count.
#
#   1. corpus:     Tang poems (pretraining) and Song poems (the adapter's style) from Debian's fortunes-zh
#   2. tokenizer:  byte-level BPE, 3,000 tokens, trained on both
#   3. pretrain:   llama-3m (dim 192, 6 layers, 6 heads / 2 KV heads, SwiGLU 512), 600 AdamW steps of 8 x 128 tokens
#   4. adapter:    LoRA rank 8, alpha 16 on q_proj,k_proj,v_proj,o_proj, 60 steps on the Song poems
#   5. held-out:   jllm eval on the held-out poems (every 10th), base and with the adapter
#
# usage: reference/default-model/retrain.sh [WORK_DIR]     (takes ~15-25 minutes on 2 cores)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="${1:-$root/target/default-model}"
jllm="$root/bin/jllm"
mkdir -p "$work"
start=$(date +%s)

"$root/reference/default-model/prepare_corpus.sh" "$work/corpus"
cat "$work/corpus/tang-train.txt" "$work/corpus/song-train.txt" > "$work/corpus/all-train.txt"

"$jllm" tokenizer train --data "$work/corpus/all-train.txt" --vocab-size 3000 --special "<|endoftext|>" \
  -o "$work/tokenizer.gguf"

rm -rf "$work/base"
"$jllm" train --config llama-3m --tokenizer "$work/tokenizer.gguf" --data "$work/corpus/tang-train.txt" \
  --out "$work/base" --steps 600 --batch 8 --seq 128 --lr 2e-3 --warmup 30 --seed 1 -t 2

rm -rf "$work/adapter"
"$jllm" lora train -m "$work/base" --data "$work/corpus/song-train.txt" --out "$work/adapter" \
  --rank 8 --alpha 16 --targets q_proj,k_proj,v_proj,o_proj --steps 60 --batch 8 --seq 128 --lr 2e-3 --warmup 5 --seed 1 -t 2

for d in tang song; do
  echo "held-out $d, base:         $("$jllm" eval -m "$work/base" --data "$work/corpus/$d-heldout.txt" --seq 128 --json)"
  echo "held-out $d, with adapter: $("$jllm" eval -m "$work/base" --lora "$work/adapter" --data "$work/corpus/$d-heldout.txt" --seq 128 --json)"
done | tee "$work/heldout.txt"

dest="$root/src/main/resources/jllm/default"
rm -rf "$dest"
mkdir -p "$dest/adapter"
cp "$work/base/model.gguf" "$dest/model.gguf"
cp "$work/adapter/adapter_config.json" "$work/adapter/adapter_model.safetensors" "$dest/adapter/"
echo "retrain: installed into $dest in $(( $(date +%s) - start )) s" >&2
