#!/bin/bash
# check.sh - every test: unit tests (ctest), guest programs, gcc c-torture.
#   scripts/check.sh           the suite CI runs (all of c-torture at -O1 and
#                              -O2 in the interpreter, template and auto tiers,
#                              every 16th test at -O2 under --tier=llvm)
#   scripts/check.sh --full    also -O0, -O3 and -Os, all of -O1/-O2 under
#                              --tier=llvm, the Debian programs under llvm
# --tier=auto runs with EMU_HOT_THRESHOLD=20 so that short tests tier up too.
# Ends with one line "N passed, N failed" summing the suites.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
CORPUS=${CORPUS:-/var/tmp/emu-corpus}
SHARED=${SHARED:-../shared}
FULL=0; [[ ${1:-} == --full ]] && FULL=1
JOBS=$(nproc)
total_pass=0 total_fail=0 suites_failed=()

# Adds "N passed, N failed" from a suite's output to the totals.
count() { # name logfile status
    local line p f
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$2" | tail -1)
    p=$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$line"); f=$(sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$line")
    total_pass=$((total_pass + ${p:-0})); total_fail=$((total_fail + ${f:-0}))
    if [[ $3 -ne 0 ]]; then suites_failed+=("$1"); [[ -z $line ]] && total_fail=$((total_fail + 1)); fi
}
LOGS=$BUILD/test-logs; mkdir -p "$LOGS"
# The code cache is on by default: every run below stores into (and later
# runs load from) a cache of this test run only.
export EMU_CACHE_DIR=$(cd "$BUILD" && pwd)/test-cache
rm -rf "$EMU_CACHE_DIR"

echo "== unit tests (ctest)"
ctest --test-dir "$BUILD" --output-on-failure -j "$JOBS" 2>&1 | tee "$LOGS/ctest.log"; st=${PIPESTATUS[0]}
p=$(grep -oE '[0-9]+ tests failed out of [0-9]+' "$LOGS/ctest.log" | awk '{print $5-$1" passed, "$1" failed"}')
[[ -z $p ]] && p=$(grep -qE '100% tests passed, 0 tests failed out of [0-9]+' "$LOGS/ctest.log" &&
    grep -oE 'out of [0-9]+' "$LOGS/ctest.log" | tail -1 | awk '{print $3" passed, 0 failed"}')
echo "$p" >>"$LOGS/ctest.log"; count ctest "$LOGS/ctest.log" "$st"

echo "== guest programs (tests/guest/aarch64)"
EMU_HOT_THRESHOLD=20 python3 tests/guest/run-guest.py --emu "$BUILD/bin/emu-user" --out "$BUILD/guest" \
    --tier template --tier interp --tier auto --tier llvm 2>&1 | tee "$LOGS/guest.log"
count guest "$LOGS/guest.log" "${PIPESTATUS[0]}"
echo "== guest programs again, template tier, on the code cache the first pass left"
python3 tests/guest/run-guest.py --emu "$BUILD/bin/emu-user" --out "$BUILD/guest-warm" \
    --tier template 2>&1 | tee "$LOGS/guest-warm.log"
count guest-warm "$LOGS/guest-warm.log" "${PIPESTATUS[0]}"

echo "== qcow2 parser fuzzing (libFuzzer, 30 s on the seed corpus)"
tests/fuzz/run.sh 30 2>&1 | tail -5 | tee "$LOGS/fuzz.log"; st=${PIPESTATUS[0]}
if [[ $st -eq 0 ]]; then echo "1 passed, 0 failed" >>"$LOGS/fuzz.log"; else echo "0 passed, 1 failed" >>"$LOGS/fuzz.log"; fi
count fuzz "$LOGS/fuzz.log" "$st"

if [[ ! -d $CORPUS/torture-src/execute || ! -s $CORPUS/data/text8m || ! -d $CORPUS/arm64-root ]]; then
    if [[ -f $SHARED/corpus/setup-corpus.sh ]]; then
        echo "== building the guest corpus (once; Debian packages, data, c-torture sources)"
        bash "$SHARED/corpus/setup-corpus.sh" || true
    fi
fi

debian_tiers=(template interp auto); (( FULL )) && debian_tiers+=(llvm)
for tier in "${debian_tiers[@]}"; do
    echo "== Debian arm64 programs vs qemu-aarch64, tier $tier"
    EMU_HOT_THRESHOLD=50 tests/guest/debian-programs.sh "$tier" "$BUILD/bin/emu-user" 2>&1 | tee "$LOGS/debian-$tier.log"
    st=${PIPESTATUS[0]}
    if [[ $st -eq 77 ]]; then suites_failed+=("debian-$tier (skipped: corpus missing)")
    else count "debian-$tier" "$LOGS/debian-$tier.log" "$st"; fi
done
if [[ -d $CORPUS/torture-src/execute ]]; then
    runs=("template 1 1" "template 2 1" "interp 1 1" "interp 2 1" "auto 1 1" "auto 2 1")
    if (( FULL )); then
        runs+=("template 0 1" "template 3 1" "template s 1" "interp 0 1" "interp 3 1" "interp s 1"
               "auto 0 1" "auto 3 1" "auto s 1" "llvm 1 1" "llvm 2 1")
    else
        runs+=("llvm 2 16")
    fi
    for r in "${runs[@]}"; do
        read -r tier opt subset <<<"$r"
        echo "== c-torture -O$opt, tier $tier$( ((subset > 1)) && echo ", every ${subset}th test")"
        EMU_HOT_THRESHOLD=20 python3 tests/guest/torture.py --emu "$BUILD/bin/emu-user" --tier "$tier" -O "$opt" \
            --subset "$subset" --out "$BUILD/torture" --corpus "$CORPUS" 2>&1 | tee "$LOGS/torture-$tier-O$opt.log"
        count "torture-$tier-O$opt" "$LOGS/torture-$tier-O$opt.log" "${PIPESTATUS[0]}"
    done
else
    echo "c-torture: SKIPPED: no $CORPUS/torture-src and no $SHARED/corpus/setup-corpus.sh to build it"
    suites_failed+=("torture (missing corpus)")
fi

echo
if (( ${#suites_failed[@]} )); then echo "failing suites: ${suites_failed[*]}"; fi
echo "$total_pass passed, $total_fail failed"
(( ${#suites_failed[@]} == 0 ))
