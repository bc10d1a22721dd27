"""The same gomap commands on a real Go 1.19 program, in gdb and in lldb-16.

tests/go/build.sh builds tests/go/gomaps into build/go/; each situation prints
`GROUND {json}` (hmap fields through unsafe, and every entry) and then calls a
non-inlined checkpoint function whose parameter `m` is the map. gdb reads Go's
DWARF itself; LLDB has none of it, so the plugin resolves `m` through
gomapcore.godwarf: the same command line must give the same answer in both.
"""
from __future__ import annotations

import json
import re

import pytest

import dbg

pytestmark = pytest.mark.parametrize("debugger", dbg.DEBUGGERS)

GO_RUNTIME_GDB = "/usr/share/go-1.19/src/runtime/runtime-gdb.py"


def _program(name: str):
    p = dbg.GO_PROGRAMS / name
    if not p.exists():
        pytest.skip(f"Go test program {name} not built ({p}); run tests/go/build.sh")
    return p


def _ground(raw: str) -> dict:
    for line in raw.splitlines():
        i = line.find("GROUND {")
        if i >= 0:
            return json.loads(line[i + len("GROUND "):])
    raise AssertionError(f"no GROUND line in:\n{raw[-2000:]}")


def _stop(debugger: str, func: str) -> list[str]:
    if debugger == "gdb":
        return [f"break {func}", "run"]
    # Go preempts goroutines with SIGURG: let it through silently.
    return ["process handle SIGURG -n false -p true -s false", f"breakpoint set -n {func}",
            "process launch"]


@pytest.mark.parametrize("build", ["gomaps-debug", "gomaps-opt"])
def test_mid_grow_go_map_matches_ground_truth(debugger, build):
    if not dbg.have(debugger):
        pytest.skip(f"{debugger} is not installed")
    binary = _program(build)
    cmds = _stop(debugger, "main.checkpointInt64") + ["gomap print --json m", "gomap print -n 3 m"]
    # gdb: let Go's own runtime-gdb.py load too; gomap's printer must take over maps.
    run = dbg.run(debugger, binary, ["midgrow"], cmds, timeout=300,
                  gdb_init=[f"add-auto-load-safe-path {GO_RUNTIME_GDB}"])
    ground = _ground(run.raw)
    got = run.json("gomap print --json")
    assert got["type"] == "map[int64]int64"
    assert got["growing"] is True and ground["oldbuckets"] != 0
    for field in ("count", "B", "flags", "hash0", "buckets", "oldbuckets", "nevacuate", "noverflow"):
        assert got[field] == ground[field], field
    want = sorted((e["k"], e["v"]) for e in ground["entries"])
    assert sorted(tuple(p) for p in got["entries"]) == want
    assert re.match(r"^map\[int64\]int64 \[-?\d+: -?\d+, ", run.out("gomap print -n 3 m").strip())


def test_gdb_replaces_go_map_printer(debugger):
    if debugger != "gdb":
        pytest.skip("Go's runtime-gdb.py is a gdb script")
    binary = _program("gomaps-debug")
    run = dbg.run(debugger, binary, ["small"], _stop(debugger, "main.checkpointStrInt") +
                  ["print m", "info pretty-printer"], timeout=300,
                  gdb_init=[f"add-auto-load-safe-path {GO_RUNTIME_GDB}"])
    ground = _ground(run.raw)
    assert "Go maps are printed by gomap" in run.raw
    out = run.out("print m")
    assert f"map[string]int len: {ground['count']}" in out, out[:300]
    for e in ground["entries"][:3]:
        assert f'["{e["k"]}"] = {e["v"]}' in out
