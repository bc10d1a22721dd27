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
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "RESULTS-plugins.md"
BEGIN, END = "<!-- plugin_bench:begin -->", "<!-- plugin_bench:end -->"
COMMANDS = {"print": "gomap print --all m", "buckets": "gomap buckets --json m",
            "heap": "gomap heap inuse"}


# --- inside the debugger ---------------------------------------------------------

class _Dbg:
    """The few debugger calls the measurement needs, gdb or lldb."""

    def __init__(self, kind: str):
        self.kind = kind
        if kind == "gdb":
            import gdb
            self.gdb = gdb
        else:
            import lldb
            self.lldb = lldb
            self.debugger = lldb.debugger
            self.process = self.debugger.GetSelectedTarget().GetProcess()

    def run(self, cmd: str) -> str:
        if self.kind == "gdb":
            return self.gdb.execute(cmd, to_string=True)
        res = self.lldb.SBCommandReturnObject()
        self.debugger.GetCommandInterpreter().HandleCommand(cmd, res)
        if not res.Succeeded():
            raise RuntimeError(f"{cmd}: {res.GetError()}")
        return res.GetOutput() or ""

    def read(self, addr: int, size: int) -> bytes:
        if self.kind == "gdb":
            return bytes(self.gdb.selected_inferior().read_memory(addr, size))
        err = self.lldb.SBError()
        data = self.process.ReadMemory(addr, size, err)
        if not err.Success():
            raise RuntimeError(f"read {size} bytes at {addr:#x}: {err}")
        return data

    def hmap(self) -> tuple[int, int, int, int, int]:
        """(hmap address, B, buckets, oldbuckets, bucketsize) of m, from the debug info."""
        if self.kind == "gdb":
            h = self.gdb.parse_and_eval("m.h").dereference()
            return (int(h.address), int(h["B"]), int(h["buckets"]), int(h["oldbuckets"]),
                    h["buckets"].type.target().sizeof)
        frame = self.process.GetSelectedThread().GetSelectedFrame()
        h = frame.GetValueForVariablePath("m.h").Dereference()
        b = h.GetChildMemberWithName("buckets")
        return (h.GetLoadAddress(), h.GetChildMemberWithName("B").GetValueAsUnsigned(),
                b.GetValueAsUnsigned(), h.GetChildMemberWithName("oldbuckets").GetValueAsUnsigned(),
                b.GetType().GetPointeeType().GetByteSize())


def _best(fn, reps: int) -> tuple[float, float, object]:
    """(min wall, its CPU, last result) over reps runs."""
    best, cpu, out = None, 0.0, None
    for _ in range(reps):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        t, c = time.perf_counter() - t0, time.process_time() - c0
        if best is None or t < best:
            best, cpu = t, c
    return best, cpu, out


def _patch_reads(mode: str, memo: dict) -> None:
    """Every Target's read_memory: 'record' into memo, 'replay' from it, 'off'."""
    from gomapcore.target import Target
    classes = [c for c in Target.__subclasses__() if "read_memory" in c.__dict__]
    for cls in classes:
        real = cls.__dict__.get("_bench_real_read") or cls.__dict__["read_memory"]
        cls._bench_real_read = real
        if mode == "off":
            cls.read_memory = real
        elif mode == "record":
            def rec(self, addr, size, _real=real):
                data = _real(self, addr, size)
                memo[(addr, size)] = data
                return data
            cls.read_memory = rec
        else:
            def rep(self, addr, size, _real=real):
                data = memo.get((addr, size))
                return data if data is not None else _real(self, addr, size)
            cls.read_memory = rep


