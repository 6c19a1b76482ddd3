#!/usr/bin/env python3
"""The ratio table of a bench/compare.sh run: jllm against llama.cpp's llama-bench on the same files.

usage: bench/compare_table.py OUT_DIR

Per file and test, each round gives one jllm and one llama.cpp avg_ts (mean of that run's repetitions); the ratio
is taken within each round (the two engines ran back to back) and the table shows the mean of those ratios with
their range. The roofline is the best read bandwidth of the --memory test that ends jllm's run of that file and round (a
minute from llama.cpp's run) over the weight bytes one generated token reads (jllm's weight_bytes_per_token, the
same file for both engines); "roof" is the mean of those per-round fractions. A slow bandwidth pass inflates it, so
"jllm / best pass" also gives jllm's mean weight bandwidth over the best pass of the whole run. jllm's peak RSS is its VmHWM read before the bandwidth test; llama.cpp's is
/usr/bin/time's maximum resident set size; both the largest over the rounds.
"""
import glob
import json
import os
import re
import statistics
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def pick(rows, test):
    for o in rows:
        name = o.get("test") or ("pp%d" % o["n_prompt"] if o.get("n_gen", 0) == 0 else "tg%d" % o["n_gen"])
        if name == test:
            return o
    return None


def test_names(rows):
    names = []
    for o in rows:
        names.append("pp%d" % o["n_prompt"] if o.get("n_gen", 0) == 0 else "tg%d" % o["n_gen"])
    return names


def fmt_ratio(rs):
    if not rs:
        return "n/a"
    m = statistics.mean(rs)
    return "%.2f (%.2f-%.2f)" % (m, min(rs), max(rs)) if len(rs) > 1 else "%.2f" % m


def main(out):
    runs = {}
    for p in glob.glob(os.path.join(out, "*.json")):
        m = re.match(r"(jllm|llama)-(.+)-(\d+)\.json$", os.path.basename(p))
        if m and os.path.getsize(p) > 0:
            runs[(m.group(1), m.group(2), int(m.group(3)))] = load(p)
    mem = {}  # (type, round) -> GB/s of the --memory test that ended jllm's run
    for (engine, t, r), rows in runs.items():
        if engine == "jllm":
            for o in rows:
                if "memory_read_gbs" in o:
                    mem[(t, r)] = o["memory_read_gbs"]
    loads = []
    for p in glob.glob(os.path.join(out, "*.load")):
        with open(p) as f:
            loads.append(float(f.read().split()[0]))
    types = sorted({k[1] for k in runs}, key=lambda t: ["F16", "Q8_0", "Q4_0", "Q4_K"].index(t) if t in ["F16", "Q8_0", "Q4_0", "Q4_K"] else 9)
    rounds = sorted({k[2] for k in runs})

    def rss(engine, t):
        vals = []
        for r in rounds:
            p = os.path.join(out, "%s-%s-%d.rss" % (engine, t, r))
            if os.path.exists(p):
                with open(p) as f:
                    txt = f.read().split()
                if txt:
                    vals.append(int(txt[0]) * 1024)
        return max(vals) if vals else None

    def busy(engine, t):
        """CPU time over wall time of the whole process (cores), mean over rounds; None without /usr/bin/time's times."""
        vals = []
        for r in rounds:
            p = os.path.join(out, "%s-%s-%d.rss" % (engine, t, r))
            if os.path.exists(p):
                with open(p) as f:
                    txt = f.read().split()
                if len(txt) >= 4 and float(txt[1]) > 0:
                    vals.append((float(txt[2]) + float(txt[3])) / float(txt[1]))
        return statistics.mean(vals) if vals else None

    lines = []
    best = max(mem.values()) if mem else None
    head = ["file", "test", "jllm t/s", "llama.cpp t/s", "ratio (range)", "roofline t/s", "jllm roof", "llama.cpp roof",
            "jllm / best pass"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join(["---"] * len(head)) + "|")
    mem_lines = []
    for t in types:
        jl0 = next((runs[k] for k in sorted(runs) if k[0] == "jllm" and k[1] == t), None)
        if jl0 is None:
            continue
        for test in test_names(jl0):
            js, ls, ratios, roofs, jf, lf, wb = [], [], [], [], [], [], []
            for r in rounds:
                a, b = runs.get(("jllm", t, r)), runs.get(("llama", t, r))
                ja = pick(a, test) if a else None
                lb = pick(b, test) if b else None
                if ja:
                    js.append(ja["avg_ts"])
                    if test.startswith("tg") and ja.get("weight_bytes_per_token"):
                        wb.append(ja["weight_bytes_per_token"])
                if lb:
                    ls.append(lb["avg_ts"])
                if ja and lb:
                    ratios.append(ja["avg_ts"] / lb["avg_ts"])
                if ja and test.startswith("tg") and (t, r) in mem:
                    roof = mem[(t, r)] * 1e9 / ja["weight_bytes_per_token"]
                    roofs.append(roof)
                    jf.append(ja["avg_ts"] / roof)
                    if lb:
                        lf.append(lb["avg_ts"] / roof)
            row = [t, test,
                   "%.2f" % statistics.mean(js) if js else "n/a",
                   "%.2f" % statistics.mean(ls) if ls else "n/a",
                   fmt_ratio(ratios),
                   "%.2f" % statistics.mean(roofs) if roofs else "",
                   "%.0f%%" % (100 * statistics.mean(jf)) if jf else "",
                   "%.0f%%" % (100 * statistics.mean(lf)) if lf else "",
                   "%.0f%% of %.1f GB/s" % (100 * statistics.mean(js) * wb[0] / 1e9 / best, best) if wb and js and best else ""]
            lines.append("| " + " | ".join(row) + " |")
        o = pick(jl0, test_names(jl0)[-1])
        jr, lr = rss("jllm", t), rss("llama", t)
        jb, lb = busy("jllm", t), busy("llama", t)
        mem_lines.append("| %s | %.0f | %.0f | %s | %s | %s | %s | %s |" % (
            t, o["file_bytes"] / 2**20, o["kv_cache_bytes"] / 2**20,
            "%.0f" % (max(pick(runs[k], test_names(runs[k])[-1])["peak_rss_bytes"] for k in runs if k[0] == "jllm" and k[1] == t) / 2**20),
            "%.0f" % (jr / 2**20) if jr else "n/a", "%.0f" % (lr / 2**20) if lr else "n/a",
            "%.2f" % jb if jb is not None else "n/a", "%.2f" % lb if lb is not None else "n/a"))
    print("\n".join(lines))
    print()
    print("| file | file MiB | jllm KV cache MiB | jllm peak RSS MiB (VmHWM) | jllm max RSS MiB (incl. --memory's 1 GiB) | llama.cpp max RSS MiB | jllm cores busy | llama.cpp cores busy |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(mem_lines))
    print()
    if mem:
        print("read bandwidth (best of %s passes of jllm bench --memory over 1 GiB, right after each jllm run): " % "8"
              + ", ".join("%s/%d %.1f" % (t, r, mem[(t, r)]) for (t, r) in sorted(mem)) + " GB/s")
    if loads:
        print("load average before the runs: mean %.1f, min %.1f, max %.1f (%d runs)" % (statistics.mean(loads), min(loads), max(loads), len(loads)))
    print("rounds: %d; ratio = jllm / llama.cpp within a round, mean (min-max) over rounds" % len(rounds))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: compare_table.py OUT_DIR")
    main(sys.argv[1])
