#!/usr/bin/env bash
# Records what llama.cpp computes on GGUF models written by jllm (`jllm make-model`, seeded random weights and
# llama.cpp's own llama-spm test vocabulary), as small golden files under src/test/resources/golden/llamacpp.
# jllm's tests regenerate the same models from the recorded arguments and compare, so they need no llama.cpp.
#
# Needs: llama.cpp built outside the repo and this directory's harness (see README.md), python3, ../shared/testdata.
# usage: reference/llamacpp/record_goldens.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
harness="${LLAMACPP_DIR:-/work/llamacpp}/build/bin/logits_harness"
testdata="${JLLM_TESTDATA:-$root/../shared/testdata}"
vocab_rel="tokenizer/llamacpp-vocab/ggml-vocab-llama-spm.gguf"
out="$root/src/test/resources/golden/llamacpp"
version="$(head -1 "${LLAMACPP_DIR:-/work/llamacpp}/VERSION.txt" 2>/dev/null || echo unknown)"
prompt="1,450,4996,17354,1701,29916"   # "<s> The quick brown fox" in the llama-spm vocabulary
n_predict=32
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

record() { # NAME KV_TYPE MAKE_MODEL_ARGS...
  local name=$1 kv=$2; shift 2
  "${JLLM:-$root/bin/jllm}" make-model "$@" --vocab-from "$testdata/$vocab_rel" -o "$tmp/$name.gguf"
  "$harness" "$tmp/$name.gguf" "$n_predict" "$prompt" --kv-type "$kv" --threads 2 2>/dev/null \
    | python3 "$root/reference/llamacpp/summarize.py" "$name" "$version" "$prompt" "$kv" "$vocab_rel" "$@" > "$out/$name.json"
  echo "recorded $out/$name.json"
}

base=(--arch llama --dim 256 --layers 2 --heads 4 --kv-heads 2 --ffn 512 --output-scale 4 --seed 42)
for t in F32 F16 Q8_0 Q4_0 Q4_K Q6_K; do
  record "llama-gqa-$t" f32 "${base[@]}" --type "$t"
done
# qwen2: NeoX RoPE and Q/K/V biases, output tied to the embedding
record "qwen2-tied-F32" f32 --arch qwen2 --dim 256 --layers 2 --heads 4 --kv-heads 2 --ffn 512 --output-scale 4 --seed 7 --tied --type F32 --rope-theta 1000000
# multi-query attention (one KV head)
record "llama-mqa-F16" f32 --arch llama --dim 256 --layers 3 --heads 8 --kv-heads 1 --ffn 768 --output-scale 4 --seed 3 --type F16
# Llama 3.1 RoPE frequency factors (rope_freqs.weight), base 500000, head size 64
record "llama31-rope-F32" f32 --arch llama --dim 256 --layers 2 --heads 4 --kv-heads 1 --ffn 512 --output-scale 4 --seed 11 --type F32 --rope-theta 500000 --llama3-rope-scaling
