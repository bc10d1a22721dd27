"""bench/plugin_bench.py, the map commands: `gomap print --all`, `gomap buckets
--json` and `gomap heap inuse` timed inside each debugger against the raw
memory read, and their Markdown tables."""
from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from plugin_bench_common import BENCH, DNAME, _dbg, _k, machine, sample
from plugin_bench_inside import COMMANDS


def stop_done(debugger: str) -> list[str]:
    if debugger == "gdb":
        return ['break checkpoint if $_streq(what, "done")', "run", "up"]
    return ["breakpoint set -n checkpoint -c '(int)strcmp(what, \"done\") == 0'",
            "process launch", "up"]


def measure_map(debugger: str, n: int, reps: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="gomap-bench-") as tmp:
        out = Path(tmp) / "res.json"
        call = (f"import sys; sys.path.insert(0, {str(BENCH)!r}); import plugin_bench_inside; "
                f"plugin_bench_inside.inside({debugger!r}, {str(out)!r}, {reps}, {tmp!r})")
        cmd = ("python " if debugger == "gdb" else "script ") + call
        r = _dbg().run(debugger, sample(), ["--keys", str(n), "--seed", "1"],
                       stop_done(debugger) + [cmd], timeout=1800)
        if not out.exists():
            raise SystemExit(f"{debugger}, {n} entries: no result\n{r.raw[-3000:]}")
        return json.loads(out.read_text())


def table(maps: dict, quick: bool) -> str:
    out = [f"Machine: {machine()}. Date: {time.strftime('%Y-%m-%d %H:%M')}. "
           f"Command: `/usr/bin/python3 bench/plugin_bench.py{' --quick' if quick else ''}`.",
           "Sample `grow --keys N --seed 1` (map[uint64]int64) at checkpoint \"done\"; "
           "milliseconds, wall (CPU of the debugger process), best of the repeats, timed inside "
           "the debugger. \"decode only\": the same command with every memory read answered "
           "from a recording of an earlier run (the Python work alone, same interpreter; "
           "measured in the debugger's own Python, not a separate process, so the "
           "debugger's cost of carrying the output stays in it). `heap inuse` reads the "
           "heap registry, not the map, so the map's raw read is no peer for it.",
           "", "| entries | debugger | raw read | command | time | decode only | "
           "/ raw read | / (raw + decode) |",
           "|---|---|---|---|---|---|---|---|"]
    for (d, n), r in maps.items():
        for name in COMMANDS:
            t, dec = r[name], r[name + "_decode"]
            # heap inuse reads the heap registry, not the map: the map's read is no peer
            vs_raw = "-" if name == "heap" else f"{t / r['raw']:.0f}x"
            vs_all = f"{t / dec:.2f}x (of decode)" if name == "heap" else \
                f"{t / (r['raw'] + dec):.2f}x"
            out.append(f"| {_k(n)} | {DNAME[d]} | {1e3 * r['raw']:.2f} | `{COMMANDS[name]}` | "
                       f"{1e3 * t:.1f} ({1e3 * r[name + '_cpu']:.1f}) | {1e3 * dec:.1f} | "
                       f"{vs_raw} | {vs_all} |")
    out += ["", "`gomap buckets --json m`, before (json.dumps of one dict per slot) and after "
            "(text written from the columns), same run, same output checked; milliseconds, "
            "wall (CPU):", "",
            "| entries | debugger | JSON bytes | before | after | speed-up | same text |",
            "|---|---|---|---|---|---|---|"]
    for (d, n), r in maps.items():
        out.append(f"| {_k(n)} | {DNAME[d]} | {r['buckets_bytes']} | {1e3 * r['buckets_old']:.1f} "
                   f"({1e3 * r['buckets_old_cpu']:.1f}) | {1e3 * r['buckets']:.1f} "
                   f"({1e3 * r['buckets_cpu']:.1f}) | "
                   f"{r['buckets_old'] / r['buckets']:.1f}x | {'yes' if r['buckets_same'] else 'NO'} |")
    big = max(n for _, n in maps)
    out += ["", f"Targets (issue 7) at {_k(big)} entries: print --all under 2 s in gdb, under 4 s "
            "in lldb-16; at most 3x (raw read + decode):"]
    for (d, n), r in maps.items():
        if n == big:
            lim = 2.0 if d == "gdb" else 4.0
            out.append(f"- {DNAME[d]}: print --all {r['print']:.2f} s "
                       f"({'met' if r['print'] < lim else 'MISSED'}, limit {lim:.0f} s); "
                       f"{r['print'] / (r['raw'] + r['print_decode']):.2f}x raw read + decode")
    return "\n".join(out)
