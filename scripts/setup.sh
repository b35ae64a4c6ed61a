#!/bin/bash
# setup.sh - install the Debian 12 packages emu needs to build, test and
# benchmark.  Idempotent and quick when everything is present.  Needs root
# (or sudo) only when something is missing.
set -euo pipefail

PKGS=(build-essential cmake ninja-build pkg-config python3
      llvm-19-dev libllvm19 clang libclang-rt-14-dev bc strace
      libzstd-dev zstd libelf-dev libxxhash-dev libfdt-dev zlib1g-dev check libsubunit-dev
      gcc-aarch64-linux-gnu libc6-dev-arm64-cross
      qemu-user qemu-utils)

missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
    echo "[setup] installing: ${missing[*]}" >&2
    SUDO=; [[ $(id -u) -ne 0 ]] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "[setup] build dependencies present" >&2
