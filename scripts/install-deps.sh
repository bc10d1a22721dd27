#!/usr/bin/env bash
# Install everything gomapdbg needs from Debian 12's packages (run as root).
# Safe to run again: apt-get skips what is already installed.
set -euo pipefail
pkgs=(
  g++ cmake ninja-build git
  libboost-program-options-dev doctest-dev libabsl-dev
  gdb lldb-16 python3-lldb-16 python3-pyelftools python3-pytest
  golang-1.19 graphviz
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Never the plain `lldb` package: it would remove lldb-16.
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