def inside(kind: str, out_path: str, reps: int, outdir: str) -> None:
    """Run in the debugger, stopped in grow's frame with m in scope."""
    from gomapcore import render_buckets
    d = _Dbg(kind)
    res: dict = {}
    addr, B, buckets, oldbuckets, bs = d.hmap()
    from gomapcore.sizeclasses import bucket_array_len
    arrays = [(buckets, bucket_array_len(B, bs) * bs)]
    if oldbuckets:
        arrays.append((oldbuckets, bucket_array_len(B - 1, bs) * bs))

    def raw():
        return sum(len(d.read(a, n)) for a, n in [(addr, 48)] + arrays)
    res["raw"], res["raw_cpu"], res["raw_bytes"] = _best(raw, 3)
    res["B"] = B
    for name, cmd in COMMANDS.items():
        t, c, text = _best(lambda: d.run(cmd), reps)
        res[name], res[name + "_cpu"], res[name + "_bytes"] = t, c, len(text)
        Path(outdir, name + ".out").write_text(text)
    # before: the same command through json.dumps of the per-slot dicts
    fast = render_buckets.buckets_json_text
    render_buckets.buckets_json_text = lambda snap, which="both", indexes=None: \
        json.dumps(render_buckets.buckets_json(snap, which, indexes))
    try:
        t, c, text = _best(lambda: d.run(COMMANDS["buckets"]), 1)
    finally:
        render_buckets.buckets_json_text = fast
    res["buckets_old"], res["buckets_old_cpu"] = t, c
    res["buckets_same"] = text == Path(outdir, "buckets.out").read_text()
    # decode alone: every read answered from a recording
    memo: dict = {}
    try:
        _patch_reads("record", memo)
        for cmd in COMMANDS.values():
            d.run(cmd)
        _patch_reads("replay", memo)
        for name, cmd in COMMANDS.items():
            res[name + "_decode"], _, _ = _best(lambda: d.run(cmd), reps)
    finally:
        _patch_reads("off", memo)
    Path(out_path).write_text(json.dumps(res))


# --- the driver --------------------------------------------------------------------

sys.path.insert(0, str(REPO / "tests" / "integration"))


def _dbg():
    import dbg
    return dbg


def sample() -> Path:
    p = _dbg().SAMPLES / "grow"
    if not p.exists():
        print("building the debug samples (scripts/build.sh debug) ...", flush=True)
        subprocess.run(["bash", str(REPO / "scripts" / "build.sh"), "debug"], check=True,
                       stdout=subprocess.DEVNULL)
    return p


def stop_done(debugger: str) -> list[str]:
    if debugger == "gdb":
        return ['break checkpoint if $_streq(what, "done")', "run", "up"]
    return ["breakpoint set -n checkpoint -c '(int)strcmp(what, \"done\") == 0'",
            "process launch", "up"]


def measure_map(debugger: str, n: int, reps: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="gomap-bench-") as tmp:
        out = Path(tmp) / "res.json"
        call = (f"import sys; sys.path.insert(0, {str(REPO / 'bench')!r}); import plugin_bench; "
                f"plugin_bench.inside({debugger!r}, {str(out)!r}, {reps}, {tmp!r})")
        cmd = ("python " if debugger == "gdb" else "script ") + call
        r = _dbg().run(debugger, sample(), ["--keys", str(n), "--seed", "1"],
                       stop_done(debugger) + [cmd], timeout=1800)
        if not out.exists():
            raise SystemExit(f"{debugger}, {n} entries: no result\n{r.raw[-3000:]}")
        return json.loads(out.read_text())


def _timed_run(argv: list[str], env=None) -> float:
    t0 = time.perf_counter()
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       stdin=subprocess.DEVNULL, env=env, timeout=1800)
    t = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{argv[0]} failed:\n{p.stdout.decode(errors='replace')[-2000:]}")
    return t


def _grow_count(n: int) -> int:
    """Grows from make(map) over n inserts: at counts 9, 14, 27, 53, ... (load factor 6.5)."""
    grows, B = 0, 0
    while True:
        c = 8 if B == 0 else 13 * (1 << B) // 2   # the insert after c entries grows
        if c >= n:
            return grows
        grows, B = grows + 1, B + 1


# --- `gomap break assign --grow`: where a session's time goes ---------------------

