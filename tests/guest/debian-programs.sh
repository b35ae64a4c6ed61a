#!/bin/bash
# debian-programs.sh - real dynamically linked Debian arm64 programs under
# emu-user, compared with qemu-aarch64 (stdout and exit status must match).
#
#   tests/guest/debian-programs.sh [TIER] [EMU]
#     TIER   interp | template | llvm | auto (default template)
#     EMU    the emu-user binary (default $BUILD/bin/emu-user, BUILD=build)
#   CORPUS=/var/tmp/emu-corpus (arm64-root and data/text8m, made by
#   ../shared/corpus/setup-corpus.sh)
#
# Prints "FAIL: name (why)" per mismatch and ends with "N passed, N failed"
# (exit 1 if any failed).  Without the corpus or qemu-aarch64 it prints
# "SKIPPED: ..." and exits 77.  Every check takes a few seconds at most.
set -uo pipefail
cd "$(dirname "$0")/../.."
TIER=${1:-template}
EMU=${2:-${BUILD:-build}/bin/emu-user}
CORPUS=${CORPUS:-/var/tmp/emu-corpus}
ROOT=$CORPUS/arm64-root
DATA=$CORPUS/data/text8m

case $TIER in interp|template|llvm|auto) ;; *) echo "usage: $0 [interp|template|llvm|auto] [emu-user]" >&2; exit 2 ;; esac
if [[ ! -x $ROOT/usr/bin/zstd || ! -f $DATA ]]; then
    echo "SKIPPED: no Debian arm64 corpus at $ROOT (run ../shared/corpus/setup-corpus.sh)"
    exit 77
fi
if ! command -v qemu-aarch64 >/dev/null; then
    echo "SKIPPED: qemu-aarch64 (the reference) is not installed"
    exit 77
fi
if [[ ! -x $EMU ]]; then
    echo "FAIL: setup ($EMU is not built)"
    echo "0 passed, 1 failed"
    exit 1
fi
EMU=$(realpath "$EMU")

W=$(mktemp -d /tmp/emu-debian.XXXXXX)
trap 'rm -rf "$W"' EXIT
pass=0 fail=0
t0=$(date +%s%N)
took() { # seconds since the previous check ended, into $dt
    local t=$(date +%s%N)
    dt=$(printf '%d.%d s' $(((t - t0) / 1000000000)) $(((t - t0) / 100000000 % 10))); t0=$t
}
ok() { pass=$((pass + 1)); took; echo "ok: $1 ($dt)"; }
bad() { fail=$((fail + 1)); took; echo "FAIL: $1 ($2)"; }

# --tier=llvm compiles every block before it runs (python3: ~40k blocks, about
# two minutes): its time limits are 20 times longer.
T=1; [[ $TIER == llvm ]] && T=20
emu() { timeout $((120 * T)) "$EMU" --tier="$TIER" -L "$ROOT" "$@"; }
qemu() { timeout 120 qemu-aarch64 -L "$ROOT" "$@"; }

# same NAME STDIN PROG ARGS...: run under both, compare stdout and status.
same() {
    local name=$1 in=$2; shift 2
    emu "$@" <"$in" >"$W/$name.emu" 2>"$W/$name.emu.err"; local se=$?
    qemu "$@" <"$in" >"$W/$name.qemu" 2>/dev/null; local sq=$?
    if [[ $se -ne $sq ]]; then
        bad "$name" "exit status $se, qemu $sq: $(head -c 300 "$W/$name.emu.err" | tr '\n' ' ')"
        return 1
    fi
    if ! cmp -s "$W/$name.emu" "$W/$name.qemu"; then
        bad "$name" "stdout differs from qemu's: $(diff "$W/$name.emu" "$W/$name.qemu" 2>&1 | head -4 | tr '\n' ' ' | head -c 300)"
        return 1
    fi
    if [[ ! -s $W/$name.qemu ]]; then
        bad "$name" "no output at all"
        return 1
    fi
    return 0
}

head -c 100000 "$DATA" >"$W/text100k"
head -c 200000 "$DATA" >"$W/text200k"

# zstd -19 with two worker threads: identical frames, then a round trip.
if same zstd-19-T2 "$W/text100k" "$ROOT/usr/bin/zstd" -19 -T2 -c; then
    if emu "$ROOT/usr/bin/zstd" -d -c <"$W/zstd-19-T2.emu" | cmp -s - "$W/text100k"; then
        ok zstd-19-T2
    else
        bad zstd-19-T2 "decompressing under emu does not give the input back"
    fi
