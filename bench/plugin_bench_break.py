"""bench/plugin_bench.py, `gomap break assign --grow` over 1M inserts against the
program alone: whole debugger sessions, split by the clock marks the debugger's
Python prints (plugin_bench_inside.clock), and their Markdown tables."""
from __future__ import annotations

import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Optional

from plugin_bench_common import BENCH, DNAME, _dbg, _in_debugger, _k, _timed_run, machine, sample
from plugin_bench_inside import _CLOCK

BREAK_BEGIN, BREAK_END = "<!-- plugin_bench:break:begin -->", "<!-- plugin_bench:break:end -->"
_CLOCK_RE = re.compile("^" + re.escape(_CLOCK) + r" (\w+) ([0-9.]+)(?: (\d+) ([0-9.]+) ([0-9.]+))?@@$",
                       re.M)


def _grow_count(n: int) -> int:
    """Grows from make(map) over n inserts: at counts 9, 14, 27, 53, ... (load factor 6.5)."""
    grows, B = 0, 0
    while True:
        c = 8 if B == 0 else 13 * (1 << B) // 2   # the insert after c entries grows
        if c >= n:
            return grows
        grows, B = grows + 1, B + 1


# The sessions of a round, in order; "cached" is --grow with the debugger's own
# index cache on (warmed before the rounds).
SESSIONS = ("plain", "native", "grow", "declined", "cached")


def _index_cache(debugger: str, where: Path) -> tuple[list[str], list[str]]:
    """(gdb -iex settings, lldb first commands) that turn the debugger's own
    index cache on, in a private directory: a setting a user turns on once (gdb
    `set index-cache enabled on`, lldb `settings set
    symbols.enable-lldb-index-cache true`), off by default. Its effect here:
    the DWARF of the C library's separate debug file (Debian's libc6-dbg, in
    /usr/lib/debug) comes from the cache instead of being indexed at every run."""
    if debugger == "gdb":
        return [f"set index-cache directory {where}", "set index-cache enabled on"], []
    return [], [f"settings set symbols.lldb-index-cache-path {where}",
                "settings set symbols.enable-lldb-index-cache true"]


def _break_session(debugger: str, args: list[str], what: str, grows: int,
                   binary: Optional[Path] = None, index_cache: Optional[Path] = None) -> dict:
    """One whole debugger session on `grow ARGS`, timed from outside (wall) and
    split by clock marks printed by the debugger's Python:

      up      debugger started, program's symbols loaded (the binary is given on
              the command line, as a person would), Python ready
      loaded  the plugin loaded (what="plain": not loaded, no gomap at all)
      main    `break main` + `run`: stopped at main, shared libraries loaded
      armed   `gomap break assign --grow` (or --grow --same-size) set
      end     the program ran its inserts to the end, each stop continued

    what: "plain" (no plugin), "native" (the debugger's own breakpoint at
    hashGrow), "grow", "declined" (--grow --same-size), "cached" (--grow with
    the debugger's index cache on, in index_cache).
    """
    dbg = _dbg()
    plugin = dbg.GDB_PLUGIN if debugger == "gdb" else dbg.LLDB_PLUGIN
    mark = lambda label: _in_debugger(debugger, f"plugin_bench_inside.clock({label!r})")
    init, cmds = [], []
    if what == "cached":
        if index_cache is None:
            raise ValueError("a 'cached' session needs an index_cache directory")
        init, cmds = _index_cache(debugger, index_cache)
    cmds += [_in_debugger(debugger, f"import sys; sys.path.insert(0, {str(BENCH)!r}); "
                                    "import plugin_bench_inside; plugin_bench_inside.clock('up')")]
    if what != "plain":
        cmds += [f"source {plugin}" if debugger == "gdb" else f"command script import {plugin}",
                 _in_debugger(debugger, "plugin_bench_inside.time_decisions()"), mark("loaded")]
    cmds += (["break main", "run"] if debugger == "gdb" else
             ["breakpoint set -n main", "process launch"]) + [mark("main")]
    if what in ("grow", "cached"):
        cmds += ["gomap break assign --grow", mark("armed")] + ["continue"] * (grows + 1)
    elif what == "native":
        # The debugger's own breakpoint at hashGrow's first instruction, where
        # gomap puts its own: the floor of any break that stops at every grow.
        cmds += ["break *gomap::hashGrow" if debugger == "gdb" else
                 "breakpoint set -K false -n gomap::hashGrow", mark("armed")]
        cmds += ["continue"] * (grows + 1)
    elif what == "declined":
        cmds += ["gomap break assign --grow --same-size", mark("armed"), "continue"]
    else:
        cmds += [mark("armed"), "continue"]
    cmds.append(mark("end"))
    t0 = time.time()
    r = dbg.run(debugger, binary or sample(), args, cmds, load="none", timeout=1800,
                gdb_init=init)
    t1 = time.time()
    if "exited" not in r.raw:
        raise SystemExit(f"{debugger}: the program did not run to the end:\n{r.raw[-2000:]}")
    marks, decide = {}, (0, 0.0, 0.0)
    for m in _CLOCK_RE.finditer(r.raw):
        marks[m.group(1)] = float(m.group(2))
        if m.group(3):
            decide = (int(m.group(3)), float(m.group(4)), float(m.group(5)))
    if what == "plain":
        marks["loaded"] = marks["up"]
    missing = {"up", "main", "armed", "end"} - set(marks)
    if missing:
        raise SystemExit(f"{debugger}: no clock mark {sorted(missing)}:\n{r.raw[-2000:]}")
    if what == "native":
        seen = len(re.findall(r"^Breakpoint 2, gomap::hashGrow|stop reason = breakpoint 2\.1",
                              r.raw, re.M))
    else:
        seen = len(re.findall(r"^gomap break \d+: .*grow starts", r.raw, re.M))
    want = grows if what in ("grow", "native", "cached") else 0
    if seen != want:
        raise SystemExit(f"{debugger} ({what}): {seen} grow stops, {want} expected")
    return {"total": t1 - t0, "up": marks["up"] - t0, "plugin": marks["loaded"] - marks["up"],
            "launch": marks["main"] - marks["loaded"], "arm": marks["armed"] - marks["main"],
            "run": marks["end"] - marks["armed"], "exit": t1 - marks["end"],
            "decisions": decide[0], "decide": decide[1], "decide_first": decide[2], "stops": seen}


