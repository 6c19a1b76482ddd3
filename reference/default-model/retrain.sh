#!/usr/bin/env bash
# Retrains jllm's embedded default model and its LoRA adapter from scratch, with jllm itself, and installs them as
# src/main/resources/jllm/default/{model.gguf, adapter/}. The corpus is downloaded (prepare_corpus.sh), never
# committed. Deterministic for a given seed and thread count.
#
#   1. corpus:     Tang poems (pretraining) and Song ci (the adapter's style) from npm's chinese-poetry@2.0.1, in
#                  simplified characters; every 100th poem held out
#   2. tokenizer:  byte-level BPE, 4,000 tokens, trained on both training splits
#   3. pretrain:   llama-3m (dim 192, 6 layers, 6 heads / 2 KV heads, SwiGLU 512) on every 2nd Tang training poem
#                  (1.74M tokens), 850 AdamW steps of 16 x 128 tokens: one pass, each token seen once
#   4. adapter:    LoRA rank 8, alpha 16 on q/k/v/o and gate/up/down, 250 steps of 16 x 128 tokens on every 3rd
#                  Song ci training poem (0.54M tokens): about one pass
#   5. held-out:   jllm eval on the held-out poems, base and with the adapter, and the unigram baseline
#
# usage: reference/default-model/retrain.sh [WORK_DIR]     (takes ~35 minutes on 2 shared cores)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="${1:-$root/target/default-model}"
jllm="$root/bin/jllm"
mkdir -p "$work"
start=$(date +%s)
lap() { echo "retrain: $1 done at $(( $(date +%s) - start )) s" >&2; }

rm -rf "$work/corpus"
"$root/reference/default-model/prepare_corpus.sh" "$work/corpus"
c="$work/corpus"
cat "$c/tang-train.txt" "$c/ci-train.txt" > "$c/all-train.txt"
awk 'BEGIN { RS = ""; ORS = "\n\n" } NR % 2 == 1' "$c/tang-train.txt" > "$c/tang-pretrain.txt"
awk 'BEGIN { RS = ""; ORS = "\n\n" } NR % 3 == 1' "$c/ci-train.txt" > "$c/ci-adapter.txt"
lap corpus

"$jllm" tokenizer train --data "$c/all-train.txt" --vocab-size 4000 --special "<|endoftext|>" -o "$work/tokenizer.gguf"
lap tokenizer

rm -rf "$work/base"
"$jllm" train --config llama-3m --tokenizer "$work/tokenizer.gguf" --data "$c/tang-pretrain.txt" \
  --out "$work/base" --steps 850 --batch 16 --seq 128 --lr 2e-3 --warmup 50 --seed 1 -t 2
lap pretraining

rm -rf "$work/adapter"
"$jllm" lora train -m "$work/base" --data "$c/ci-adapter.txt" --out "$work/adapter" --rank 8 --alpha 16 \
  --targets q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj --steps 250 --batch 16 --seq 128 --lr 2e-3 \
  --warmup 10 --seed 1 -t 2
lap adapter

. "$root/bin/find-jdk"
{
  for d in tang ci; do
    echo "held-out $d, base:         $("$jllm" eval -m "$work/base" --data "$c/$d-heldout.txt" --seq 128 --batch 8 -t 2 --json)"
    echo "held-out $d, with adapter: $("$jllm" eval -m "$work/base" --lora "$work/adapter" --data "$c/$d-heldout.txt" --seq 128 --batch 8 -t 2 --json)"
  done
  echo "unigram baseline (Tang pretraining tokens):"
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$root/target/jllm.jar" \
    "$root/reference/default-model/UnigramBaseline.java" "$work/tokenizer.gguf" "$c/tang-pretrain.txt" "$c/tang-heldout.txt" "$c/ci-heldout.txt"
  echo "unigram baseline (Song ci adapter tokens):"
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$root/target/jllm.jar" \
    "$root/reference/default-model/UnigramBaseline.java" "$work/tokenizer.gguf" "$c/ci-adapter.txt" "$c/tang-heldout.txt" "$c/ci-heldout.txt"
} | tee "$work/heldout.txt"
lap held-out

dest="$root/src/main/resources/jllm/default"
rm -rf "$dest"
mkdir -p "$dest/adapter"
cp "$work/base/model.gguf" "$dest/model.gguf"
cp "$work/adapter/adapter_config.json" "$work/adapter/adapter_model.safetensors" "$dest/adapter/"
echo "retrain: installed into $dest in $(( $(date +%s) - start )) s" >&2