fi

# xz with two threads (blocks of 100 KB so both threads work).
if same xz-T2 "$W/text200k" "$ROOT/usr/bin/xz" -T2 --block-size=100000 -5 -c; then
    if emu "$ROOT/usr/bin/xz" -d -c <"$W/xz-T2.emu" | cmp -s - "$W/text200k"; then
        ok xz-T2
    else
        bad xz-T2 "decompressing under emu does not give the input back"
    fi
fi

# sqlite3 on a file (locks, fsync): a table filled in one transaction, an
# index, aggregates.  Each run starts by dropping the table.
cat >"$W/work.sql" <<'EOF'
DROP TABLE IF EXISTS t;
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, grp INTEGER, val REAL);
BEGIN;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 5000)
INSERT INTO t(name, grp, val) SELECT 'n' || x, x % 17, x * 1.5 FROM c;
COMMIT;
CREATE INDEX t_grp ON t(grp);
SELECT grp, count(*), sum(val), avg(val), min(name), max(name) FROM t GROUP BY grp ORDER BY grp;
SELECT count(*) FROM t WHERE name LIKE 'n1%';
SELECT printf('%.3f', sqrt(avg(val*val) - avg(val)*avg(val))) FROM t;
SELECT group_concat(id, ',') FROM (SELECT id FROM t ORDER BY val DESC LIMIT 10);
UPDATE t SET val = val / 3 WHERE grp = 5;
SELECT total(val), typeof(total(val)) FROM t WHERE grp = 5;
EOF
same sqlite3 "$W/work.sql" "$ROOT/usr/bin/sqlite3" "$W/db.sqlite" && ok sqlite3

# lua5.4: recursion, table sort, string patterns, integer/float arithmetic.
cat >"$W/bench.lua" <<'EOF'
local function fib(n) if n < 2 then return n end return fib(n-1) + fib(n-2) end
local t = {}
for i = 1, 50000 do t[i] = (i * 7919) % 100003 end
table.sort(t)
local s = 0
for i = 1, #t, 100 do s = s + t[i] end
local words = {}
for w in string.gmatch(string.rep("the quick brown fox jumps over the lazy dog ", 500), "%a+") do
  words[w] = (words[w] or 0) + 1
