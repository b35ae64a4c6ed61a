#!/usr/bin/env python3
"""run-guest.py - the self-checking guest programs in tests/guest/<arch>/.

Each NAME.c is compiled static with the cross compiler, then run under
qemu-aarch64 (the reference) and under emu-user in every requested tier.
A test passes in a tier when emu-user's stdout and exit status (or the
signal it died by) equal the reference's and, if NAME.expected exists, the
stdout equals that file too.  A source may say, in a comment:
    // guest-args: a b c      arguments to pass
    // guest-stdin: text      what to feed on stdin
    // guest-env: K=V ...     environment for the emu-user runs (tuning knobs)
    // guest-no-reference: why   qemu cannot run it: NAME.expected and exit 0 are
                              the reference
Prints "FAIL: name [tier] (why)" per failure, followed by the last 40 lines of
that emu-user run's stdout and stderr, and, last, "N passed, N failed".

  run-guest.py --emu build/bin/emu-user [--tier template --tier interp] [--out DIR]
"""
import argparse, concurrent.futures as cf, os, re, shlex, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))

def compile_one(src, out_dir, cc):
    exe = os.path.join(out_dir, os.path.basename(src)[:-2])
    if os.path.exists(exe) and os.path.getmtime(exe) >= os.path.getmtime(src):
        return exe, None
    r = subprocess.run([cc, "-static", "-O2", "-g0", "-o", exe, src, "-lm", "-lpthread"],
                       capture_output=True, text=True)
    return (exe, None) if r.returncode == 0 else (None, r.stderr.strip()[-500:])

def directives(src):
    text = open(src, errors="replace").read()
    args = re.search(r"//\s*guest-args:\s*(.*)", text)
    stdin = re.search(r"//\s*guest-stdin:\s*(.*)", text)
    env = re.search(r"//\s*guest-env:\s*(.*)", text)
    noref = re.search(r"//\s*guest-no-reference:", text)
    return (shlex.split(args.group(1)) if args else [],
            (stdin.group(1) + "\n").encode() if stdin else b"",
            dict(kv.split("=", 1) for kv in shlex.split(env.group(1))) if env else {},
            bool(noref))

def run(cmd, stdin, cwd, timeout, env=None):
    """(exit status or "timeout", stdout, stderr); a timeout keeps what was written."""
    try:
        r = subprocess.run(cmd, input=stdin, capture_output=True, cwd=cwd, timeout=timeout,
                           env=dict(os.environ, **env) if env else None)
        return r.returncode, r.stdout, r.stderr
    except subprocess.TimeoutExpired as e:
        return "timeout", e.stdout or b"", e.stderr or b""

TAIL_LINES = 40

def print_tail(what, data):
    """The last TAIL_LINES lines of a captured stream, indented, for the CI log."""
    lines = data.decode(errors="replace").splitlines()
    if not lines:
        print(f"    --- {what}: empty"); return
    cut = len(lines) - TAIL_LINES
    print(f"    --- {what} (last {min(len(lines), TAIL_LINES)} of {len(lines)} lines)"
          if cut > 0 else f"    --- {what}")
    for line in lines[max(cut, 0):]:
        print("    " + line)

def describe(rc):
    if rc == "timeout": return "timeout"
    return f"signal {-rc}" if rc < 0 else f"exit {rc}"

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--emu", required=True)
    ap.add_argument("--tier", action="append")
    ap.add_argument("--arch", default="aarch64")
    ap.add_argument("--out", default="build/guest")
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--qemu", default="qemu-aarch64")
    ap.add_argument("tests", nargs="*", help="only these test names")
    a = ap.parse_args()
    tiers = a.tier or ["template", "interp"]
    src_dir = os.path.join(HERE, a.arch)
    out_dir = os.path.abspath(os.path.join(a.out, a.arch))
    os.makedirs(out_dir, exist_ok=True)
    emu = os.path.abspath(a.emu)
    srcs = sorted(os.path.join(src_dir, f) for f in os.listdir(src_dir) if f.endswith(".c"))
    if a.tests:
        srcs = [s for s in srcs if os.path.basename(s)[:-2] in a.tests]
    cc = {"aarch64": "aarch64-linux-gnu-gcc"}[a.arch]
    passed = failed = 0
    with cf.ThreadPoolExecutor(a.jobs) as pool:
        built = list(pool.map(lambda s: compile_one(s, out_dir, cc), srcs))
        jobs = []
        for src, (exe, err) in zip(srcs, built):
            name = os.path.basename(src)[:-2]
            if exe is None:
                print(f"FAIL: {name} (does not compile: {err})"); failed += 1; continue
            args, stdin, env, noref = directives(src)
            work = os.path.join(out_dir, name + ".d")
            os.makedirs(work, exist_ok=True)
            if noref:
                ref = cf.Future()
                ref.set_result((0, open(src[:-2] + ".expected", "rb").read(), b""))
            else:
                ref = pool.submit(run, [a.qemu, exe] + args, stdin, work, a.timeout)
            for t in tiers:
                jobs.append((name, t, src, ref,
                             pool.submit(run, [emu, f"--tier={t}", exe] + args, stdin, work, a.timeout,
                                         env)))
        for name, tier, src, ref, fut in jobs:
            (rrc, rout, _), (erc, eout, eerr) = ref.result(), fut.result()
            exp_file = src[:-2] + ".expected"
            why = None
            if os.path.exists(exp_file) and rout != open(exp_file, "rb").read():
                why = "reference output differs from .expected (test is stale)"
            elif erc != rrc:
                why = f"{describe(erc)}, reference {describe(rrc)}"
            elif eout != rout:
                why = "stdout differs from reference"
            if why:
                print(f"FAIL: {name} [{tier}] ({why})"); failed += 1
                print_tail("emu stdout", eout)
                print_tail("emu stderr", eerr)
            else:
                passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0

if __name__ == "__main__":
    sys.exit(main())
