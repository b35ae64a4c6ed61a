#!/bin/bash
# demo.sh - build the bundled AArch64 example and run it under emu-user,
# once per tier, with --stats.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
mkdir -p "$BUILD/examples"
aarch64-linux-gnu-gcc -static -O2 -o "$BUILD/examples/primes" examples/primes.c
echo "== $BUILD/bin/emu-user --stats $BUILD/examples/primes"
"$BUILD/bin/emu-user" --stats "$BUILD/examples/primes"
echo "== longer, without the code cache (--tier=auto, the default: hot loops recompiled by LLVM on a worker thread)"
"$BUILD/bin/emu-user" --tier=auto --no-cache --stats "$BUILD/examples/primes" 10000000 2>&1 |
    grep -E "primes|tier-up|llvm regions|llvm compile|guest insns executed"
echo "== same under --tier=interp"
"$BUILD/bin/emu-user" --tier=interp "$BUILD/examples/primes" 100000
echo "== reference: qemu-aarch64"
qemu-aarch64 "$BUILD/examples/primes"
