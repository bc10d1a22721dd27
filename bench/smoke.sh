#!/usr/bin/env bash
# What CI runs for the benchmarks: tiny sizes, one rep, a few seconds. Checks
# that the harness works and that every peer — the engine, std::unordered_map,
# absl::flat_hash_map and Go 1.19's map — computes the same checksums (sums and
# folds of looked-up values, iteration digests, counts). Fails if the engine's
# results differ from std::unordered_map's. Also proves that both checks can
# fail, by feeding each a deliberately wrong checksum.
#
#   bench/smoke.sh [BUILD_DIR]    (default build/release; built if needed)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
if [ "$build" = build/release ]; then
  cmake --preset release >/dev/null
  cmake --build --preset release --target engine_bench >/dev/null
fi
bin=$build/bench/engine_bench
[ -x "$bin" ] || { echo "bench/smoke.sh: $bin not built" >&2; exit 2; }
out=build/bench/smoke
mkdir -p "$out"

fail() { echo "bench/smoke.sh: FAIL: $*" >&2; exit 1; }

"$bin" --smoke >"$out/engine.tsv" 2>"$out/engine.log" || { cat "$out/engine.log" >&2; fail "engine_bench checksums"; }
grep -q '^engine	uint64	lookup_shuffled' "$out/engine.tsv" || fail "no engine rows in engine_bench output"
grep -q '^std	string	iterate' "$out/engine.tsv" || fail "no std rows in engine_bench output"

# The in-process check must catch a wrong engine.
if "$bin" --smoke --peers=engine,std --only=lookup --inject-fault=engine >/dev/null 2>"$out/fault.log"; then
  fail "engine_bench accepted a corrupted engine checksum"
fi
grep -q 'checksum mismatch: engine' "$out/fault.log" || fail "engine_bench failed without naming the mismatch"

# --min-ms: a workload far shorter than the minimum runs the most reps (25),
# every peer of the group alike; without it, the reps asked for.
"$bin" --smoke --peers=engine,std --only=iterate --min-ms=200 >"$out/minms.tsv" 2>/dev/null || fail "engine_bench --min-ms"
awk -F'\t' '!/^#/ && $7 != 25 {bad=1} END {exit bad}' "$out/minms.tsv" || fail "engine_bench --min-ms did not run 25 reps of a tiny workload"
awk -F'\t' '!/^#/ && $7 != 1 {bad=1} END {exit bad}' "$out/engine.tsv" || fail "engine_bench --smoke ran more than one rep"

files=("$out/engine.tsv")
if gobench=$(bash bench/go/build.sh 2>"$out/go-build.log"); then
  "$gobench" -smoke >"$out/go.tsv" 2>/dev/null || fail "gobench -smoke"
  "$gobench" -smoke -only iterate -min-ms 200 >"$out/go-minms.tsv" 2>/dev/null || fail "gobench -min-ms"
  awk -F'\t' '!/^#/ && $7 != 25 {bad=1} END {exit bad}' "$out/go-minms.tsv" || fail "gobench -min-ms did not run 25 reps of a tiny workload"
  files+=("$out/go.tsv")
  # The cross-program check must catch a wrong Go checksum too.
  awk -F'\t' 'BEGIN{OFS="\t"} $1=="go" && $3=="lookup_inorder" {$8=$8 "7"} {print}' "$out/go.tsv" >"$out/go-bad.tsv"
  rc=0; python3 bench/report.py --check-only "$out/engine.tsv" "$out/go-bad.tsv" >/dev/null 2>&1 || rc=$?
  [ $rc = 1 ] || fail "report.py did not reject a corrupted go checksum (exit $rc)"
else
  echo "bench/smoke.sh: Go 1.19 not installed, go peer skipped" >&2
fi
python3 bench/report.py --check-only "${files[@]}" || fail "peers disagree"

# Rounds (run.sh --rounds): a cell measured in three rounds shows the median
# of the three, here the round whose times were doubled.
awk -F'\t' 'BEGIN{OFS="\t"} {$5 = $5 * 2} {print}' "$out/engine.tsv" >"$out/engine-r2.tsv"
awk -F'\t' 'BEGIN{OFS="\t"} {$5 = $5 * 3} {print}' "$out/engine.tsv" >"$out/engine-r3.tsv"
python3 - "$out" <<'PY' || fail "report.py does not take the median over rounds"
import sys
sys.path.insert(0, "bench")
import report
out = sys.argv[1]
one = report.read_tsv(f"{out}/engine.tsv")
rows = one + [r for f in ("engine-r3.tsv", "engine-r2.tsv") for r in report.read_tsv(f"{out}/{f}")]
by, rounds = report.cell_medians(rows)
ok = rounds == [3] and all(by[(r.keytype, r.workload, r.n, r.peer)] == 2 * r.median_ns for r in one)
sys.exit(0 if ok and "median over 3 rounds" in report.table(rows, "") else 1)
PY
echo "bench/smoke.sh: OK"
