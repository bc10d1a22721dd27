"""Go's own gdb map printer (runtime-gdb.py of Go 1.19) against gomap, on the
same real Go maps, in the same gdb session.

For each situation and size, one gdb run on build/go/gomaps-debug stops at
main.checkpointInt64 with the map as `m`, Go's runtime-gdb.py auto-loaded and
gomap's plugin sourced, `set print elements unlimited`, and times:

  go       `print m` with gomap's pretty-printer disabled: Go's MapTypePrinter
  gomap    `gomap print --all m`
  gomap-pp `print m` with gomap's pretty-printer enabled again

Each output is checked against the GROUND line the program printed in that run:
phantom = printed pairs that are not a (key, current value) of the map, or a
key printed again; missing = keys of the map never printed. The ratio is Go's
time over gomap's (wall clock, and gdb's process CPU clock: gdb does the reads).

    /usr/bin/python3 bench/go_printer_bench.py [--sizes 10000,100000]
        [--situations midgrow,large,iterator] [--out bench/RESULTS-go.md]

Needs tests/go/build.sh to have been run and gdb 13; takes a few minutes (Go's
printer is the slow part).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests" / "integration"))
import dbg  # noqa: E402  - the integration tests' debugger runner

GO_RUNTIME_GDB_AUTOLOAD = "/usr/share/go-1.19/src/runtime/runtime-gdb.py"
_GO_PAIR = re.compile(r"\[(-?\d+)\] = (-?\d+)")
_GOMAP_PAIR = re.compile(r"(-?\d+): (-?\d+), ")
NOTES = "<!-- notes: kept by go_printer_bench.py -->"
_TIMED = re.compile(r"^@@timed (\S+) wall=([\d.]+) cpu=([\d.]+) bytes=(\d+) error=(.*)$", re.M)

# Defined inside gdb: run one command, keep its text in a file, print the times.
# A Python exception from a printer (Go's fails on some maps) is recorded, not
# fatal, so the other printers still run.
_TIMER = r'''
import time, gdb
def gomap_bench_time(label, command, path):
    err = ""
    w0, c0 = time.perf_counter(), time.process_time()
    try:
        text = gdb.execute(command, to_string=True)
    except Exception as e:
        text, err = "", " ".join(str(e).split())[:200] or type(e).__name__
    w1, c1 = time.perf_counter(), time.process_time()
    with open(path, "w") as f:
        f.write(text)
    print("@@timed %s wall=%.3f cpu=%.3f bytes=%d error=%s" % (label, w1 - w0, c1 - c0, len(text), err))
'''


def ground_of(raw: str) -> dict:
    for line in raw.splitlines():
        i = line.find("GROUND {")
        if i >= 0:
            return json.loads(line[i + len("GROUND "):])
    raise SystemExit(f"no GROUND line in the gdb run:\n{raw[-2000:]}")


def judge(pairs: list, ground: dict) -> tuple:
    """(printed, phantom, missing) of printed (k, v) pairs against the map."""
    want = {e["k"]: e["v"] for e in ground["entries"]}
    seen: set = set()
    phantom = 0
    for k, v in pairs:
        if want.get(k) != v or k in seen:
            phantom += 1
        seen.add(k)
    return len(pairs), phantom, len(set(want) - seen)


def one(situation: str, n: int, tmp: Path) -> list:
    binary = dbg.GO_PROGRAMS / "gomaps-debug"
    timer = tmp / "timer.py"
    timer.write_text(_TIMER)
    files = {k: tmp / f"{situation}-{n}-{k}.txt" for k in ("go", "gomap", "gomap-pp")}
    cmds = [f"source {timer}", "break main.checkpointInt64", "run",
            "set print elements unlimited", "set print repeats unlimited",
            "disable pretty-printer global gomap",
            f"python gomap_bench_time('go', 'print m', '{files['go']}')",
            "enable pretty-printer global gomap",
            f"python gomap_bench_time('gomap', 'gomap print --all m', '{files['gomap']}')",
            f"python gomap_bench_time('gomap-pp', 'print m', '{files['gomap-pp']}')"]
    run = dbg.run("gdb", binary, [situation, "-n", str(n)], cmds, timeout=3600,
                  gdb_init=[f"add-auto-load-safe-path {GO_RUNTIME_GDB_AUTOLOAD}"])
    if "Loading Go Runtime support." not in run.raw:
        raise SystemExit("Go's runtime-gdb.py did not load: is golang-1.19-src installed?")
    ground = ground_of(run.raw)
    rows = []
    for label, wall, cpu, nbytes, err in _TIMED.findall(run.raw):
        text = files[label].read_text()
        # gdb writes a printer's exception into the value's text (or, for some
        # failures, on its own stream) and carries on.
        said = run.out(f"python gomap_bench_time('{label}'")
        exc = re.search(r"Python Exception <class '([^']+)'>: (.*)", text + said)
        if exc and not err.strip():
            err = f"{exc.group(1)}: {exc.group(2).strip()}"
        pairs = [(int(k), int(v)) for k, v in
                 (_GOMAP_PAIR if label == "gomap" else _GO_PAIR).findall(text)]
        printed, phantom, missing = judge(pairs, ground)
        rows.append({"situation": situation, "n": ground["count"], "B": ground["B"],
                     "growing": bool(ground["oldbuckets"]), "nevacuate": ground["nevacuate"],
                     "printer": label, "wall": float(wall), "cpu": float(cpu),
                     "printed": printed, "phantom": phantom, "missing": missing,
                     "error": err.strip()})
    if len(rows) != 3:
        raise SystemExit(f"expected 3 timings, got {len(rows)}:\n{run.raw[-3000:]}")
    return rows


def table(rows: list) -> str:
    out = ["| situation | entries | B | grow (nevacuate) | printer | wall s | CPU s | "
           "printed | phantom | missing | Go/gomap wall | Go/gomap CPU |",
           "|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        go = next(x for x in rows if x["situation"] == r["situation"] and
                  x["n"] == r["n"] and x["printer"] == "go")
        ratio_w = ratio_c = ""
        if r["printer"] == "gomap" and go["error"]:
            ratio_w = ratio_c = "Go's failed"
        elif r["printer"] == "gomap":
            ratio_w = f"{go['wall'] / max(r['wall'], 1e-6):.1f}x"
            ratio_c = f"{go['cpu'] / max(r['cpu'], 1e-6):.1f}x"
        grow = f"yes ({r['nevacuate']})" if r["growing"] else "no"
        printed = str(r["printed"]) if not r["error"] else f"exception: {r['error']}"
        out.append(f"| {r['situation']} | {r['n']} | {r['B']} | {grow} | {r['printer']} | "
                   f"{r['wall']:.3f} | {r['cpu']:.3f} | {printed} | {r['phantom']} | "
                   f"{r['missing']} | {ratio_w} | {ratio_c} |")
    return "\n".join(out)


def machine() -> str:
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gdb_v = subprocess.run([dbg.GDB, "--version"], stdout=subprocess.PIPE,
                           text=True).stdout.splitlines()[0]
    return f"{platform.node() or 'host'}: {cpu}, {os.cpu_count()} cores; {gdb_v}; Python in gdb"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--situations", default="midgrow,large,iterator",
                    help="int64 situations of tests/go/gomaps (iterator: Go's printer fails)")
    ap.add_argument("--out", help="write the Markdown table (with machine and date) here")
    a = ap.parse_args()
    if not (dbg.GO_PROGRAMS / "gomaps-debug").exists():
        sys.exit("run tests/go/build.sh first")
    rows = []
    with tempfile.TemporaryDirectory(prefix="gomap-gobench-") as tmp:
        for situation in a.situations.split(","):
            for n in (int(s) for s in a.sizes.split(",")):
                got = one(situation, n, Path(tmp))
                for r in got:
                    print(json.dumps(r), flush=True)
                rows += got
    text = table(rows)
    print(text)
    if a.out:
        # Hand-written notes below the marker survive a new run.
        old = Path(a.out).read_text() if Path(a.out).exists() else ""
        notes = old[old.index(NOTES):] if NOTES in old else NOTES + "\n"
        cmd = "/usr/bin/python3 bench/go_printer_bench.py " + " ".join(sys.argv[1:])
        Path(a.out).write_text(
            "# Go's runtime-gdb.py map printer vs gomap, in one gdb session\n\n"
            f"Measured {datetime.date.today()} on {machine()}.\n"
            f"Command: `{cmd}` (build/go/gomaps-debug, tests/go/build.sh).\n\n"
            "`go` is `print m` with Go 1.19's runtime-gdb.py printer (gomap's disabled), "
            "`gomap` is `gomap print --all m`, `gomap-pp` is `print m` with gomap's "
            "pretty-printer; all with `set print elements unlimited`, output kept as text. "
            "phantom: printed pairs that are not a current (key, value) of the map, or a "
            "key printed twice; missing: keys of the map not printed. Both compared with "
            "the GROUND line the program printed in the same run. Ratios: Go's time over "
            "`gomap print --all`.\n\n" + text + "\n\n" + notes)


if __name__ == "__main__":
    main()
