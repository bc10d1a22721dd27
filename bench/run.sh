#!/usr/bin/env bash
# The benchmark command. Builds the release preset and Go 1.19's peer, runs every
# peer in this one run, prints a Markdown table of times and engine/peer ratios,
# and writes it (with machine and date) to bench/RESULTS.md.
#
#   bench/run.sh           1M (uint64 and string keys, 5 reps) and 10M (uint64, 3 reps);
#                          a workload shorter than that runs more reps (up to 25)
#                          until each peer has spent 0.5 s in it
#   bench/run.sh --quick   1M only, 3 reps, 0.3 s (about a minute a round)
#   --rounds=R             alternate the engine's and Go's programs R times (default
#                          3); each cell is the median over the rounds, so that a
#                          slow spell of a shared machine lands on both sides
#   --wall                 wall-clock time instead of process CPU time (the
#                          default, which other jobs on the machine disturb less)
#
# Raw TSV lines stay in build/bench/ for anyone who wants other views.
# Absolute times drift between machines and runs; the ratios are what to read.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
clock=cpu
rounds=3
for a in "$@"; do
  case "$a" in
    --quick) quick=1 ;;
    --wall) clock=wall ;;
    --rounds=*) rounds=${a#--rounds=}
      case "$rounds" in ''|*[!0-9]*|0) echo "bench/run.sh: bad --rounds '$rounds': want a positive number" >&2; exit 2 ;; esac ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/run.sh: unknown argument '$a' (try --help)" >&2; exit 2 ;;
  esac
done

cmake --preset release >/dev/null
cmake --build --preset release --target engine_bench
bin=build/release/bench/engine_bench
out=build/bench
mkdir -p "$out"
rm -f "$out"/*.tsv

gobench=""
if gobench=$(bash bench/go/build.sh); then :; else
  echo "bench/run.sh: Go 1.19 missing, the go column is skipped" >&2
  gobench=""
fi

run() {  # run <name> <args...>: $rounds rounds, each one engine_bench and one gobench pass
  local name=$1; shift
  local r
  for r in $(seq "$rounds"); do
    echo "== $name round $r/$rounds: engine_bench $*" >&2
    "$bin" "$@" >"$out/engine_${name}_$r.tsv"
    if [ -n "$gobench" ]; then
      echo "== $name round $r/$rounds: gobench $*" >&2
      # gobench spells its flags with one dash and the same names.
      "$gobench" $(printf '%s\n' "$@" | sed 's/^--/-/') >"$out/go_${name}_$r.tsv"
    fi
  done
}

if [ $quick = 1 ]; then
  run 1m --sizes=1000000 --str-sizes=1000000 --reps=3 --min-ms=300 --clock=$clock
  cmd="bench/run.sh --quick"
else
  run 1m --sizes=1000000 --str-sizes=1000000 --reps=5 --min-ms=500 --clock=$clock
  run 10m --sizes=10000000 --str-sizes= --reps=3 --min-ms=500 --clock=$clock
  cmd="bench/run.sh"
fi
[ $clock = wall ] && cmd="$cmd --wall"
[ "$rounds" != 3 ] && cmd="$cmd --rounds=$rounds"

python3 bench/report.py --out bench/RESULTS.md --command "$cmd" --clock $clock "$out"/*.tsv
echo "(written to bench/RESULTS.md)" >&2
python3 bench/update_readme.py
