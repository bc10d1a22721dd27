#!/usr/bin/env bash
# Install what is needed (Debian 12, as root), build every preset, run every test:
# engine and sample tests (CTest: debug, ASan+UBSan at -O0 and at -O2 -DNDEBUG,
# release), gomapcore unit tests,
# and the integration tests that drive real gdb and lldb-16 on the samples and
# on Go 1.19 programs. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

step() { printf '\n==== %s\n' "$*"; }

step "dependencies"
bash scripts/install-deps.sh

step "build: debug"
bash scripts/build.sh debug
step "test: debug (ctest)"
ctest --preset debug -j "$(nproc)"

step "build: asan"
bash scripts/build.sh asan
step "test: asan (ctest)"
ctest --preset asan -j "$(nproc)"
# The release build's inline fast paths (NDEBUG only) under the sanitizers.
step "build: asan-release"
bash scripts/build.sh asan-release
step "test: asan-release (ctest)"
ctest --preset asan-release -j "$(nproc)"

if [ -f tests/go/build.sh ]; then
  step "build: Go 1.19 test programs"
  bash tests/go/build.sh
fi

if [ -f bench/CMakeLists.txt ]; then
  step "build: release (engine tests over the inline fast paths; benchmarks, smoke run only)"
  bash scripts/build.sh release
  # The release build has its own inline fast paths (NDEBUG): the engine's
  # tests run over them too.
  step "test: release (ctest)"
  ctest --preset release -j "$(nproc)"
  if [ -x bench/smoke.sh ]; then bash bench/smoke.sh; fi
fi

step "test: gomapcore and integration (pytest)"
export PYTHONDONTWRITEBYTECODE=1
/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/core tests/integration
