#!/bin/bash
# run.sh [SECONDS] - builds the qcow2 libFuzzer target with clang
# (-fsanitize=fuzzer,address,undefined) and runs it for SECONDS (default 30)
# on a copy of the seed corpus tests/fuzz/seeds/.  Exits nonzero on a crash.
#   tests/fuzz/run.sh 30          what CI runs
#   tests/fuzz/run.sh --seeds     regenerate tests/fuzz/seeds/ (tiny images)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${FUZZ_OUT:-/var/tmp/emu-fuzz}
mkdir -p "$out"
CC=${CC:-clang}
srcs=()
for f in block raw mem qcow2 qcow2-header qcow2-create qcow2-cache qcow2-cluster qcow2-refcount \
         qcow2-compress qcow2-check; do srcs+=("$root/machine/block/$f.c"); done
libs=(-lz -lzstd -lm -lpthread)
if [[ ${1:-} == --seeds ]]; then
    "$CC" -O1 -g -I"$root" -DQCOW2_FUZZ_MAKE_SEEDS -o "$out/make-seeds" "$here/qcow2_fuzz.c" \
        "${srcs[@]}" "${libs[@]}"
    mkdir -p "$here/seeds"
    "$out/make-seeds" "$here/seeds"
    ls -l "$here/seeds"
    exit 0
fi
secs=${1:-30}
if ! echo 'int LLVMFuzzerTestOneInput(const char*d,long n){return 0;}' |
     "$CC" -fsanitize=fuzzer -x c - -o "$out/probe" 2>/dev/null; then
    echo "SKIP: $CC cannot build libFuzzer targets (install clang)"
    exit 77
fi
echo "building the qcow2 fuzz target..."
"$CC" -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$root" -o "$out/qcow2_fuzz" "$here/qcow2_fuzz.c" "${srcs[@]}" "${libs[@]}"
corpus="$out/corpus"
mkdir -p "$corpus"
cp "$here"/seeds/* "$corpus"/
echo "fuzzing for ${secs}s on $(ls "$here/seeds" | wc -l) seeds (+ $(($(ls "$corpus" | wc -l) - $(ls "$here/seeds" | wc -l))) kept from earlier runs)"
cd "$out"
ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
    ./qcow2_fuzz -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 "$corpus" 2>&1 | grep -vE '^(#[0-9]+.*(NEW|REDUCE|pulse)|"|###)' | tail -15
status=${PIPESTATUS[0]}
if [[ $status -ne 0 ]]; then echo "FAIL: fuzzer found a crash (see $out/crash-*)"; exit 1; fi
echo "fuzz: 1 passed, 0 failed"
