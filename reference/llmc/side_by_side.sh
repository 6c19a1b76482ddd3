#!/usr/bin/env bash
# Training throughput of jllm and of llm.c's CPU trainer, GPT-2 124M shape, batch 4 x 64, fp32, 2 threads, run one
# after the other (twice) so both see the same machine. Needs gcc with OpenMP, numpy, jllm (bin/jllm builds its jar on first use) and
# a checkout of https://github.com/karpathy/llm.c in $LLMC (built here, outside this repository).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
: "${LLMC:?set LLMC to a checkout of karpathy/llm.c}"
work="${WORK:-/tmp/llmc-bench}"
mkdir -p "$work"
cp "$LLMC/train_gpt2.c" "$work/" && cp -r "$LLMC/llmc" "$work/"
# 7 training steps instead of 41 and one validation batch (each step prints its own time)
sed -i 's/for (int step = 0; step <= 40; step++) {/for (int step = 0; step <= 6; step++) {/; s/val_num_batches = 5;/val_num_batches = 1;/' "$work/train_gpt2.c"
gcc -Ofast -Wno-unused-result -march=native -fopenmp -DOMP "$work/train_gpt2.c" -lm -o "$work/train_gpt2"
/usr/bin/python3 "$root/reference/llmc/make_inputs.py" "$work"
for round in 1 2; do
  echo "== llm.c, $(uptime)"
  (cd "$work" && OMP_NUM_THREADS=2 /usr/bin/time -f "llm.c: user %U s, sys %S s, wall %e s" ./train_gpt2 | grep -E "^step")
  echo "== jllm, $(uptime)"
  JLLM_JAVA_OPTS="-Xmx8g" "$root/bin/jllm" bench --train --config gpt2-124m -b 4 --seq 64 -t 2 -r 5 --warmup 1
done
