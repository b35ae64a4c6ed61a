#!/usr/bin/env python3
"""user-bench.py - emu-user vs qemu-aarch64 vs native, side by side in one run.

Each workload runs the arm64 build of a Debian program under emu-user and
under qemu-aarch64, and the amd64 build of the same package natively (with
the amd64 root's own loader), interleaved round by round; the table shows
medians and the ratios emu/qemu and emu/native.  Inputs come from the
corpus (../shared/corpus/setup-corpus.sh).

  bench/user-bench.py [--runs 5] [--tier template [--tier auto ...]] [--only NAME ...]

With several --tier options every tier is a column of its own, measured in
the same interleaved rounds; ratios are given against qemu and native for
each, with geometric means.
"""
import argparse, os, shutil, statistics, subprocess, sys, time

CORPUS = os.environ.get("CORPUS", "/var/tmp/emu-corpus")
ARM = f"{CORPUS}/arm64-root"
AMD = f"{CORPUS}/amd64-root"
D = f"{CORPUS}/data"
TEXT2M = "/tmp/emu-bench-text2m"   # the first 2 MiB of text8m (made by main)
NATIVE = [f"{AMD}/lib64/ld-linux-x86-64.so.2", "--library-path",
          f"{AMD}/lib/x86_64-linux-gnu:{AMD}/usr/lib/x86_64-linux-gnu"]

LUA_BENCH = ("local function fib(n) if n < 2 then return n end return fib(n-1) + fib(n-2) end "
             "local t = {} for i = 1, 200000 do t[i] = tostring(i * 7 % 1000) end table.sort(t) "
             "print(fib(27), #t)")
SQL_BENCH = ("create table t(a integer, b text); "
             "with recursive c(x) as (select 1 union all select x+1 from c where x < 300000) "
             "insert into t select x, printf('%08d', x*7919 % 1000003) from c; "
             "create index ti on t(b); select count(*), sum(a), min(b), max(b) from t where b > '0005';")

# name: (program inside the root, args, dynamic?): busybox is static, the
# others are dynamically linked and run with the root's loader and libraries.
WORKLOADS = {
    "sha256sum text64m": ("bin/busybox", ["sha256sum", f"{D}/text64m"], False),
    "gzip -t text64m.gz": ("bin/busybox", ["gzip", "-t", f"{D}/text64m.gz"], False),
    "gzip -c text16m":   ("bin/busybox", ["gzip", "-c", f"{D}/text16m"], False),
    "bzip2 -c text16m":  ("bin/busybox", ["bzip2", "-c", f"{D}/text16m"], False),
    "awk wordfreq text2m": ("bin/busybox", ["awk", "{for (i = 1; i <= NF; i++) n[$i]++} "
                            "END {for (w in n) if (n[w] > 1000) c++; print c}", TEXT2M], False),
    "busybox true":      ("bin/busybox", ["true"], False),
    "zstd -9 text16m":   ("usr/bin/zstd", ["-q", "-9", "-c", f"{D}/text16m"], True),
    "zstd -d text64m.zst": ("usr/bin/zstd", ["-q", "-d", "-c", f"{D}/text64m.zst"], True),
    "xz -3 text8m":      ("usr/bin/xz", ["-3", "-c", f"{D}/text8m"], True),
    "sqlite3 300k rows": ("usr/bin/sqlite3", [":memory:", SQL_BENCH], True),
    "lua5.4 fib+sort":   ("usr/bin/lua5.4", ["-e", LUA_BENCH], True),
}

def timed(cmd):
    t = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed ({r.returncode}): {r.stderr.decode()[-300:]}")
    return dt

def loads_llvm(cmd):
    """True if running cmd opens a libLLVM shared object (design.md invariant 8)."""
    if not shutil.which("strace"):
        return None
    r = subprocess.run(["strace", "-f", "-e", "trace=openat,open", "-o", "/dev/stdout"] + cmd,
                       capture_output=True, text=True)
    return "libLLVM" in r.stdout

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--tier", action="append")
    ap.add_argument("--emu", default="build/bin/emu-user")
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--warmup", type=int, default=2,
                    help="untimed runs of each command first: steady state, as the issue asks "
                         "(--tier=auto learns over runs: the code cache keeps its regions "
                         "and the probe's drop decisions)")
    a = ap.parse_args()
    if not os.path.exists(TEXT2M) and os.path.exists(f"{D}/text8m"):
        with open(f"{D}/text8m", "rb") as src, open(TEXT2M, "wb") as dst:
            dst.write(src.read(2 << 20))
    tiers = a.tier or ["template"]
    emus = {t: [os.path.abspath(a.emu), f"--tier={t}"] for t in tiers}
    bb_arm = f"{ARM}/bin/busybox"
    for p in (bb_arm, f"{AMD}/bin/busybox", f"{D}/text64m"):
        if not os.path.exists(p):
            sys.exit(f"bench: missing {p}: run ../shared/corpus/setup-corpus.sh")
    names = [n for n in WORKLOADS if not a.only or any(o in n for o in a.only)]
    qv = subprocess.run(['qemu-aarch64', '--version'], capture_output=True, text=True).stdout.split(chr(10))[0]
    print(f"# emu-user --tier={','.join(tiers)} vs qemu-aarch64 ({qv}) vs native; median of {a.runs} interleaved runs"
          f" after {a.warmup} untimed")
    hdr = f"{'workload':22} {'native s':>9} {'qemu s':>9}"
    for t in tiers:
        hdr += f" {t + ' s':>11} {'/qemu':>6} {'/native':>7}"
    print(hdr)
    rq = {t: [] for t in tiers}
    rn = {t: [] for t in tiers}
    qn = []
    for n in names:
        prog, args, dynamic = WORKLOADS[n]
        native = (NATIVE if dynamic else []) + [f"{AMD}/{prog}"] + args
        lprefix = ["-L", ARM] if dynamic else []
        cmds = {"native": native, "qemu": ["qemu-aarch64"] + lprefix + [f"{ARM}/{prog}"] + args}
        for t in tiers:
            cmds[t] = emus[t] + lprefix + [f"{ARM}/{prog}"] + args
        times = {k: [] for k in cmds}
        for _ in range(a.warmup):
            for c in cmds.values():
                timed(c)
        for _ in range(a.runs):
            for k, c in cmds.items():
                times[k].append(timed(c))
        m = {k: statistics.median(v) for k, v in times.items()}
        line = f"{n:22} {m['native']:9.3f} {m['qemu']:9.3f}"
        if n != "busybox true":
            qn.append(m["qemu"] / m["native"])
        for t in tiers:
            rq[t].append(m[t] / m["qemu"])
            if n != "busybox true":   # startup-bound: not a compute ratio
                rn[t].append(m[t] / m["native"])
            line += f" {m[t]:11.3f} {m[t] / m['qemu']:6.2f} {m[t] / m['native']:7.2f}"
        print(line, flush=True)
    if qn:
        print(f"geometric mean qemu/native (compute workloads): {statistics.geometric_mean(qn):.2f}")
    for t in tiers:
        if rq[t]:
            print(f"geometric mean {t}: /qemu {statistics.geometric_mean(rq[t]):.2f}"
                  + (f", /native (compute workloads) {statistics.geometric_mean(rn[t]):.2f}" if rn[t] else ""))
    for t in tiers:
        ll = loads_llvm(emus[t] + [bb_arm, "true"])
        print(f"busybox true --tier={t} loads LLVM: {'unknown (no strace)' if ll is None else ('YES' if ll else 'no')}")

if __name__ == "__main__":
    main()
