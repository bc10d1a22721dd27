#!/bin/sh
# Builds the Go test programs into build/go/ (repository root relative):
#   gomaps-debug  with -gcflags=all=-N -l (no optimisation, no inlining)
#   gomaps-opt    Go's default optimised build
#   hashvec       the runtime's own hashes of chosen keys (tests/core/test_gohash.py)
# DWARF is left as Go's linker emits it (compressed by default). Idempotent:
# go build only relinks when a source changed. Needs only the standard library.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$root/build/go"
GO=${GO:-/usr/lib/go-1.19/bin/go}
mkdir -p "$out"
export GOPROXY=off GOFLAGS= GO111MODULE=on CGO_ENABLED=0
export GOCACHE="${GOCACHE:-$root/build/go/cache}"
cd "$here/gomaps"
"$GO" build -gcflags='all=-N -l' -o "$out/gomaps-debug" .
"$GO" build -o "$out/gomaps-opt" .
cd "$here/hashvec"
"$GO" build -o "$out/hashvec" .
echo "built $out/gomaps-debug $out/gomaps-opt $out/hashvec"
