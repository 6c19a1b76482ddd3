#!/usr/bin/env python3
"""Records the tokenizer golden files under src/test/resources/jllm/tokenizer/golden/ with llama.cpp.

llama.cpp is the reference: its `llama-tokenize` tool tokenizes every case of an .inp file (cases separated by
"\\n__ggml_vocab_test__\\n", as in llama.cpp's tests/test-tokenizer-0.cpp) and this script writes one line of
space-separated ids per case, the format of llama.cpp's own .out files.

What it records:
  <vocab>.extra.out          extra.inp on each llamacpp-vocab GGUF; no BOS/EOS, special tokens not parsed
  <vocab>.special.out        special.inp with the model's BOS/EOS rule and special tokens parsed
  <vocab>.special-raw.out    special.inp, no BOS/EOS, special tokens not parsed (user-defined ones still split)
  gpt-2-as-<pre>.out         the shared ggml-vocab-gpt-2.gguf.inp with the GPT-2 vocabulary re-labelled with
                             tokenizer.ggml.pre = <pre>, so every pre-tokenizer regex set is checked
  gpt-2-as-<pre>.extra.out   extra.inp, same re-labelled vocabulary
  splits/<pre>.splits, splits/<pre>.extra.splits
                             the pre-tokenizer's pieces alone (llama.cpp's unicode_regex_split with the regex
                             list of that pre type), one line per case: each piece's length in code points.
                             Recorded by split_harness.cpp (next to this script) when --harness is given.
  llamacpp-unicode.txt       llama.cpp's code point tables (classes, white space, NFD first code point, lower
                             case), by unicode_harness.cpp when --unicode-harness is given.

The split harness is built outside the repo against the same llama.cpp checkout and build:
  g++ -std=c++17 -O1 -I$LLAMA/src -I$LLAMA/include -I$LLAMA/ggml/include reference/tokenizer/split_harness.cpp \
      $LLAMA/src/unicode.cpp $LLAMA/src/unicode-data.cpp -L$BIN -lllama -lggml -lggml-base -Wl,-rpath,$BIN \
      -o /tmp/split_harness

Needs (nothing of it is committed): a llama.cpp checkout and build (llama-tokenize), its gguf-py package
(+ numpy), and the shared test data. Usage:
  python3 reference/tokenizer/record_goldens.py --llama /work/llamacpp/src --bin /work/llamacpp/build/bin \
      --testdata ../shared/testdata
Recorded with llama.cpp c392e5094deaf2d1a7c18683214f007fad3fe42b (b4747), the version that also reproduces
all 46 cases of each shared .out file.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import types

SEP = b"\n__ggml_vocab_test__\n"
VOCABS = ["llama-spm", "phi-3", "gpt-2", "deepseek-llm", "bert-bge", "llama-bpe"]
PRES = ["gpt-2", "default", "llama-bpe", "qwen2", "deepseek-llm", "deepseek-coder", "deepseek-v3", "falcon",
        "starcoder", "mpt", "refact", "smollm", "stablelm2", "dbrx", "bloom", "viking", "tekken",
        "chatglm-bpe", "chameleon"]
HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "..", "..", "src", "test", "resources", "jllm", "tokenizer", "golden")


def split_cases(path):
    raw = open(path, "rb").read()
    cases, pos = [], 0
    while pos < len(raw):
        nxt = raw.find(SEP, pos)
        if nxt < 0:
            cases.append(raw[pos:])
            break
        cases.append(raw[pos:nxt])
        pos = nxt + len(SEP)
    return cases


def tokenize(binary, model, text, add_bos, parse_special):
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(text)
        name = f.name
    try:
        args = [os.path.join(binary, "llama-tokenize"), "-m", model, "-f", name, "--ids", "--no-escape",
                "--log-disable"]
        if not add_bos:
            args.append("--no-bos")
        if not parse_special:
            args.append("--no-parse-special")
        r = subprocess.run(args, capture_output=True, check=True)
    finally:
        os.unlink(name)
    line = r.stdout.decode().strip().splitlines()[-1]
    assert line.startswith("[") and line.endswith("]"), line
    body = line[1:-1].strip()
    return [int(x) for x in body.split(",")] if body else []


def record(binary, model, inp, out, add_bos=False, parse_special=False):
    lines = []
    for case in split_cases(inp):
        ids = tokenize(binary, model, case, add_bos, parse_special)
        lines.append("".join(" " + str(i) for i in ids))
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{os.path.basename(out)}: {len(lines)} cases")


def relabel(gguf, src, dst, pre):
    """Copies a vocab-only GGUF with tokenizer.ggml.pre replaced."""
    reader = gguf.GGUFReader(src)
    arch = bytes(reader.fields["general.architecture"].parts[-1]).decode()
    writer = gguf.GGUFWriter(dst, arch)
    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name == "general.architecture":
            continue
        kind = field.types[0]
        if field.name == "tokenizer.ggml.pre":
            value = pre
        elif kind == gguf.GGUFValueType.ARRAY:
            sub = field.types[-1]
            if sub == gguf.GGUFValueType.STRING:
                value = [bytes(field.parts[i]).decode("utf-8") for i in field.data]
            else:
                value = [v for i in field.data for v in field.parts[i].tolist()]
        elif kind == gguf.GGUFValueType.STRING:
            value = bytes(field.parts[-1]).decode("utf-8")
        else:
            value = field.parts[-1].tolist()[0]
        writer.add_key_value(field.name, value, kind)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    writer.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama", required=True, help="llama.cpp source checkout (for gguf-py)")
    ap.add_argument("--bin", required=True, help="folder holding the built llama-tokenize")
    ap.add_argument("--testdata", required=True, help="the shared testdata folder")
    ap.add_argument("--harness", help="the built split_harness (records the splits/ goldens)")
    ap.add_argument("--only-splits", action="store_true", help="record only the splits/ goldens")
    ap.add_argument("--unicode-harness", help="the built unicode_harness (records llamacpp-unicode.txt)")
    a = ap.parse_args()

    try:
        import sentencepiece  # noqa: F401  (gguf-py imports it; only its writer is used here)
    except ImportError:
        stub = types.ModuleType("sentencepiece")
        stub.SentencePieceProcessor = object
        sys.modules["sentencepiece"] = stub
    sys.path.insert(0, os.path.join(a.llama, "gguf-py"))
    import gguf

    if a.unicode_harness:
        r = subprocess.run([a.unicode_harness], capture_output=True, check=True)
        open(os.path.join(GOLDEN, "llamacpp-unicode.txt"), "wb").write(r.stdout)
        print(f"llamacpp-unicode.txt: {len(r.stdout.splitlines())} lines")
    vocab_dir = os.path.join(a.testdata, "tokenizer", "llamacpp-vocab")
    extra = os.path.join(GOLDEN, "extra.inp")
    special = os.path.join(GOLDEN, "special.inp")
    for v in ([] if a.only_splits else VOCABS):
        model = os.path.join(vocab_dir, f"ggml-vocab-{v}.gguf")
        record(a.bin, model, extra, os.path.join(GOLDEN, f"{v}.extra.out"))
        record(a.bin, model, special, os.path.join(GOLDEN, f"{v}.special.out"), add_bos=True, parse_special=True)
        record(a.bin, model, special, os.path.join(GOLDEN, f"{v}.special-raw.out"))
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(vocab_dir, "ggml-vocab-gpt-2.gguf")
        shared_inp = src + ".inp"
        for pre in PRES:
            dst = os.path.join(tmp, f"gpt-2-as-{pre}.gguf")
            relabel(gguf, src, dst, pre)
            if a.harness:
                os.makedirs(os.path.join(GOLDEN, "splits"), exist_ok=True)
                for inp, suffix in ((shared_inp, ""), (extra, ".extra")):
                    out = os.path.join(GOLDEN, "splits", f"{pre}{suffix}.splits")
                    r = subprocess.run([a.harness, dst, inp], capture_output=True, check=True)
                    open(out, "wb").write(r.stdout)
                    print(f"splits/{os.path.basename(out)}: {len(r.stdout.splitlines())} cases")
            if a.only_splits:
                continue
            record(a.bin, dst, shared_inp, os.path.join(GOLDEN, f"gpt-2-as-{pre}.out"))
            record(a.bin, dst, extra, os.path.join(GOLDEN, f"gpt-2-as-{pre}.extra.out"))


if __name__ == "__main__":
    main()
