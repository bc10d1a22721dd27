#!/bin/sh
# Build Go 1.19's benchmark peer into build/bench/gobench (standard library only,
# offline). Prints the binary's path; exits 3 if Go 1.19 is not installed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
GO=${GO:-/usr/lib/go-1.19/bin/go}
if [ ! -x "$GO" ]; then
  echo "bench/go/build.sh: Go 1.19 not found at $GO (install golang-1.19)" >&2
  exit 3
fi
out="$root/build/bench"
mkdir -p "$out"
export GOPROXY=off GOFLAGS=-mod=mod GO111MODULE=on CGO_ENABLED=0
export GOCACHE="${GOCACHE:-$root/build/gocache}"
cd "$here"
"$GO" build -o "$out/gobench" .
echo "$out/gobench"
