"""gdb with Go's own runtime-gdb.py loaded as well as gomap: `print m` must use
gomap's pretty-printer (Go's is wrong during grows), and gomap says so once.

Go's script reaches gdb two ways: auto-loaded from the binary's
.debug_gdb_scripts (it names /usr/share/go-1.19/src/runtime/runtime-gdb.py) once
that path is safe, or sourced by hand after gomap. Both are checked on a map
stopped mid-grow, where Go's printer shows evacuated cells twice and misses
others: with gomap's printer disabled the same session shows that difference,
so the situation really tells the two printers apart.
"""
from __future__ import annotations

import json
import re

import pytest

import dbg

GO_RUNTIME_GDB = "/usr/lib/go-1.19/src/runtime/runtime-gdb.py"
GO_RUNTIME_GDB_AUTOLOAD = "/usr/share/go-1.19/src/runtime/runtime-gdb.py"
ANNOUNCE = "Go maps are printed by gomap"
_PAIR = re.compile(r"\[(-?\d+)\] = (-?\d+)")


def _ground(raw: str) -> dict:
    for line in raw.splitlines():
        i = line.find("GROUND {")
        if i >= 0:
            return json.loads(line[i + len("GROUND "):])
    raise AssertionError(f"no GROUND line in:\n{raw[-2000:]}")


@pytest.fixture(scope="module")
def gdb_runs():
    runs: dict = {}

    def get(how: str) -> dbg.Run:
        if not dbg.have("gdb"):
            pytest.skip("gdb is not installed")
        binary = dbg.GO_PROGRAMS / "gomaps-debug"
        if not binary.exists():
            pytest.skip(f"{binary} not built; run tests/go/build.sh")
        if not __import__("os").path.exists(GO_RUNTIME_GDB):
            pytest.skip(f"{GO_RUNTIME_GDB} not installed (golang-1.19-src)")
        if how not in runs:
            init, cmds = [], []
            if how == "autoload":
                init = [f"add-auto-load-safe-path {GO_RUNTIME_GDB_AUTOLOAD}"]
            else:  # by hand, after gomap was sourced
                cmds = [f"source {GO_RUNTIME_GDB}"]
            cmds += ["break main.checkpointInt64", "run", "print m",
                     "set print elements unlimited", "print m", "info pretty-printer",
                     "disable pretty-printer global gomap", "print m",
                     "enable pretty-printer global gomap", "print m"]
            runs[how] = dbg.run("gdb", binary, ["midgrow", "-n", "2000"], cmds,
                                gdb_init=init, timeout=180)
        return runs[how]
    return get


def _pairs(text: str) -> list:
    return [(int(k), int(v)) for k, v in _PAIR.findall(text)]


@pytest.mark.parametrize("how", ["autoload", "source"])
def test_gomap_printer_wins_over_runtime_gdb(gdb_runs, how):
    run = gdb_runs(how)
    ground = _ground(run.raw)
    assert ground["oldbuckets"], "the map must be caught mid-grow"
    assert "Loading Go Runtime support." in run.raw  # Go's script did load
    assert run.raw.count(ANNOUNCE) == 1, run.raw[:3000]
    want = sorted((e["k"], e["v"]) for e in ground["entries"])
    first = run.out("print m", 0)
    assert re.search(rf"= map\[int64\]int64 len: {ground['count']} = \{{", first), first[:300]
    shown = _pairs(first)  # gdb's default `print elements` 200: keys and values count
    assert len(shown) == 100 and set(shown) <= set(want), shown[:5]
    for nth in (1, 3):  # every entry once, before and after disabling ours
        full = run.out("print m", nth)
        assert f"map[int64]int64 len: {ground['count']}" in full, full[:300]
        assert sorted(_pairs(full)) == want
    # In the objfile's list gomap comes before Go's lookup functions.
    info = run.out("info pretty-printer")
    objfile = info[info.index("objfile"):]
    names = [ln.strip() for ln in objfile.splitlines()[1:] if ln.startswith("  ")]
    assert names[0] == "gomap" and "matcher" in names[1:], info


@pytest.mark.parametrize("how", ["autoload", "source"])
def test_runtime_gdb_printer_is_wrong_mid_grow(gdb_runs, how):
    """With gomap's printer disabled, Go's MapTypePrinter prints the old
    buckets' stale cells (it tests a bit of the overflow pointer instead of the
    evacuated tophash marks): what gomap fixes is really there in this map."""
    run = gdb_runs(how)
    ground = _ground(run.raw)
    theirs = run.out("print m", 2)
    assert "len:" not in theirs.splitlines()[0], theirs[:200]  # Go's own to_string
    got = _pairs(theirs)
    want = {e["k"]: e["v"] for e in ground["entries"]}
    phantom = sum(1 for k, v in got if want.get(k) != v) + len(got) - len(set(k for k, _ in got))
    missing = len(set(want) - {k for k, _ in got})
    assert phantom + missing > 0, (len(got), ground["count"])
