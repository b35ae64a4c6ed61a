#!/bin/bash
# emu-aot.sh - emu-aot end to end.
#   emu-aot.sh static EMU_AOT GUEST   a static guest program: exit 0, a plausible
#                                     summary; bad ELF files: one line, exit 1
#   emu-aot.sh dynamic EMU_AOT        python3.11 of the Debian corpus with -L
#                                     (exit 77 = skipped without the corpus)
# CORPUS=/var/tmp/emu-corpus (made by ../shared/corpus/setup-corpus.sh).
set -uo pipefail
MODE=$1 AOT=$2
CORPUS=${CORPUS:-/var/tmp/emu-corpus}
W=$(mktemp -d /tmp/emu-aot-test.XXXXXX)
trap 'rm -rf "$W"' EXIT
export EMU_CACHE_DIR=$W/cache
fail=0
die() { echo "FAIL: $*"; fail=1; }

# summary "... N modules, B blocks (...): T translated, A already there, R refused; ..."
check_summary() {   # log min_modules min_blocks
    local line mods blocks trans
    line=$(grep -E '^emu-aot: .*: [0-9]+ modules, [0-9]+ blocks' "$1" | tail -1)
    [[ -n $line ]] || { die "no summary line"; cat "$1"; return; }
    mods=$(sed -E 's/.*: ([0-9]+) modules,.*/\1/' <<<"$line")
    blocks=$(sed -E 's/.* ([0-9]+) blocks \(.*/\1/' <<<"$line")
    trans=$(sed -E 's/.*\): ([0-9]+) translated, ([0-9]+) already there,.*/\1+\2/' <<<"$line")
    trans=$((trans))
    echo "$line"
    ((mods >= $2)) || die "$mods modules, expected at least $2"
    ((blocks >= $3)) || die "$blocks blocks, expected at least $3"
    ((trans * 100 >= blocks * 99)) || die "only $trans of $blocks blocks translated"
}

# a bad file: exit 1 and exactly one line "emu-aot: FILE: reason"
check_bad() {   # file what
    "$AOT" -q "$1" >"$W/out" 2>"$W/err"
    local st=$?
    ((st == 1)) || die "$2: exit status $st, expected 1 ($(head -c 300 "$W/err"))"
    [[ $(wc -l <"$W/err") -eq 1 ]] || { die "$2: expected one line"; cat "$W/err"; }
    grep -qE "^emu-aot: $1: .+" "$W/err" || die "$2: bad message: $(cat "$W/err")"
}

# After emu-aot, emu-user must load (nearly) every block from the cache.
# Skipped (not failed) when this runtime stores no template blocks.
check_warm() {   # max_translated emu-user-args...
    local max=$1; shift
    local EMU_USER
    EMU_USER=$(dirname "$AOT")/emu-user
    [[ -x $EMU_USER ]] || { echo "note: no emu-user next to emu-aot: warm check skipped"; return; }
    # the translator id (cache key) must be the same: a partial rebuild
    # (ninja emu-aot) leaves an older emu-user behind
    local id_aot id_user
    id_aot=$(EMU_CACHE=ro "$AOT" -q -d cache "$@" 2>&1 >/dev/null | grep -m1 'build "' | sed 's/.*build //')
    id_user=$(EMU_CACHE=ro "$EMU_USER" -d cache "$@" 2>&1 >/dev/null | grep -m1 'build "' | sed 's/.*build //')
    if [[ $id_aot != "$id_user" ]]; then
        echo "note: emu-user and emu-aot come from different builds (rebuild both): warm check skipped"
        return
    fi
    "$EMU_USER" --stats "$@" >/dev/null 2>"$W/warm"
    if ! grep -q 'cache template blocks' "$W/warm"; then
        echo "note: this runtime caches no template blocks: warm check skipped"; return
    fi
    local n
    n=$(awk '/blocks translated/{print $3; exit}' "$W/warm")
    echo "emu-user after emu-aot: $n blocks translated; $(grep 'cache template blocks' "$W/warm" | sed 's/^ *//')"
    ((n <= max)) || die "emu-user after emu-aot translated $n blocks (at most $max expected; both built from the same sources? -d cache shows the translator id)"
}