end
local keys = {} for k in pairs(words) do keys[#keys+1] = k end table.sort(keys)
for _, k in ipairs(keys) do io.write(k, "=", words[k], " ") end print()
print(fib(20), s, string.format("%.6f", math.sin(1.234) * math.sqrt(2)), 2^53 // 3, 7 // 2, 7.5 % 2)
os.exit(3)
EOF
same lua5.4 /dev/null "$ROOT/usr/bin/lua5.4" "$W/bench.lua" && ok lua5.4

# python3.11 -c: json, re, hashlib, threads.
read -r -d '' PY <<'EOF'
import json, re, hashlib, threading, sys
d = {"a": [1, 2.5, None, True], "b": {"c": "x\u00e9"}, "n": list(range(20))}
s = json.dumps(d, sort_keys=True)
print(s, json.loads(s) == d)
print(re.findall(r"(\w+)@(\w+)\.com", "bob@ex.com, amy@corp.com; x@y.org"))
print(re.sub(r"\d+", lambda m: str(int(m.group()) * 2), "a1 b22 c333"))
h = hashlib.sha256()
for i in range(100): h.update(str(i).encode())
print(h.hexdigest(), hashlib.md5(b"abc").hexdigest(), hashlib.sha1(b"x" * 10000).hexdigest())
res = [0] * 4
lock = threading.Lock()
total = [0]
def work(k):
    acc = sum((i * k) % 7 for i in range(1000))
    res[k] = acc
    with lock: total[0] += acc
ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
for t in ts: t.start()
for t in ts: t.join()
print(res, total[0], sys.version_info[:2])
EOF
same python3.11 /dev/null "$ROOT/usr/bin/python3.11" -c "$PY" && ok python3.11

# busybox (static) shell: absolute paths resolve under -L like qemu's.
same busybox-sh /dev/null "$ROOT/bin/busybox" sh -c \
    'echo hi; ls /usr/bin | wc -l; echo $((3*7)); printf "%s\n" b a c | sort; exit 3' && ok busybox-sh

# execve of another guest program keeps -L (qemu-aarch64 without binfmt_misc
# cannot run it, so the expected output is fixed).
out=$(emu "$ROOT/bin/busybox" sh -c '/usr/bin/lua5.4 -e "print(_VERSION, 6 * 7)"; echo "status $?"' 2>&1)
if [[ $out == $'Lua 5.4\t42\nstatus 0' ]]; then
    ok execve-keeps-L
else
    bad execve-keeps-L "got: $(head -c 200 <<<"$out" | tr '\n' ' ')"
fi

# execve of a "#!" script whose interpreter is a guest program.
printf '#!/usr/bin/lua5.4 -W\nprint("script", arg[0], arg[1], #arg)\n' >"$W/s.lua"
chmod +x "$W/s.lua"
out=$(cd "$W" && emu "$ROOT/bin/busybox" sh -c './s.lua x; echo "status $?"' 2>&1)
if [[ $out == $'script\t./s.lua\tx\t1\nstatus 0' ]]; then
    ok execve-script
else
    bad execve-script "got: $(head -c 200 <<<"$out" | tr '\n' ' ')"
fi

# A dynamic program without -L: one error line, status 1.
timeout $((20 * T)) "$EMU" --tier="$TIER" "$ROOT/usr/bin/zstd" --version >"$W/noL.out" 2>"$W/noL.err"; st=$?
if [[ $st -eq 1 && ! -s $W/noL.out && $(wc -l <"$W/noL.err") -eq 1 ]] && grep -q interpreter "$W/noL.err"; then
    ok no-L-error
else
    bad no-L-error "status $st, stderr: $(head -c 200 "$W/noL.err")"
fi

# A corrupt interpreter under the root: one error line, status 1.
mkdir -p "$W/badroot/lib"
head -c 100 "$ROOT/usr/bin/zstd" >"$W/badroot/lib/ld-linux-aarch64.so.1"
timeout $((20 * T)) "$EMU" --tier="$TIER" -L "$W/badroot" "$ROOT/usr/bin/zstd" --version >"$W/bad.out" 2>"$W/bad.err"; st=$?
if [[ $st -eq 1 && ! -s $W/bad.out && $(wc -l <"$W/bad.err") -eq 1 ]]; then
    ok corrupt-interpreter
else
    bad corrupt-interpreter "status $st, stderr: $(head -c 200 "$W/bad.err")"
fi

# -cpu: AT_HWCAP (auxv entry 16) seen by the guest through /proc/self/auxv.
hwcap() { # cpu -> the guest's AT_HWCAP in hex
    timeout $((20 * T)) "$EMU" --tier="$TIER" -L "$ROOT" -cpu "$1" "$ROOT/usr/bin/python3.11" -c '
import struct
a = open("/proc/self/auxv", "rb").read()
print(hex(dict(struct.iter_unpack("<QQ", a)).get(16, -1)))'
}
h53=$(hwcap cortex-a53 2>&1) hmax=$(hwcap max 2>&1)
# cortex-a53: FP|ASIMD|CRC32 = 0x83; max adds ATOMICS (0x100) and CPUID (0x800).
if [[ $h53 == 0x83 && $hmax == 0x983 ]]; then
    ok cpu-hwcap
else
    bad cpu-hwcap "cortex-a53 AT_HWCAP '$h53' (want 0x83), max '$hmax' (want 0x983)"
fi

# -cpu: MIDR_EL1 as read by MRS (needs the cross compiler for a probe).
if command -v aarch64-linux-gnu-gcc >/dev/null; then
    printf '%s\n' '#include <stdio.h>' \
        'int main(void) { unsigned long m; __asm__ volatile("mrs %0, midr_el1" : "=r"(m));' \
        '  printf("%lx\n", m); return 0; }' >"$W/midr.c"
    if aarch64-linux-gnu-gcc -O2 -o "$W/midr" "$W/midr.c" 2>"$W/midr.err"; then
        m53=$(timeout $((20 * T)) "$EMU" --tier="$TIER" -L "$ROOT" -cpu cortex-a53 "$W/midr" 2>&1)
        mmax=$(EMU_CPU=max timeout $((20 * T)) "$EMU" --tier="$TIER" -L "$ROOT" "$W/midr" 2>&1)
        if [[ $m53 == 410fd034 && $mmax == 410fd083 ]]; then
            ok cpu-midr
        else
            bad cpu-midr "cortex-a53 MIDR '$m53' (want 410fd034), max '$mmax' (want 410fd083)"
        fi
    else
        bad cpu-midr "cannot compile the probe: $(head -c 200 "$W/midr.err")"
    fi
fi

# zstd and xz single-threaded: identical output to qemu's, then a round trip.
for spec in "zstd-3-T1 zstd -3 -T1" "xz-T1 xz -T1 -3"; do
    set -- $spec; name=$1 prog=$2; shift 2
    if same "$name" "$W/text200k" "$ROOT/usr/bin/$prog" "$@" -c; then
        if emu "$ROOT/usr/bin/$prog" -d -c <"$W/$name.emu" | cmp -s - "$W/text200k"; then
            ok "$name"
        else
            bad "$name" "decompressing under emu does not give the input back"
        fi
    fi
done

# busybox (static) applets on the text corpus and on generated tables.  Each
# applet is the program itself: inside "busybox sh -c" qemu-aarch64 would
# run the host's sort/tar/... (it cannot exec a guest binary itself).
BB=$ROOT/bin/busybox
awk 'BEGIN { for (i = 1; i <= 3000; i++) printf "%d k%05d %s %.2f\n", (i * 7919) % 1009, (i * 31) % 4001, substr("abcdefghij", i % 10 + 1, 3), i / 7 }' \
    >"$W/table"
head -c 30000 "$DATA" | fold -w 60 >"$W/lines"
same bb-sort "$W/table" "$BB" sort -k3,3 -k1,1nr && same bb-sort-u "$W/table" "$BB" sort -u -k2,2 &&
    same bb-sort-g "$W/table" "$BB" sort -t" " -k4,4g -r && ok bb-sort
same bb-awk "$W/lines" "$BB" awk '{ for (i = 1; i <= NF; i++) c[$i]++; n += NF }
    END { for (w in c) if (c[w] > 8) print c[w], w;
          printf "%d words, %d lines, %.4f per line\n", n, NR, n / NR; print length("x" sprintf("%05.1f", 3.14159)), toupper(substr($0, 2, 5)), index($0, "e") }' && ok bb-awk
same bb-sed "$W/lines" "$BB" sed -n -e 's/\([aeiou]\)\([a-z]*\) /[\2\1] /g' -e '/zero/{s/zero/0/gp;}' -e '10,12p' -e '$=' && ok bb-sed
same bb-grep-c "$W/lines" "$BB" grep -c the && same bb-grep-E "$W/lines" "$BB" grep -n -E "(one|two) [a-z]+ (three|four|one|two)" &&
    same bb-grep-o "$W/lines" "$BB" grep -o -E "th[a-z]+|[a-z]+ld" && same bb-grep-v "$W/lines" "$BB" grep -v -i -c "E" && ok bb-grep
same bb-sha256sum "$W/text200k" "$BB" sha256sum && same bb-sha1sum "$W/text200k" "$BB" sha1sum &&
    same bb-md5sum "$W/text200k" "$BB" md5sum && ok bb-sha256sum
# gzip: identical compressed bytes, then gunzip under emu gives the input back.
if same bb-gzip "$W/text200k" "$BB" gzip -9 -c; then
    if emu "$BB" gunzip -c <"$W/bb-gzip.emu" | cmp -s - "$W/text200k"; then
        ok bb-gzip
    else
        bad bb-gzip "gunzip under emu does not give the input back"
    fi
fi
# tar: identical archives of a small tree (fixed mtimes), the same verbose
# listing, and extraction under emu gives the tree back.
mkdir -p "$W/tree/d1/d2" "$W/untar" && cp "$W/table" "$W/tree/d1/table" && cp "$W/lines" "$W/tree/d1/d2/lines" &&
    printf 'x\n' >"$W/tree/small" && ln -sf d1/table "$W/tree/link" &&
    touch -h -d '2024-01-02 03:04:05' "$W/tree"/d1/d2/* "$W/tree"/d1/* "$W/tree"/* "$W/tree"
if same bb-tar /dev/null "$BB" tar -C "$W" -cf - tree && same bb-tar-tv "$W/bb-tar.emu" "$BB" tar -tvf -; then
    if emu "$BB" tar -C "$W/untar" -xf - <"$W/bb-tar.emu" && diff -r "$W/tree" "$W/untar/tree" >/dev/null; then
        ok bb-tar
    else
        bad bb-tar "extracting under emu does not give the tree back"
    fi
fi
# a shell script: functions, loops, case, here-documents, subshells,
# command substitution, arithmetic, traps, a background job and wait.
cat >"$W/script.sh" <<'SCRIPT'
set -u
fib() { if [ "$1" -lt 2 ]; then echo "$1"; else echo $(( $(fib $(($1 - 1))) + $(fib $(($1 - 2))) )); fi; }
trap 'echo "trap on exit, status $?"' EXIT
for w in alpha beta gamma 42 ""; do
    case $w in
        a*) echo "a-word $w" ;;
        [0-9]*) echo "number $((w * 2))" ;;
        "") echo empty ;;
        *) echo "other ${w%a}/${#w}" ;;
    esac
done
echo "fib 9 = $(fib 9)"
i=0; while [ $i -lt 5 ]; do i=$((i + 1)); [ $i -eq 3 ] && continue; printf '%s,' $i; done; echo
( cd /; echo "subshell in $(pwd)"; exit 7 ); echo "subshell status $?"
cat <<END | tr a-z A-Z
here doc $((6 * 7)) ${HOME:+home-set}
END
sleep 0.05 & bg=$!; wait $bg; echo "background status $?"
x=$(echo "a b c" | { read -r p q r; echo "$r$q$p"; }); echo "$x"
exit 5
SCRIPT
same bb-sh-script /dev/null "$BB" sh "$W/script.sh" && ok bb-sh-script

# Threads share translated code: eight threads running the same worker
# translate about as many blocks as one (per-thread code would add the
# worker's blocks seven more times).  Blocks counted by --stats.
if command -v aarch64-linux-gnu-gcc >/dev/null; then
    cat >"$W/shared.c" <<'C'
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static int cmp(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }
static void *work(void *arg)
{
    long k = (long)arg, acc = 0;
    int v[500];
    char buf[64];
    for (int i = 0; i < 500; i++) v[i] = (int)((i * 7919 + k) % 1009);
    qsort(v, 500, sizeof *v, cmp);
    for (int i = 0; i < 50; i++) {
        snprintf(buf, sizeof buf, "%d %.3f %lx", v[i], v[i] / 3.0, (long)v[i] << 20);
        acc += (long)strtod(buf + 4, NULL) + (long)strlen(buf);
    }
    return (void *)acc;
}
int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1;
    pthread_t t[16];
    long sum = 0;
    for (int i = 0; i < n && i < 16; i++) pthread_create(&t[i], NULL, work, (void *)(long)i);
    for (int i = 0; i < n && i < 16; i++) { void *r; pthread_join(t[i], &r); sum += (long)r; }
    printf("%d threads: %ld\n", n, sum);
    return 0;
}
C
    if aarch64-linux-gnu-gcc -O2 -static -o "$W/shared" "$W/shared.c" -lpthread 2>"$W/shared.err"; then
        blocks() { timeout $((20 * T)) "$EMU" --tier="$TIER" --stats --no-cache "$W/shared" "$1" 2>&1 >/dev/null | awk '/blocks translated/ { print $3 }'; }
        b0=$(blocks 0) b1=$(blocks 1) b8=$(blocks 8)
        if [[ $b0 =~ ^[0-9]+$ && $b1 =~ ^[0-9]+$ && $b8 =~ ^[0-9]+$ ]] && (( b1 - b0 > 200 && (b8 - b1) * 4 < b1 - b0 )) &&
            [[ $(timeout $((20 * T)) "$EMU" --tier="$TIER" "$W/shared" 8) == "$(qemu "$W/shared" 8)" ]]; then
            ok threads-share-code
        else
            bad threads-share-code "blocks translated: 0 threads '$b0', 1 thread '$b1', 8 threads '$b8'"
        fi
    else
        bad threads-share-code "cannot compile the probe: $(head -c 200 "$W/shared.err")"
    fi
fi

# An unimplemented syscall returns ENOSYS and -d unimp names it.
if command -v aarch64-linux-gnu-gcc >/dev/null; then
    printf '%s\n' '#include <errno.h>' '#include <stdio.h>' '#include <unistd.h>' \
        'int main(void) { long r = syscall(0 /* io_setup */, 1, 0);' \
        '  printf("%ld %s\n", r, errno == ENOSYS ? "ENOSYS" : "other"); return 0; }' >"$W/unimp.c"
    if aarch64-linux-gnu-gcc -O2 -static -o "$W/unimp" "$W/unimp.c" 2>"$W/unimp.err"; then
        out=$(timeout $((20 * T)) "$EMU" --tier="$TIER" -d unimp -D "$W/unimp.log" "$W/unimp" 2>&1)
        if [[ $out == "-1 ENOSYS" ]] && grep -q 'Unsupported syscall: 0 (io_setup)' "$W/unimp.log"; then
            ok unimp-syscall
        else
            bad unimp-syscall "got '$out', log: $(head -c 200 "$W/unimp.log" 2>/dev/null)"
        fi
    else
        bad unimp-syscall "cannot compile the probe: $(head -c 200 "$W/unimp.err")"
    fi
