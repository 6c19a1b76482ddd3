#!/usr/bin/env bash
# Downloads the corpus of jllm's embedded default model from Debian's package registry and writes it as plain text.
# Never committed: the model is trained from it, the text itself stays out of the repository.
#
#   Debian package fortunes-zh (GPL-3.0+ compilation; the poems themselves are public domain, written 618-1279):
#     tang300  the Three Hundred Tang Poems (唐诗三百首)  -> tang.txt   (pretraining)
#     song100  a hundred Song poems (宋诗一百首)           -> song.txt   (the LoRA adapter's style)
#   each also split into *-train.txt and *-heldout.txt (every 10th poem held out)
#
# usage: reference/default-model/prepare_corpus.sh OUT_DIR
set -euo pipefail
out="${1:?usage: prepare_corpus.sh OUT_DIR}"
mkdir -p "$out"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download fortunes-zh >/dev/null) || {
  echo "prepare_corpus: 'apt-get download fortunes-zh' failed (run 'apt-get update' first?)" >&2; exit 1; }
dpkg-deb -x "$work"/fortunes-zh_*.deb "$work/x"
src="$work/x/usr/share/games/fortunes"
# Each fortune: an ANSI-coloured title line, an author line, then the poem; entries are separated by '%'.
# Keep the poem lines only, one poem per paragraph, and drop the colour codes.
clean() {
  sed -e 's/\x1b\[[0-9;]*m//g' -e 's/\r//g' "$1" | awk '
    /^%$/ { if (n) print ""; n = 0; head = 0; next }
    { head++ }
    head <= 2 { next }                     # title and author lines
    { gsub(/^[ \t\xe3\x80\x80]+|[ \t]+$/, ""); if (length($0)) { print; n++ } }
    END { if (n) print "" }'
}
clean "$src/tang300" > "$out/tang.txt"
clean "$src/song100" > "$out/song.txt"
cp "$work/x/usr/share/doc/fortunes-zh/copyright" "$out/copyright.fortunes-zh"
# Every 10th poem is held out for measuring the model (tang-heldout.txt, song-heldout.txt).
split() {
  awk -v train="$out/$1-train.txt" -v held="$out/$1-heldout.txt" '
    BEGIN { RS = ""; ORS = "\n\n" }
    { if (NR % 10 == 0) print > held; else print > train }' "$out/$1.txt"
}
split tang
split song
echo "prepare_corpus: $(wc -c < "$out/tang.txt") bytes of Tang poems, $(wc -c < "$out/song.txt") bytes of Song poems in $out" >&2