def _bare(debugger: str) -> float:
    """The debugger alone: started in batch mode with Python, no program."""
    dbg = _dbg()
    if debugger == "gdb":
        argv = [dbg.GDB, "-nx", "-batch", "-ex", "python pass"]
    else:
        argv = [dbg.LLDB, "--no-lldbinit", "-b", "-o", "script pass"]
    return _timed_run(argv)


def measure_breaks(debuggers: list[str], n: int, rounds: int) -> tuple[dict, float]:
    """Interleaved rounds (the machine is shared; a slow moment hits every kind
    of run alike): the program alone, then per debugger the bare debugger, a
    session without the plugin, one without the plugin but with the debugger's
    own breakpoint at hashGrow (the floor of stopping at every grow), one with
    --grow, one with --grow --same-size, one with --grow and the debugger's own
    index cache on (warmed by one untimed session first).
    Each figure is the best of the rounds; for a session, the round whose total
    was best, so that its parts add up.

    Every run uses one private copy of the sample (same bytes, .gdb_index
    included): the checkout is shared, and a rebuild in the middle of the
    rounds would otherwise swap the binary under them."""
    with tempfile.TemporaryDirectory(prefix="gomap-bench-") as tmp:
        binary = Path(tmp) / "grow"
        shutil.copy2(sample(), binary)
        return _measure_breaks(binary, debuggers, n, rounds)


def _measure_breaks(binary: Path, debuggers: list[str], n: int, rounds: int) -> tuple[dict, float]:
    args = ["--keys", str(n), "--seed", "1"]
    grows = _grow_count(n)
    alone: list[float] = []
    runs: dict = {}
    cache = binary.parent / "index-cache"
    for d in debuggers:
        _break_session(d, args, "cached", grows, binary, cache)     # warms the cache
    for i in range(rounds):
        alone.append(_timed_run([str(binary), *args]))
        for d in debuggers:
            runs.setdefault((d, "bare"), []).append({"total": _bare(d)})
            for what in SESSIONS:
                runs.setdefault((d, what), []).append(
                    _break_session(d, args, what, grows, binary, cache))
        print(f"round {i + 1}/{rounds}: alone {alone[-1]:.3f}s " + " ".join(
            f"{d} {w} {runs[(d, w)][-1]['total']:.3f}s" for d in debuggers
            for w in ("bare",) + SESSIONS), flush=True)
    best = {k: min(v, key=lambda r: r["total"]) for k, v in runs.items()}
    for d in debuggers:
        best[(d, "grow")]["grows"] = grows
        # Per stop: the best program part of each kind of session, whatever round
        # it came from (the parts of one round are as noisy as the stops are cheap).
        for what in SESSIONS:
            best[(d, what)]["best_run"] = min(r["run"] for r in runs[(d, what)])
    return best, min(alone)