fi

# A corrupt PT_INTERP: a missing interpreter, a path without its NUL, a
# segment outside the file.  Each: one error line, status 1.
if python3 - "$ROOT/usr/bin/zstd" "$W" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
i = d.index(b"/lib/ld-linux-aarch64.so.1\0")
missing = bytearray(d); missing[i + 25] = ord("X")
nonul = bytearray(d); nonul[i + 26] = ord("y")
outside = bytearray(d)
phoff, = struct.unpack_from("<Q", d, 0x20)
phnum, = struct.unpack_from("<H", d, 0x38)
for k in range(phnum):
    o = phoff + 56 * k
    if struct.unpack_from("<I", d, o)[0] == 3:   # PT_INTERP: p_offset, p_filesz
        struct.pack_into("<Q", outside, o + 8, len(d) + 4096)
        struct.pack_into("<Q", outside, o + 32, 1 << 40)
for name, data in (("missing", missing), ("nonul", nonul), ("outside", outside)):
    open(f"{sys.argv[2]}/interp-{name}", "wb").write(data)
PY
then
    msgs=""
    for kind in missing nonul outside; do
        chmod +x "$W/interp-$kind"
        timeout $((20 * T)) "$EMU" --tier="$TIER" -L "$ROOT" "$W/interp-$kind" --version >"$W/ip.out" 2>"$W/ip.err"; st=$?
        if [[ $st -ne 1 || -s $W/ip.out || $(wc -l <"$W/ip.err") -ne 1 ]]; then
            msgs+="$kind: status $st, stderr $(head -c 100 "$W/ip.err" | tr '\n' ' '); "
        fi
    done
    [[ -z $msgs ]] && ok corrupt-interp-path || bad corrupt-interp-path "$msgs"
