#!/usr/bin/env python3
"""torture.py - gcc's c-torture execute suite as a guest conformance test.

Compiles gcc.c-torture/execute (and ieee/) from gcc-12-source for AArch64
(static, -O LEVEL), caches the binaries, runs every test under qemu-aarch64
once (the reference, cached) and under emu-user in the given tier.  A test
that passes under qemu must pass under emu; one that fails under qemu too
is listed as skipped.  Before the suite it runs the canaries in
tests/guest/torture-canary/ (programs that abort, exit 3, hang) through the
same judging code and stops with an error unless each is reported FAIL:
the runner proves it can fail.

  torture.py --emu build/bin/emu-user --tier template -O 2 [--subset K] [--jobs N]
Output: "FAIL: name (why)" lines, then "N passed, N failed, N skipped".
The c-torture sources come from $CORPUS/torture-src (../shared/corpus/setup-corpus.sh).
"""
import argparse, concurrent.futures as cf, os, re, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
CC = "aarch64-linux-gnu-gcc"
TRIPLE = "aarch64"

def dg_options(path):
    """Options from the test's dg-options/dg-additional-options comments that
    apply to this target (no target selector, or one naming aarch64)."""
    opts = []
    text = open(path, errors="replace").read()
    for m in re.finditer(r'\{\s*dg-(?:additional-)?options\s+(?:"([^"]*)"|\{\s*"([^"]*)"\s*\})(\s*\{\s*target[^}]*\}?[^}]*\})?', text):
        o, sel = m.group(1) or m.group(2) or "", m.group(3)
        if sel and (TRIPLE + "-") not in sel and "aarch64" not in sel:
            continue
        opts += o.split()
    return opts

def compile_test(src, exe, opt, extra):
    if os.path.exists(exe) or os.path.exists(exe + ".cfail"):
        return
    cmd = [CC, "-static", f"-O{opt}", "-w"] + dg_options(src) + extra + [src, "-o", exe + ".tmp", "-lm"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode == 0:
        os.replace(exe + ".tmp", exe)
    else:
        open(exe + ".cfail", "w").write(r.stderr)

def run_test(cmd, timeout, cwd):
    """Returns (verdict, why): verdict True = pass (exit status 0)."""
    try:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired:
        return False, f"timeout {timeout}s"
    if r.returncode == 0:
        return True, ""
    return False, (f"signal {-r.returncode}" if r.returncode < 0 else f"exit {r.returncode}")

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--emu", required=True)
    ap.add_argument("--tier", default="template")
    ap.add_argument("-O", dest="opt", default="1")
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--subset", type=int, default=1, help="run every K-th test (CI)")
    ap.add_argument("--no-ieee", action="store_true")
    ap.add_argument("--out", default="build/torture")
    ap.add_argument("--corpus", default=os.environ.get("CORPUS", "/var/tmp/emu-corpus"))
    ap.add_argument("--qemu", default="qemu-aarch64")
    a = ap.parse_args()
    emu = os.path.abspath(a.emu)
    src_root = os.path.join(a.corpus, "torture-src", "execute")
    if not os.path.isdir(src_root):
        print(f"torture.py: no {src_root}: run ../shared/corpus/setup-corpus.sh first", file=sys.stderr)
        return 2
    out = os.path.abspath(os.path.join(a.out, f"aarch64-O{a.opt}"))
    os.makedirs(os.path.join(out, "ieee"), exist_ok=True)
    stamp = os.path.join(out, ".stamp")
    ver = subprocess.run([CC, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    if not os.path.exists(stamp) or open(stamp).read() != ver:
        for root, _, files in os.walk(out):
            for f in files: os.unlink(os.path.join(root, f))
        open(stamp, "w").write(ver)

    tests = sorted(f[:-2] for f in os.listdir(src_root) if f.endswith(".c"))
    if not a.no_ieee:
        tests += sorted("ieee/" + f[:-2] for f in os.listdir(os.path.join(src_root, "ieee")) if f.endswith(".c"))
    tests = tests[::a.subset]

    with cf.ThreadPoolExecutor(a.jobs) as pool:
        # 1. the runner must be able to fail
        canary_dir = os.path.join(HERE, "torture-canary")
        cexe = os.path.join(out, "canary"); os.makedirs(cexe, exist_ok=True)
        for c in sorted(os.listdir(canary_dir)):
            exe = os.path.join(cexe, c[:-2])
            if os.path.exists(exe + ".cfail"): os.unlink(exe + ".cfail")
            if os.path.exists(exe): os.unlink(exe)
            compile_test(os.path.join(canary_dir, c), exe, a.opt, [])
            ok, why = run_test([emu, f"--tier={a.tier}", exe], 3, cexe)
            if ok or not os.path.exists(exe):
                print(f"torture.py: runner self-check broken: canary {c} was not reported FAIL", file=sys.stderr)
                return 2
            print(f"self-check: canary {c[:-2]} reported FAIL ({why}) as it must")

        # 2. compile (cached)
        todo = [t for t in tests if not (os.path.exists(os.path.join(out, t)) or os.path.exists(os.path.join(out, t) + ".cfail"))]
        if todo:
            print(f"compiling {len(todo)} tests at -O{a.opt} ...", file=sys.stderr)
            list(pool.map(lambda t: compile_test(os.path.join(src_root, t + ".c"), os.path.join(out, t), a.opt,
                                                 ["-fno-inline"] if t.startswith("ieee/") else []), todo))
        runnable = [t for t in tests if os.path.exists(os.path.join(out, t))]

        # 3. reference results under qemu (cached per test)
        def ref(t):
            f = os.path.join(out, t) + ".qemu"
            if not os.path.exists(f):
                ok, why = run_test([a.qemu, os.path.join(out, t)], a.timeout, out)
                open(f, "w").write("pass" if ok else "fail " + why)
            return open(f).read().startswith("pass")
        ref_ok = dict(zip(runnable, pool.map(ref, runnable)))

        # 4. emu
        def emu_run(t):
            return run_test([emu, f"--tier={a.tier}", os.path.join(out, t)], a.timeout, out)
        todo = [t for t in runnable if ref_ok[t]]
        results = dict(zip(todo, pool.map(emu_run, todo)))
    passed = failed = 0
    for t in todo:
        ok, why = results[t]
        if ok: passed += 1
        else:
            failed += 1; print(f"FAIL: {t} ({why})")
    skipped = [t for t in runnable if not ref_ok[t]]
    cfail = len(tests) - len(runnable)
    print(f"tier {a.tier}, -O{a.opt}: {len(tests)} tests, {cfail} do not compile, "
          f"{len(skipped)} fail under qemu too (skipped){': ' + ' '.join(skipped) if skipped else ''}")
    print(f"{passed} passed, {failed} failed, {len(skipped)} skipped")
    return 1 if failed or not passed else 0

if __name__ == "__main__":
    sys.exit(main())
