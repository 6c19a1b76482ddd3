#!/usr/bin/env bash
# Downloads the corpus of jllm's embedded default model from the npm registry and writes it as plain text.
# Never committed: the model is trained from it, the text itself stays out of the repository.
#
#   npm package chinese-poetry@2.0.1 (MIT licence for the compilation, (c) 2016 JackeyGao; the poems themselves are
#   public domain, written 618-1279):
#     dist/quantangshi/poet.tang.*.json  the Complete Tang Poems (全唐诗), 57,603 poems, traditional characters
#                                        -> tang.txt  (pretraining)
#     dist/songci/ci.song.*.json         the Complete Song Ci (全宋词), 21,053 ci, simplified characters
#                                        -> ci.txt    (the LoRA adapter's style: lines of uneven length set to tunes)
#   Both are converted to simplified characters with npm's opencc-js@1.4.2 (MIT and Apache-2.0; OpenCC's traditional
#   -> mainland tables), so the corpus is in one script. Titles and authors are dropped: one poem per paragraph.
#   Each is split deterministically into *-train.txt and *-heldout.txt (every 100th poem held out).
#
# Both tarballs are pinned by version and checked against their registry sha512 integrity before use.
# usage: reference/default-model/prepare_corpus.sh OUT_DIR
set -euo pipefail
out="${1:?usage: prepare_corpus.sh OUT_DIR}"
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$out"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
for tool in npm node openssl; do
  command -v "$tool" >/dev/null || { echo "prepare_corpus: '$tool' is needed (npm and node >= 18)" >&2; exit 1; }
done

# fetch NAME VERSION SHA512_BASE64: npm pack into $work, check integrity, extract into $work/NAME
fetch() {
  local tgz="$1-$2.tgz"
  (cd "$work" && npm pack --silent "$1@$2" >/dev/null) || { echo "prepare_corpus: 'npm pack $1@$2' failed" >&2; exit 1; }
  local got; got="sha512-$(openssl dgst -sha512 -binary "$work/$tgz" | base64 -w0)"
  if [ "$got" != "$3" ]; then
    echo "prepare_corpus: $tgz has integrity $got, expected $3" >&2; exit 1
  fi
  mkdir -p "$work/$1" && tar xzf "$work/$tgz" -C "$work/$1"
}
fetch chinese-poetry 2.0.1 'sha512-KtYARvV7CWNtax0na9+Jn6PlhGgSoid7PWyDzXI4KsCEm2odZcqEQyval5koaLygZnM/EQ3lfJ//25K8p3uHNg=='
fetch opencc-js 1.4.2 'sha512-EdcspgdROiCCZDM+jZR6Pa670xW+EW2QhctPBQ8gRjg6lrx4IHEl+2s+kt5izk/TkxVRgdWuFgaGkaEdIUfdaw=='

src="$work/chinese-poetry/package/dist"
occ="$work/opencc-js/package"
# Files in numeric order of their first poem (poet.tang.0, poet.tang.1000, ...), so the poem order is the book's.
node "$here/extract_poems.mjs" "$occ" "$out/tang.txt" $(ls "$src"/quantangshi/poet.tang.*.json | sort -V)
node "$here/extract_poems.mjs" "$occ" "$out/ci.txt" $(ls "$src"/songci/ci.song.[0-9]*.json | sort -V)
cp "$work/chinese-poetry/package/LICENSE" "$out/LICENSE.chinese-poetry"
cp "$work/opencc-js/package/LICENSE" "$out/LICENSE.opencc-js"

# Every 100th poem is held out for measuring the model (tang-heldout.txt, ci-heldout.txt).
split() {
  awk -v train="$out/$1-train.txt" -v held="$out/$1-heldout.txt" '
    BEGIN { RS = ""; ORS = "\n\n" }
    { if (NR % 100 == 0) print > held; else print > train }' "$out/$1.txt"
}
split tang
split ci
echo "prepare_corpus: $(wc -c < "$out/tang.txt") bytes of Tang poems, $(wc -c < "$out/ci.txt") bytes of Song ci in $out" >&2
