#!/usr/bin/env bash
# Compiles logits_harness.c against a llama.cpp source tree + CMake build (see README.md in this folder).
#
#   LLAMACPP_DIR  folder holding src/ (llama.cpp sources) and build/ (its CMake build with
#                 -DBUILD_SHARED_LIBS=ON); default /work/llamacpp
#   OUT           output binary; default $LLAMACPP_DIR/build/bin/logits_harness
#   CC            C compiler; default cc
#
# The binary gets an rpath to $LLAMACPP_DIR/build/bin, so it runs without LD_LIBRARY_PATH.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LLAMACPP_DIR="${LLAMACPP_DIR:-/work/llamacpp}"
src_dir="$LLAMACPP_DIR/src"
lib_dir="$LLAMACPP_DIR/build/bin"
OUT="${OUT:-$lib_dir/logits_harness}"
CC="${CC:-cc}"

for f in "$src_dir/include/llama.h" "$src_dir/ggml/include/ggml.h" "$lib_dir/libllama.so"; do
    if [[ ! -e "$f" ]]; then
        echo "build_harness.sh: missing $f (LLAMACPP_DIR=$LLAMACPP_DIR); build llama.cpp first, see $here/README.md" >&2
        exit 1
    fi
done

"$CC" -std=c11 -O2 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L \
    -I"$src_dir/include" -I"$src_dir/ggml/include" \
    "$here/logits_harness.c" -o "$OUT" \
    -L"$lib_dir" -lllama -lggml -lggml-base -lm \
    -Wl,-rpath,"$lib_dir"

echo "$OUT"
