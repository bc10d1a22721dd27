#!/usr/bin/env python3
"""The plugins against the memory-read limit, in real gdb 13 and lldb-16 (issue 7).

    /usr/bin/python3 bench/plugin_bench.py [--quick] [--only maps|break] [--rounds N]
                                           [--no-write] [--no-readme] [--debuggers gdb,lldb]

Builds the debug samples if needed (scripts/build.sh debug), then for each size
(1k, 100k, 1M entries; --quick: 1k and 10k) starts each debugger in batch mode on
`build/debug/samples/grow --keys N --seed 1` (map[uint64]int64), stops at the
checkpoint "done", and times INSIDE the debugger (Python perf_counter around
gdb.execute(..., to_string=True) / lldb HandleCommand):

  raw read    one read of the hmap and each bucket array (2^B buckets plus the
              preallocated overflow area) through the debugger's own API
              (Inferior.read_memory / SBProcess.ReadMemory): the memory-read limit
  print       `gomap print --all m` (output captured, then written to a file)
  buckets     `gomap buckets --json m`; beside it `buckets (old)`, the same command
              with the json.dumps-of-slot-dicts path it replaced (same output,
              checked), for the before/after of render_buckets.buckets_json_text
  heap        `gomap heap inuse`
  decode      each command again with every memory read answered from a
              recording of the first run: the Python decode alone, no debugger
              reads (same interpreter, in the same process)

Ratios: command / raw read, and command / (raw read + decode).

Then `gomap break assign --grow` over 1M inserts (--quick: 100k) against the
program alone (same binary, same arguments), in rounds run interleaved: the
program alone; per debugger the bare debugger (no program), a session without
the plugin (`break main`, `run`, `continue`), one with --grow stopping at every
grow (each stop continued), one with `--grow --same-size` (decided at hashGrow,
every hit declined: a break that never stops). Each session prints clock marks
from the debugger's Python, so its time splits into start-up (debugger and
symbols, plugin, launch to main), the `gomap break` command, the program with
its stops, and exit; "excluding start-up" is from the stop at main to the end.
`--only break` measures this part alone and replaces only its table.

The Markdown table goes into bench/RESULTS-plugins.md between the markers below
(unless --no-write), and is printed.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

# The parts, by concern (each imported from bench/, where this file is):
#   plugin_bench_inside.py  what runs inside the debugger (timed commands, clock marks)
#   plugin_bench_common.py  paths, the sample, timed runs, the machine line
#   plugin_bench_maps.py    the map commands and their tables
#   plugin_bench_break.py   the --grow sessions and their tables
sys.path.insert(0, str(Path(__file__).resolve().parent))

from plugin_bench_break import BREAK_BEGIN, BREAK_END, break_table, measure_breaks  # noqa: E402
from plugin_bench_common import REPO, RESULTS, _dbg, _k, sample  # noqa: E402
from plugin_bench_maps import measure_map, table  # noqa: E402

BEGIN, END = "<!-- plugin_bench:begin -->", "<!-- plugin_bench:end -->"


def write_results(text: str, only_break: bool = False) -> None:
    body = RESULTS.read_text() if RESULTS.exists() else ""
    if only_break:
        # Only the break tables: in place, or at the end of the figures block
        # (the map tables before them stay as they were).
        if BREAK_BEGIN in body and BREAK_END in body:
            body = re.sub(re.escape(BREAK_BEGIN) + r".*?" + re.escape(BREAK_END),
                          lambda _: text, body, flags=re.S)
        elif END in body:
            body = body.replace(END, f"{text}\n{END}", 1)
        else:
            body = body.rstrip("\n") + f"\n\n{BEGIN}\n{text}\n{END}\n"
        RESULTS.write_text(body)
        return
    block = f"{BEGIN}\n{text}\n{END}"
    if BEGIN in body and END in body:
        body = re.sub(re.escape(BEGIN) + r".*?" + re.escape(END), lambda _: block, body,
                      flags=re.S)
    else:
        body = body.rstrip("\n") + "\n\n## Latest figures (bench/plugin_bench.py)\n\n" + block + "\n"
    RESULTS.write_text(body)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="1k and 10k entries, 100k inserts for --grow")
    ap.add_argument("--no-write", action="store_true", help="print the table only")
    ap.add_argument("--no-readme", action="store_true",
                    help="write bench/RESULTS-plugins.md but do not copy it into README.md")
    ap.add_argument("--only", choices=("maps", "break"),
                    help="only the map commands, or only `gomap break assign --grow` (its "
                         "table alone is replaced in bench/RESULTS-plugins.md)")
    ap.add_argument("--rounds", type=int, default=None,
                    help="interleaved rounds for --grow (default 5, --quick 2)")
    ap.add_argument("--debuggers", default="gdb,lldb")
    a = ap.parse_args()
    dbg = _dbg()
    debuggers = [d for d in a.debuggers.split(",") if dbg.have(d)]
    if not debuggers:
        raise SystemExit("plugin_bench: neither gdb nor lldb-16 is installed")
    sizes = [1000, 10_000] if a.quick else [1000, 100_000, 1_000_000]
    grow_n = 100_000 if a.quick else 1_000_000
    rounds = a.rounds or (2 if a.quick else 5)
    sample()
    maps = {}
    if a.only != "break":
        for n in sizes:
            for d in debuggers:
                maps[(d, n)] = measure_map(d, n, 3 if n < 1_000_000 else 2)
                r = maps[(d, n)]
                print(f"{d} {_k(n)}: raw {r['raw']:.4f}s print {r['print']:.3f}s buckets "
                      f"{r['buckets']:.3f}s (before {r['buckets_old']:.3f}s) heap {r['heap']:.3f}s",
                      flush=True)
    parts = [table(maps, a.quick)] if maps else []
    if a.only != "maps":
        best, alone = measure_breaks(debuggers, grow_n, rounds)
        parts.append(break_table(best, alone, grow_n, rounds, debuggers))
    text = "\n\n".join(parts)
    print(text)
    if not a.no_write:
        write_results(text, only_break=a.only == "break")
        if not a.no_readme:
            subprocess.run([sys.executable, str(REPO / "bench" / "update_readme.py")], check=False)


if __name__ == "__main__":
    main()
