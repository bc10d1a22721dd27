#!/usr/bin/env bash
# Configure and build one preset (default: debug). Usage: scripts/build.sh [debug|release|asan|asan-release]
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-debug}
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
