#!/bin/bash
# bench/cache-bench.sh [RUNS] - the code cache of --tier=auto (issue 6):
# first run (fresh cache) vs second run (warm cache) vs --tier=template vs
# qemu-aarch64 vs native, side by side, medians of RUNS (default 3)
# interleaved runs; then the warm run's --stats cache and translation lines.
# Cases: python3 -c pass (startup-bound, dynamic, -L root) and lua5.4
# fib+sort (compute).  EMU (default build/bin/emu-user), CORPUS
# (default /var/tmp/emu-corpus).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
EMU=${EMU:-build/bin/emu-user}
CORPUS=${CORPUS:-/var/tmp/emu-corpus}
export EMU CORPUS RUNS
exec python3 - <<'PY'
import os, statistics, subprocess, tempfile, time, shutil
EMU, CORPUS, RUNS = os.environ["EMU"], os.environ["CORPUS"], int(os.environ["RUNS"])
ARM, AMD = f"{CORPUS}/arm64-root", f"{CORPUS}/amd64-root"
NATIVE = [f"{AMD}/lib64/ld-linux-x86-64.so.2", "--library-path",
          f"{AMD}/lib/x86_64-linux-gnu:{AMD}/usr/lib/x86_64-linux-gnu"]
LUA = ("local function fib(n) if n < 2 then return n end return fib(n-1) + fib(n-2) end "
       "local t = {} for i = 1, 200000 do t[i] = tostring(i * 7 % 1000) end table.sort(t) "
       "print(fib(27), #t)")
CASES = {"python3 -c pass": ("usr/bin/python3.11", ["-c", "pass"]),
         "lua5.4 fib+sort": ("usr/bin/lua5.4", ["-e", LUA])}
tmp = tempfile.mkdtemp(prefix="emu-cache-bench.")
def run(cmd, env=None):
    t = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    dt = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr.decode()[-500:]}")
    return dt, r.stdout, r.stderr.decode()
print(f"# emu-user code cache: medians of {RUNS} interleaved runs (s); cold = --tier=auto on an "
      f"empty cache, warm = --tier=auto on the cache a cold run left")
print(f"{'workload':18} {'native':>8} {'qemu':>8} {'template':>9} {'auto cold':>10} "
      f"{'auto warm':>10} {'warm/cold':>10} {'warm/native':>12}")
notes = []
try:
    for name, (prog, args) in CASES.items():
        emu = [EMU, "-L", ARM]
        cmds = {"native": NATIVE + [f"{AMD}/{prog}"] + args,
                "qemu": ["qemu-aarch64", "-L", ARM, f"{ARM}/{prog}"] + args,
                "template": emu + ["--tier=template", f"{ARM}/{prog}"] + args}
        t = {k: [] for k in ["native", "qemu", "template", "cold", "warm"]}
        outs = {}
        warm_dir = f"{tmp}/warm-{len(notes)}"
        run(emu + ["--tier=auto", "--cache-dir", warm_dir, f"{ARM}/{prog}"] + args)
        for i in range(RUNS):
            for k, c in cmds.items():
                dt, o, _ = run(c)
                t[k].append(dt)
                outs[k] = o
            cold_dir = f"{tmp}/cold-{len(notes)}-{i}"
            dt, o, _ = run(emu + ["--tier=auto", "--cache-dir", cold_dir, f"{ARM}/{prog}"] + args)
            t["cold"].append(dt); outs["cold"] = o
            shutil.rmtree(cold_dir, ignore_errors=True)
            dt, o, _ = run(emu + ["--tier=auto", "--cache=ro", "--cache-dir", warm_dir,
                                  f"{ARM}/{prog}"] + args)
            t["warm"].append(dt); outs["warm"] = o
        for k in ["qemu", "template", "cold", "warm"]:
            if outs[k] != outs["native"]:
                print(f"# WARNING: {name}: {k} output differs from native")
        m = {k: statistics.median(v) for k, v in t.items()}
        print(f"{name:18} {m['native']:8.3f} {m['qemu']:8.3f} {m['template']:9.3f} {m['cold']:10.3f} "
              f"{m['warm']:10.3f} {m['warm']/m['cold']:10.2f} {m['warm']/m['native']:12.2f}")
        _, _, err = run(emu + ["--tier=auto", "--cache=ro", "--stats", "--cache-dir", warm_dir,
                               f"{ARM}/{prog}"] + args)
        keep = [l for l in err.splitlines() if l.startswith("cache") or "cache " in l or
                "translation time" in l or "blocks translated" in l or
                "llvm regions compiled" in l or "guest insns executed" in l]
        notes.append((name, keep))
    for name, keep in notes:
        print(f"# {name}, warm run --stats:")
        for l in keep:
            print("#   " + l.strip())
finally:
    shutil.rmtree(tmp, ignore_errors=True)
PY
