#!/bin/bash
# bench/run.sh - every benchmark, side by side with qemu and native.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 bench/user-bench.py "$@"
[[ -x bench/block/run.sh ]] && bench/block/run.sh || true
