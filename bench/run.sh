#!/bin/bash
# bench/run.sh - every benchmark, side by side with qemu and native.
set -euo pipefail
cd "$(dirname "$0")/.."
# both user-mode tiers worth comparing; a fresh code cache so that the auto
# column is what a user sees (first run cold, later runs warm)
export EMU_CACHE_DIR=${EMU_CACHE_DIR:-$(mktemp -d /tmp/emu-bench-cache.XXXXXX)}
python3 bench/user-bench.py --tier template --tier auto "$@"
[[ -x bench/cache-bench.sh ]] && bench/cache-bench.sh || true
[[ -x bench/block/run.sh ]] && bench/block/run.sh || true
