#!/usr/bin/env bash
# Runs jllm bench and llama.cpp's llama-bench alternately on the same GGUF files, several rounds, and prints the
# ratio table (bench/compare_table.py). Each round runs every file with both engines, the order of the two engines
# flipping from round to round, so a slow drift of the machine's load hits both alike; ratios are taken within a
# round and then averaged. Each jllm run also measures the read bandwidth (--memory) for the roofline.
#
#   usage: bench/compare.sh            (environment variables below change the defaults)
#     BENCH_DIR   folder of the llama1b-<TYPE>.gguf files (bench/make_files.sh)    default /work/benchfiles
#     TYPES       which files                                                      default "F16 Q8_0 Q4_0 Q4_K"
#     ROUNDS      alternations                                                     default 3
#     REPS        timed repetitions per test and engine (-r)                       default 3
#     THREADS     threads (-t)                                                     default 2
#     P, N        prompt and generated tokens (-p, -n)                             default 512, 128
#     LLAMA_BENCH llama.cpp's llama-bench binary               default /work/llamacpp/build/bin/llama-bench
#     JLLM        the jllm launcher                                                default bin/jllm
#     OUT         where the raw JSON, RSS and load records go     default $BENCH_DIR/results/<date-time>
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${BENCH_DIR:-/work/benchfiles}"
types="${TYPES:-F16 Q8_0 Q4_0 Q4_K}"
rounds="${ROUNDS:-3}"
reps="${REPS:-3}"
threads="${THREADS:-2}"
p="${P:-512}"
n="${N:-128}"
llama_bench="${LLAMA_BENCH:-/work/llamacpp/build/bin/llama-bench}"
jllm="${JLLM:-$root/bin/jllm}"
out="${OUT:-$dir/results/$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
[ -x "$llama_bench" ] || { echo "compare: $llama_bench is not executable (set LLAMA_BENCH)" >&2; exit 1; }
for t in $types; do [ -f "$dir/llama1b-$t.gguf" ] || { echo "compare: $dir/llama1b-$t.gguf missing (bench/make_files.sh)" >&2; exit 1; }; done

{
  echo "date: $(date -Is)"
  echo "host: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo "java: $("${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java" -version 2>&1 | head -1)"
  echo "llama.cpp: $(head -2 /work/llamacpp/VERSION.txt 2>/dev/null | tail -1)"
  echo "settings: types=[$types] rounds=$rounds reps=$reps threads=$threads p=$p n=$n"
  echo "jllm: $jllm ($(git -C "$root" rev-parse --short HEAD 2>/dev/null))"
} > "$out/env.txt"
cat "$out/env.txt" >&2

# run NAME CMD...: records the load before, peak RSS (kB, /usr/bin/time) and the JSON on stdout
run() {
  local name="$1"; shift
  cut -d' ' -f1-3 /proc/loadavg > "$out/$name.load"
  /usr/bin/time -f '%M %e %U %S' -o "$out/$name.rss" "$@" > "$out/$name.json" 2> "$out/$name.err" \
    || { echo "compare: $name failed, see $out/$name.err" >&2; return 1; }
  echo "compare: $name done (load before: $(cat "$out/$name.load"))" >&2
}

# jllm's run ends with its --memory test (after it has read its peak RSS): the read bandwidth a minute from the
# llama.cpp run, which on a shared host moves by up to 2x over an hour, is the roofline of both
for ((r = 1; r <= rounds; r++)); do
  for t in $types; do
    f="$dir/llama1b-$t.gguf"
    jl=(run "jllm-$t-$r" "$jllm" bench -m "$f" -p "$p" -n "$n" -t "$threads" -r "$reps" --json --memory)
    lc=(run "llama-$t-$r" "$llama_bench" -m "$f" -p "$p" -n "$n" -t "$threads" -r "$reps" -o json)
    if (( r % 2 == 1 )); then "${jl[@]}"; "${lc[@]}"; else "${lc[@]}"; "${jl[@]}"; fi
  done
done
python3 "$root/bench/compare_table.py" "$out" | tee "$out/table.md"