_CLOCK = "@@gomap-clock"
_CLOCK_RE = re.compile(r"^@@gomap-clock (\w+) ([0-9.]+)(?: (\d+) ([0-9.]+) ([0-9.]+))?@@$",
                       re.M)


def clock(label: str) -> None:
    """Inside the debugger: print the wall clock (time.time(), comparable with the
    driver's) under a label; at "end" also the decisions timed by time_decisions()."""
    extra = ""
    if label == "end" and _DECIDE:
        extra = f" {len(_DECIDE)} {sum(_DECIDE):.6f} {_DECIDE[0]:.6f}"
    print(f"{_CLOCK} {label} {time.time():.6f}{extra}@@", flush=True)


_DECIDE: list = []


def time_decisions() -> None:
    """Inside the debugger, after the plugin is loaded: time every call of
    gomapcore's stop decision (BreakCondition.on_hit), the Python work a hit
    costs (registers, the hmap header, the line). Two perf_counter calls each."""
    from gomapcore import breaks
    real = breaks.BreakCondition.on_hit

    def on_hit(self, target, symbol):
        t0 = time.perf_counter()
        try:
            return real(self, target, symbol)
        finally:
            _DECIDE.append(time.perf_counter() - t0)
    breaks.BreakCondition.on_hit = on_hit


def _in_debugger(debugger: str, code: str) -> str:
    return ("python " if debugger == "gdb" else "script ") + code


def _break_session(debugger: str, args: list[str], what: str, grows: int,
                   binary: Optional[Path] = None) -> dict:
    """One whole debugger session on `grow ARGS`, timed from outside (wall) and
    split by clock marks printed by the debugger's Python:

      up      debugger started, program's symbols loaded (the binary is given on
              the command line, as a person would), Python ready
      loaded  the plugin loaded (what="plain": not loaded, no gomap at all)
      main    `break main` + `run`: stopped at main, shared libraries loaded
      armed   `gomap break assign --grow` (or --grow --same-size) set
      end     the program ran its inserts to the end, each stop continued
    """
    dbg = _dbg()
    bench = str(REPO / "bench")
    plugin = dbg.GDB_PLUGIN if debugger == "gdb" else dbg.LLDB_PLUGIN
    mark = lambda label: _in_debugger(debugger, f"plugin_bench.clock({label!r})")
    cmds = [_in_debugger(debugger, f"import sys; sys.path.insert(0, {bench!r}); "
                                   "import plugin_bench; plugin_bench.clock('up')")]
    if what != "plain":
        cmds += [f"source {plugin}" if debugger == "gdb" else f"command script import {plugin}",
                 _in_debugger(debugger, "plugin_bench.time_decisions()"), mark("loaded")]
    cmds += (["break main", "run"] if debugger == "gdb" else
             ["breakpoint set -n main", "process launch"]) + [mark("main")]
    if what == "grow":
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
    r = dbg.run(debugger, binary or sample(), args, cmds, load="none", timeout=1800)
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
    want = grows if what in ("grow", "native") else 0
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
    --grow, one with --grow --same-size.
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
    for i in range(rounds):
        alone.append(_timed_run([str(binary), *args]))
        for d in debuggers:
            runs.setdefault((d, "bare"), []).append({"total": _bare(d)})
            for what in ("plain", "native", "grow", "declined"):
                runs.setdefault((d, what), []).append(
                    _break_session(d, args, what, grows, binary))
        print(f"round {i + 1}/{rounds}: alone {alone[-1]:.3f}s " + " ".join(
            f"{d} {w} {runs[(d, w)][-1]['total']:.3f}s" for d in debuggers
            for w in ("bare", "plain", "native", "grow", "declined")), flush=True)
    best = {k: min(v, key=lambda r: r["total"]) for k, v in runs.items()}
    for d in debuggers:
        best[(d, "grow")]["grows"] = grows
        # Per stop: the best program part of each kind of session, whatever round
        # it came from (the parts of one round are as noisy as the stops are cheap).
        for what in ("plain", "native", "grow", "declined"):
            best[(d, what)]["best_run"] = min(r["run"] for r in runs[(d, what)])
    return best, min(alone)