def break_table(best: dict, alone: float, n: int, rounds: int, debuggers: list[str]) -> str:
    """The `gomap break assign --grow` tables, between their own markers (so that
    `--only break` can replace them alone)."""
    out = [BREAK_BEGIN,
           f"`gomap break assign --grow` over {_k(n)} inserts: `build/debug/samples/grow --keys "
           f"{n} --seed 1` alone takes {alone:.3f} s (the same binary and arguments, no "
           f"debugger; a private copy of the binary, index included). Whole sessions in batch "
           f"mode, wall seconds, best of {rounds} rounds run interleaved (alone, then each "
           "debugger: bare, no plugin, no plugin with the debugger's own breakpoint at "
           "hashGrow's first instruction, --grow, --grow --same-size, --grow with the debugger's "
           "own index cache on). Machine: " + machine() + ". Date: " + time.strftime('%Y-%m-%d %H:%M')
           + ". Command: `/usr/bin/python3 bench/plugin_bench.py" + (" --quick" if n < 1_000_000 else "")
           + "` (or `--only break`).", "",
           "| debugger | bare debugger (no program) | no plugin, no breakpoint | no plugin, "
           "the debugger's own breakpoint at hashGrow | --grow (stops continued) | --grow "
           "--same-size (never stops) | --grow / alone | --grow / alone, excluding start-up | "
           "own breakpoint / alone, excluding start-up |",
           "|---|---|---|---|---|---|---|---|---|"]
    for d in debuggers:
        g, nat = best[(d, "grow")], best[(d, "native")]
        out.append(f"| {DNAME[d]} | {best[(d, 'bare')]['total']:.2f} | "
                   f"{best[(d, 'plain')]['total']:.2f} | {nat['total']:.2f} ({nat['stops']} stops) | "
                   f"{g['total']:.2f} ({g['stops']} stops) | "
                   f"{best[(d, 'declined')]['total']:.2f} | {g['total'] / alone:.2f}x | "
                   f"{(g['arm'] + g['run']) / alone:.2f}x | {(nat['arm'] + nat['run']) / alone:.2f}x |")
    out += ["", "Where a session's time goes (seconds, the best round; clock marks printed by "
            "the debugger's Python). Start-up: the debugger with the program's symbols, the "
            "plugin, `break main` + `run`. Then `gomap break ...`, the program's inserts with "
            "every stop, and exit. Per stop: gomapcore's decision (registers, the hmap header, "
            "the line; the first hit also reads the map type, and in gdb waits for gdb's "
            "first frame of the stop, which gdb computes for its stop report anyway), and the "
            "whole stop (the debugger's trap, its stop report, the decision, `continue`) as "
            "(program with stops - program without a breakpoint) / stops, each program part "
            "the best of all rounds: a few milliseconds, within the noise of a shared machine.",
            "",
            "| debugger | session | up + symbols | plugin | break main + run | gomap break | "
            "program (main to exit) | exit | total | decision / stop | whole stop |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for d in debuggers:
        plain = best[(d, "plain")]
        for what, label in (("plain", "no plugin, no breakpoint"),
                            ("native", "no plugin, own breakpoint at hashGrow"),
                            ("grow", "--grow"), ("declined", "--grow --same-size"),
                            ("cached", "--grow, the debugger's index cache on")):
            r = best[(d, what)]
            per = dec = "-"
            if what != "plain" and r["decisions"] > 1:
                rest = (r["decide"] - r["decide_first"]) / (r["decisions"] - 1)
                dec = f"{1e3 * r['decide_first']:.1f} ms first, then {1e3 * rest:.2f} ms"
            if what in ("grow", "native", "cached") and r["stops"]:
                per = f"{1e3 * (r['best_run'] - plain['best_run']) / r['stops']:.1f} ms"
            plugin = "-" if what in ("plain", "native") else f"{r['plugin']:.3f}"
            arm = "-" if what == "plain" else f"{r['arm']:.3f}"
            out.append(f"| {DNAME[d]} | {label} | {r['up']:.3f} | {plugin} | {r['launch']:.3f} | "
                       f"{arm} | {r['run']:.3f} | {r['exit']:.3f} | {r['total']:.3f} | {dec} | "
                       f"{per} |")
    out += ["", "Target (issue 7): --grow at most 1.5x the program alone."]
    for d in debuggers:
        g, plain, nat = best[(d, "grow")], best[(d, "plain")], best[(d, "native")]
        ex = (g["arm"] + g["run"]) / alone
        out.append(f"- {DNAME[d]}: excluding start-up {ex:.2f}x ({'met' if ex <= 1.5 else 'MISSED'}): "
                   f"from the stop at main, `gomap break assign --grow` and the program with its "
                   f"{g['stops']} stops, over the program alone; including start-up "
                   f"{g['total'] / alone:.2f}x ({'met' if g['total'] / alone <= 1.5 else 'MISSED'}), "
                   f"where the debugger without gomap already takes {plain['total'] / alone:.2f}x "
                   f"(its start-up, symbols and launch: {plain['up'] + plain['launch']:.2f} s); "
                   f"the debugger's own breakpoint at hashGrow, no plugin, excluding start-up: "
                   f"{(nat['arm'] + nat['run']) / alone:.2f}x; with the debugger's own index "
                   f"cache on (a user setting, off by default): including start-up "
                   f"{best[(d, 'cached')]['total'] / alone:.2f}x.")
    out.append(BREAK_END)
    return "\n".join(out)
