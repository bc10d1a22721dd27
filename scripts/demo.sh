#!/usr/bin/env bash
# The guided demo: install what is needed (Debian 12, as root), build, then watch
# a Go map grow in gdb and in lldb-16, and read a real Go 1.19 program's map.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export LLDB_DEBUGSERVER_PATH=/usr/lib/llvm-16/bin/lldb-server
out=$root/build/demo
mkdir -p "$out"

say() { printf '\n\033[1m== %s\033[0m\n' "$1"; shift; for l in "$@"; do printf '   %s\n' "$l"; done; }

say "Installing dependencies and building (a minute or two the first time)"
bash scripts/install-deps.sh
bash scripts/build.sh debug >/dev/null
if [ -f tests/go/build.sh ]; then bash tests/go/build.sh >/dev/null; fi
grow=$root/build/debug/samples/grow

say "1. A map growing, without a debugger" \
    "samples/grow inserts keys one by one into make(map[uint64]int64)." \
    "A grow starts when the next insert would pass 6.5 entries per bucket."
"$grow" --seed 7 --keys 30

say "2. In gdb: stop in the middle of a grow" \
    "The sample calls checkpoint(\"mid-grow\") while oldbuckets is still set." \
    "gdb loads gdb_scripts/gomap_gdb.py by itself (the binary names it in .debug_gdb_scripts)."
gdb -nx -q -batch -iex "add-auto-load-safe-path $root" \
    -ex 'break checkpoint if $_streq(what, "mid-grow")' \
    -ex 'run --seed 7 --keys 100 > /dev/null' -ex 'up' \
    -ex 'echo \n(gdb) gomap print -v m\n' -ex 'gomap print -v m' \
    -ex 'echo \n(gdb) print m      -- the pretty-printer\n' -ex 'print m' \
    -ex 'echo \n(gdb) gomap buckets --old m 0 1 2   -- old buckets: evacuated or pending\n' \
    -ex 'gomap buckets --old m 0 1 2' \
    -ex 'echo \n(gdb) gomap buckets --new m 0 8   -- where old bucket 0 went: X = NEW[0], Y = NEW[0 + 8]\n' \
    -ex 'gomap buckets --new m 0 8' \
    -ex "gomap dot m -o $out/grow.dot" \
    "$grow" 2>&1 | grep -v -e '^\[Thread' -e '^Using host libthread_db' -e '^\[Inferior' || true

say "3. The same stop in lldb-16" \
    "LLDB uses lldb_plugin/gomap_lldb.py: the same commands, the same output."
lldb-16 -b -o "command script import $root/lldb_plugin/gomap_lldb.py" \
    -o 'breakpoint set -n checkpoint -c "(int)strcmp(what, \"mid-grow\") == 0"' \
    -o 'process launch -o /dev/null -- --seed 7 --keys 100' -o 'up' \
    -o 'settings set target.max-children-count 6' -o 'frame variable m' -o 'gomap print -v m' -o 'gomap buckets --old m 3' \
    "$grow" 2>&1 | sed -n '/^(lldb) frame variable/,$p' | grep -v '^Process .* exited' || true

if [ -x "$root/build/go/gomaps-debug" ]; then
  say "4. A real Go 1.19 program, mid-grow (tests/go/gomaps)" \
      "gdb reads Go's DWARF; LLDB 16 has no Go support, so gomapcore reads the DWARF itself."
  gdb -nx -q -batch -ex "source $root/gdb_scripts/gomap_gdb.py" \
      -ex 'break main.checkpointInt64' -ex 'run midgrow -n 2000 > /dev/null' \
      -ex 'echo \n(gdb) gomap print -v -n 8 m\n' -ex 'gomap print -v -n 8 m' \
      "$root/build/go/gomaps-debug" 2>&1 | sed -n '/^(gdb) gomap/,$p' || true
  lldb-16 -b -o "command script import $root/lldb_plugin/gomap_lldb.py" \
      -o 'process handle SIGURG -n false -p true -s false' \
      -o 'breakpoint set -n main.checkpointInt64' -o 'process launch -o /dev/null -- midgrow -n 2000' \
      -o 'gomap print -v -n 8 m' \
      "$root/build/go/gomaps-debug" 2>&1 | sed -n '/^(lldb) gomap/,$p' | grep -v '^Process .* exited' || true
fi

if command -v dot >/dev/null && [ -f "$out/grow.dot" ]; then
  dot -Tsvg "$out/grow.dot" -o "$out/grow.svg"
  say "5. A picture" "hmap -> new and old arrays -> overflow chains: $out/grow.svg"
fi

say "Next" "samples/README.md lists every sample and what to try in gdb and lldb;" \
    "'help gomap' in either debugger lists the commands."