def machine() -> str:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    return f"{platform.node()}, {os.cpu_count()} cores, {cpu or platform.machine()}, load {load:.1f}"


def _k(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"


def table(maps: dict, quick: bool) -> str:
    dname = DNAME
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
            out.append(f"| {_k(n)} | {dname[d]} | {1e3 * r['raw']:.2f} | `{COMMANDS[name]}` | "
                       f"{1e3 * t:.1f} ({1e3 * r[name + '_cpu']:.1f}) | {1e3 * dec:.1f} | "
                       f"{vs_raw} | {vs_all} |")
    out += ["", "`gomap buckets --json m`, before (json.dumps of one dict per slot) and after "
            "(text written from the columns), same run, same output checked; milliseconds, "
            "wall (CPU):", "",
            "| entries | debugger | JSON bytes | before | after | speed-up | same text |",
            "|---|---|---|---|---|---|---|"]
    for (d, n), r in maps.items():
        out.append(f"| {_k(n)} | {dname[d]} | {r['buckets_bytes']} | {1e3 * r['buckets_old']:.1f} "
                   f"({1e3 * r['buckets_old_cpu']:.1f}) | {1e3 * r['buckets']:.1f} "
                   f"({1e3 * r['buckets_cpu']:.1f}) | "
                   f"{r['buckets_old'] / r['buckets']:.1f}x | {'yes' if r['buckets_same'] else 'NO'} |")
    big = max(n for _, n in maps)
    out += ["", f"Targets (issue 7) at {_k(big)} entries: print --all under 2 s in gdb, under 4 s "
            "in lldb-16; at most 3x (raw read + decode):"]
    for (d, n), r in maps.items():
        if n == big:
            lim = 2.0 if d == "gdb" else 4.0
            out.append(f"- {dname[d]}: print --all {r['print']:.2f} s "
                       f"({'met' if r['print'] < lim else 'MISSED'}, limit {lim:.0f} s); "
                       f"{r['print'] / (r['raw'] + r['print_decode']):.2f}x raw read + decode")
    return "\n".join(out)


DNAME = {"gdb": "gdb 13", "lldb": "lldb-16"}
BREAK_BEGIN, BREAK_END = "<!-- plugin_bench:break:begin -->", "<!-- plugin_bench:break:end -->"


def break_table(best: dict, alone: float, n: int, rounds: int, debuggers: list[str]) -> str:
    """The `gomap break assign --grow` tables, between their own markers (so that
    `--only break` can replace them alone)."""
    out = [BREAK_BEGIN,
           f"`gomap break assign --grow` over {_k(n)} inserts: `build/debug/samples/grow --keys "
           f"{n} --seed 1` alone takes {alone:.3f} s (the same binary and arguments, no "
           f"debugger; a private copy of the binary, index included). Whole sessions in batch "
           f"mode, wall seconds, best of {rounds} rounds run interleaved (alone, then each "
           "debugger: bare, no plugin, no plugin with the debugger's own breakpoint at "
           "hashGrow's first instruction, --grow, --grow --same-size). Machine: " + machine() + ". Date: " + time.strftime('%Y-%m-%d %H:%M')
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
                            ("grow", "--grow"), ("declined", "--grow --same-size")):
            r = best[(d, what)]
            per = dec = "-"
            if what != "plain" and r["decisions"] > 1:
                rest = (r["decide"] - r["decide_first"]) / (r["decisions"] - 1)
                dec = f"{1e3 * r['decide_first']:.1f} ms first, then {1e3 * rest:.2f} ms"
            if what in ("grow", "native") and r["stops"]:
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
                   f"{(nat['arm'] + nat['run']) / alone:.2f}x.")
    out.append(BREAK_END)
    return "\n".join(out)


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