case $MODE in
static)
    GUEST=$3
    "$AOT" -v "$GUEST" >"$W/out" 2>"$W/log"; st=$?
    ((st == 0)) || { die "exit status $st"; cat "$W/log"; }
    [[ ! -s $W/out ]] || die "the guest ran (stdout: $(head -c 100 "$W/out"))"
    check_summary "$W/log" 1 5000
    # again, on the filled cache: a cached block at the entry must not get
    # past the stop there (the runtime probes read_code before the cache)
    "$AOT" -q --jobs 1 "$GUEST" >"$W/out" 2>"$W/log"; st=$?
    ((st == 0)) && [[ ! -s $W/log ]] || die "-q: status $st, output $(cat "$W/log")"
    [[ ! -s $W/out ]] || die "second run: the guest ran (stdout: $(head -c 100 "$W/out"))"
    check_warm 5 "$GUEST"
    # bad files
    check_bad "$W/missing" "missing file"
    printf 'not an elf at all\n' >"$W/text"; check_bad "$W/text" "text file"
    cp /bin/true "$W/x86"; check_bad "$W/x86" "x86-64 ELF"
    size=$(stat -c %s "$GUEST")
    for cut in 0 10 64 100 1000 $((size / 3)) $((size / 2)) $((size - 100)) $((size - 1)); do
        head -c "$cut" "$GUEST" >"$W/cut$cut"; chmod +x "$W/cut$cut"
        check_bad "$W/cut$cut" "truncated at $cut"
    done
    # a guest that never reaches its entry: its "ld.so" faults, or exits
    if command -v aarch64-linux-gnu-gcc >/dev/null; then
        mkdir -p "$W/ci/root"
        printf '.globl _start\n_start:\n mov x0, #0\n ldr x1, [x0]\n' >"$W/ci/crash.S"
        printf '.globl _start\n_start:\n mov x0, #3\n mov x8, #93\n svc #0\n' >"$W/ci/exit.S"
        for k in crash exit; do
            aarch64-linux-gnu-gcc -nostdlib -static -Wl,-Ttext=0x10000000 \
                -o "$W/ci/root/$k-interp" "$W/ci/$k.S" &&
            aarch64-linux-gnu-gcc -O2 -o "$W/ci/dyn-$k" "$(dirname "$0")/aot-guest.c" \
                -Wl,--dynamic-linker=/$k-interp || { die "cannot build the $k interpreter"; continue; }
            "$AOT" -q -L "$W/ci/root" "$W/ci/dyn-$k" >"$W/out" 2>"$W/err"; st=$?
            ((st == 1)) && grep -q "^emu-aot: $W/ci/dyn-$k: the program .* before reaching its entry point" "$W/err" ||
                die "$k before the entry: status $st: $(cat "$W/err")"
        done
    fi
    # corrupted copies: never a crash (status 0 or 1, or the guest's own
    # fault signal if a flipped byte in code is reached before the entry)
    for seed in 1 2 3 4 5 6 7 8; do
        python3 - "$GUEST" "$W/flip" "$seed" <<'PY'
import random, sys
d = bytearray(open(sys.argv[1], "rb").read()); r = random.Random(int(sys.argv[3]))
for _ in range(4):
    at = r.randrange(0, 64) if r.random() < 0.5 else len(d) - 1 - r.randrange(0, 2048)
    d[at] ^= r.randrange(1, 256)
open(sys.argv[2], "wb").write(d)
PY
        chmod +x "$W/flip"
        timeout 60 "$AOT" -q "$W/flip" >/dev/null 2>"$W/err"; st=$?
        ((st == 0 || st == 1)) || die "corrupted copy (seed $seed): status $st: $(head -c 300 "$W/err")"
        ((st == 1)) && ! grep -qE "^emu-aot: " "$W/err" && die "corrupted copy (seed $seed): no reason"
    done
    ;;
dynamic)
    ROOT=$CORPUS/arm64-root
    PROG=$ROOT/usr/bin/python3.11
    if [[ ! -x $PROG || ! -e $ROOT/lib/ld-linux-aarch64.so.1 ]]; then
        echo "SKIPPED: no Debian arm64 corpus at $ROOT (run ../shared/corpus/setup-corpus.sh)"
        exit 77
    fi
    "$AOT" -v -L "$ROOT" "$PROG" -c 'print("the program ran")' >"$W/out" 2>"$W/log"; st=$?
    ((st == 0)) || { die "exit status $st"; cat "$W/log"; }
    [[ ! -s $W/out ]] || die "the program ran past its entry point: $(head -c 100 "$W/out")"
    check_summary "$W/log" 4 100000
    check_warm 100 -L "$ROOT" "$PROG" -c pass
    grep -q 'libc.so.6: bias' "$W/log" || die "libc.so.6 was not among the modules"
    # a library missing: ld.so says so, the guest exits before its entry: exit 1
    mkdir -p "$W/root/lib" "$W/root/usr/bin"
    cp "$ROOT/lib/ld-linux-aarch64.so.1" "$W/root/lib/" && cp "$PROG" "$W/root/usr/bin/"
    "$AOT" -q -L "$W/root" "$W/root/usr/bin/python3.11" 2>"$W/err"; st=$?
    ((st == 1)) && grep -q "^emu-aot: .*before reaching its entry point" "$W/err" ||
        die "missing library: status $st: $(cat "$W/err")"
    # without -L the interpreter cannot be found: one line, exit 1
    EMU_LD_PREFIX= "$AOT" -q "$PROG" 2>"$W/err"; st=$?
    ((st == 1)) && [[ $(wc -l <"$W/err") -eq 1 ]] && grep -q "^emu-aot: $PROG: interpreter" "$W/err" ||
        die "no -L: status $st: $(cat "$W/err")"
    ;;
*)
    echo "usage: $0 static EMU_AOT GUEST | dynamic EMU_AOT" >&2
    exit 2
    ;;
esac
((fail == 0)) && echo "PASS: emu-aot $MODE"
exit $fail