else
    bad corrupt-interp-path "cannot make the corrupt binaries"
fi

# Guest descriptors are host descriptors, but emu's own are out of reach: a
# shell that closes its fd 2 and opens a file there gets none of emu's
# messages, and emu's --stats still reach emu's stderr.
emu --stats "$ROOT/bin/busybox" sh -c "exec 2>&-; exec 2>'$W/guest-fd2'; echo hi" >"$W/fd2.out" 2>"$W/fd2.err"; st=$?
if [[ $st -eq 0 && $(cat "$W/fd2.out") == hi && ! -s $W/guest-fd2 ]] && grep -q "emu stats" "$W/fd2.err"; then
    ok guest-closes-stderr
else
    bad guest-closes-stderr "status $st, guest's file $(wc -c <"$W/guest-fd2") bytes, emu stderr: $(head -c 100 "$W/fd2.err" | tr '\n' ' ')"
fi

# close_range(3, ~0) in the guest (os.closerange) leaves emu's code cache
# packs open: a warm run loads its blocks, none is taken for corrupt.
if [[ $TIER == template || $TIER == auto ]]; then
    (
        export EMU_CACHE_DIR=$W/cache-closerange
        P='import os; os.closerange(3, 1 << 30); import json; print(json.dumps([1, 2]))'
        for i in 1 2; do emu "$ROOT/usr/bin/python3.11" -c "$P" >/dev/null 2>&1; done
        emu --stats "$ROOT/usr/bin/python3.11" -c "$P" >"$W/cr.out" 2>"$W/cr.err"
    )
    if [[ $(cat "$W/cr.out") == "[1, 2]" ]] && grep -q ", 0 corrupt)" "$W/cr.err" &&
       grep -q "template blocks .* [1-9][0-9]* loaded" "$W/cr.err"; then
        ok guest-close-range
    else
        bad guest-close-range "stdout $(head -c 50 "$W/cr.out"), $(grep -h "corrupt\|template blocks" "$W/cr.err" | tr '\n' ' ' | head -c 300)"
    fi
fi

# A missing -L root: one error line, status 1.
timeout $((20 * T)) "$EMU" --tier="$TIER" -L "$W/no-such-root" "$ROOT/usr/bin/zstd" --version >"$W/noroot.out" 2>"$W/noroot.err"; st=$?
if [[ $st -eq 1 && ! -s $W/noroot.out && $(wc -l <"$W/noroot.err") -eq 1 ]]; then
    ok missing-L-root
else
    bad missing-L-root "status $st, stderr: $(head -c 200 "$W/noroot.err")"
fi

echo "$pass passed, $fail failed"
(( fail == 0 ))
