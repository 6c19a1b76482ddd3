#!/usr/bin/env bash
# Writes the benchmark files: a Llama-3.2-1B-shaped model (dim 2048, 16 layers, 32 heads, 8 KV heads, FFN 8192,
# tied output, Llama 3's 128,256-token vocabulary) with seeded random weights, in F16, Q8_0, Q4_0 and Q4_K, all
# written by jllm's own writer and quantizers (`jllm make-model`). Same flags, same bytes.
#   usage: bench/make_files.sh [DIR]        (default DIR: /work/benchfiles; about 5.2 GB in all)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-${BENCH_DIR:-/work/benchfiles}}"
vocab="${VOCAB:-$root/../shared/testdata/tokenizer/llamacpp-vocab/ggml-vocab-llama-bpe.gguf}"
jllm="${JLLM:-$root/bin/jllm}"
types="${TYPES:-F16 Q8_0 Q4_0 Q4_K}"
[ -f "$vocab" ] || { echo "make_files: vocabulary file $vocab not found (set VOCAB)" >&2; exit 1; }
mkdir -p "$dir"
for t in $types; do
  f="$dir/llama1b-$t.gguf"
  if [ -f "$f" ]; then echo "make_files: $f exists, kept" >&2; continue; fi
  "$jllm" make-model --dim 2048 --layers 16 --heads 32 --kv-heads 8 --ffn 8192 --vocab-from "$vocab" \
    --ctx 8192 --tied --rope-theta 500000 --llama3-rope-scaling --type "$t" -o "$f"
done
ls -l "$dir"/llama1b-*.gguf
