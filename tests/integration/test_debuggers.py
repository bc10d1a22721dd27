"""Real gdb 13 and real lldb-16, in batch mode, on the samples: the same
scenarios in both debuggers.

The grow sample prints its own ground truth (`GROUND {json}` with --dump) right
before each checkpoint() call; a test stops at one checkpoint mid-grow and
compares what `gomap print --json` and `gomap buckets --json` decode from memory
with what the program itself saw.
"""
from __future__ import annotations

import json
import re

import pytest

import dbg

pytestmark = pytest.mark.parametrize("debugger", dbg.DEBUGGERS)

GROW_ARGS = ["--seed", "7", "--keys", "3000", "--dump"]
_TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\s+File \".*\", line \d+", re.M)


def _need(debugger: str) -> None:
    if not dbg.have(debugger):
        pytest.skip(f"{debugger} is not installed")


def _grounds(raw: str) -> list[dict]:
    out = []
    for line in raw.splitlines():
        i = line.find("GROUND {")
        if i >= 0:
            out.append(json.loads(line[i + len("GROUND "):]))
    return out


def _mid_grow(grounds: list[dict]) -> dict:
    """The last mid-grow checkpoint: the largest map caught with both arrays."""
    mids = [g for g in grounds if g["checkpoint"] == "mid-grow" and g.get("oldbuckets")]
    assert mids, "the grow sample printed no mid-grow checkpoint"
    return mids[-1]


def _addr(text) -> int:
    return 0 if text is None else int(text, 16)


def _entries(pairs) -> list[str]:
    return sorted(json.dumps(p) for p in pairs)


@pytest.fixture(scope="module")
def grow_plan():
    binary = dbg.sample("grow")
    return binary, _mid_grow(dbg.ground_truth(binary, GROW_ARGS))


@pytest.fixture(scope="module")
def mid_grow_runs(grow_plan, tmp_path_factory):
    """One debugger session per debugger, stopped mid-grow, shared by the tests."""
    binary, plan = grow_plan
    runs = {}
    out = tmp_path_factory.mktemp("dot")

    def get(debugger):
        if debugger not in runs:
            cmds = dbg.stop_at(debugger, plan["seq"]) + [
                "gomap print --json m",
                "gomap buckets --json m",
                "gomap print m",
                "gomap print -v m",
                "print m" if debugger == "gdb" else "frame variable m",
                f"gomap dot m -o {out}/{debugger}.dot",
                f"gomap dot m -o {out}/{debugger}.svg",
            ]
            runs[debugger] = dbg.run(debugger, binary, GROW_ARGS, cmds)
            runs[debugger].dot = out / f"{debugger}.dot"
        return runs[debugger]
    return get


def test_print_json_matches_ground_truth_mid_grow(debugger, grow_plan, mid_grow_runs):
    _need(debugger)
    _, plan = grow_plan
    run = mid_grow_runs(debugger)
    # The GROUND line of this very process (same addresses), printed just
    # before the checkpoint we stopped at.
    mine = [g for g in _grounds(run.raw) if g["seq"] == plan["seq"]]
    ground = mine[0] if mine else plan
    got = run.json("gomap print --json")
    assert got["growing"] is True
    for field in ("count", "B", "flags", "hash0", "nevacuate", "noverflow"):
        assert got[field] == ground[field], field
    if mine:
        assert got["buckets"] == _addr(ground["buckets"])
        assert got["oldbuckets"] == _addr(ground["oldbuckets"])
    # Every entry exactly once with its current value: no phantom, none missing.
    assert len(got["entries"]) == ground["count"]
    assert _entries(got["entries"]) == _entries(ground["entries"])


def test_buckets_json_old_and_new_consistent(debugger, grow_plan, mid_grow_runs):
    _need(debugger)
    _, plan = grow_plan
    run = mid_grow_runs(debugger)
    got = run.json("gomap buckets --json")
    new, old = got["new"], got["old"]
    assert new["nbuckets"] == 1 << plan["B"]
    assert old["nbuckets"] == 1 << (plan["B"] - 1)  # a doubling grow
    assert new["address"] != old["address"]
    nev = plan["nevacuate"]
    for b in old["buckets"]:
        i = b["index"]
        if i < nev:
            assert b["evacuated"] is not None, f"old bucket {i} < nevacuate {nev} must be evacuated"
        if b["evacuated"] is None:  # pending: its live cells are still here
            assert i >= nev
        assert b["x"] == i and b["y"] == i + old["nbuckets"]
        assert b["nevacuate_mark"] == (i == nev)
    # The live cells of new buckets and of pending old buckets are the map.
    live = []
    for arr, pending_only in ((new, False), (old, True)):
        for b in arr["buckets"]:
            if pending_only and b["evacuated"] is not None:
                continue
            for node in [b] + b["overflow"]:
                live += [[s["key"], s["value"]] for s in node["slots"] if s["tophash"] >= 5]
    assert _entries(live) == _entries(plan["entries"])


def test_dot_draws_both_arrays_mid_grow(debugger, grow_plan, mid_grow_runs):
    _need(debugger)
    _, plan = grow_plan
    run = mid_grow_runs(debugger)
    # addresses from this very process's GROUND line (the plan ran without the debugger)
    mine = [g for g in _grounds(run.raw) if g["seq"] == plan["seq"]]
    assert mine, "the sample's GROUND line is missing from the debugger session"
    plan = mine[0]
    assert str(run.dot) in run.out(f"gomap dot m -o {run.dot}"), run.raw
    text = run.dot.read_text()
    assert text.startswith("digraph gomap {") and text.rstrip().endswith("}")
    nb = 1 << plan["B"]
    assert f"NEW array {plan['buckets']} ({nb} buckets)" in text
    assert f"OLD array {plan['oldbuckets']} ({nb // 2} buckets)" in text
    # one node per bucket of each array, old and new in different colours
    assert len(re.findall(r"^\s+new\d+ \[", text, re.M)) == nb
    assert len(re.findall(r"^\s+old\d+ \[", text, re.M)) == nb // 2
    fills = dict(re.findall(r'label="(NEW|OLD) array[^"]*";\s*style=filled; fillcolor="([^"]+)"', text))
    assert set(fills) == {"NEW", "OLD"} and fills["NEW"] != fills["OLD"]
    # the pending/evacuated split agrees with nevacuate: old buckets below it are evacuated
    for i in range(plan["nevacuate"]):
        assert re.search(rf'old{i} \[label="OLD\[{i}\][^"]*evacuated', text), i
    # -o FILE.svg: Graphviz renders the same graph (every bucket a node)
    import shutil
    import xml.etree.ElementTree as ET
    if shutil.which("dot"):
        svg = run.dot.with_suffix(".svg")
        titles = [t.text for t in ET.parse(svg).getroot().iter("{http://www.w3.org/2000/svg}title")]
        assert "hmap" in titles
        assert sum(1 for t in titles if re.fullmatch(r"new\d+", t or "")) == nb
        assert sum(1 for t in titles if re.fullmatch(r"old\d+", t or "")) == nb // 2


def test_print_text_and_pretty_printer(debugger, grow_plan, mid_grow_runs):
    _need(debugger)
    _, plan = grow_plan
    run = mid_grow_runs(debugger)
    text = run.out("gomap print m").strip()
    assert re.match(r"^map\[uint64\]int64 \[", text), text
    assert text.endswith(f"+{plan['count'] - 64} more]"), text[-80:]
    verbose = run.out("gomap print -v m")
    assert f"len {plan['count']}" in verbose and f"nevacuate {plan['nevacuate']}" in verbose
    pretty = run.out("print m" if debugger == "gdb" else "frame variable m")
    assert f"map[uint64]int64 len: {plan['count']}" in pretty, pretty[:300]
    # Children are key/value pairs, shown within the debugger's own limit.
    k, v = plan["entries"][0]
    child = re.findall(r"\[(\d+)\] = (-?\d+)", pretty)
    assert child, pretty[:300]
    truth = {str(a): str(b) for a, b in plan["entries"]}
    assert all(truth[a] == b for a, b in child)
    assert len(child) < plan["count"]  # 3000 entries: cut at the debugger's limit
    for out in run.outputs:
        assert not _TRACEBACK.search(out), out


BAD_INPUTS = [
    # (expression, what the one line must mention)
    # an int variable: its type is the reason, the same line in both debuggers
    ("i", r"^(error: )?gomap print: i is not a map \(its type is int64_t\)$"),
    ("0x1000", r"0x1000 is an integer \(.+\), not a map: if it is a map's address, give its "
               r"type with --type 'map\[K\]V'"),      # a literal may be an address
    ("no_such_variable", r"no_such_variable|no variable|No symbol"),
    ("--type 'map[uint64]int64' 0x10", r"cannot read|0x10"),  # a garbage address
]


@pytest.fixture(scope="module")
def bad_input_runs():
    binary = dbg.sample("grow")
    runs = {}

    def get(debugger):
        if debugger not in runs:
            cmds = ["gomap print m"]  # before the process exists
            cmds += dbg.stop_at(debugger, 1)
            for expr, _ in BAD_INPUTS:
                cmds += [f"gomap print {expr}", "gomap print -n 1 m"]
            cmds += ["gomap print", "gomap print --bogus m", "gomap nosuch m",
                     "gomap print checkpoint(0)", "gomap print -n 1 m"]
            runs[debugger] = dbg.run(debugger, binary, ["--seed", "1", "--keys", "20"], cmds)
        return runs[debugger]
    return get


def _one_error_line(debugger: str, text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, f"{debugger}: expected one line, got:\n{text}"
    assert not _TRACEBACK.search(text)
    return lines[0]


def test_not_running(debugger, bad_input_runs):
    _need(debugger)
    line = _one_error_line(debugger, bad_input_runs(debugger).out("gomap print m"))
    assert "not running" in line


@pytest.mark.parametrize("nth", range(len(BAD_INPUTS)))
def test_bad_input_is_one_line_and_debugger_keeps_working(debugger, bad_input_runs, nth):
    _need(debugger)
    run = bad_input_runs(debugger)
    expr, pattern = BAD_INPUTS[nth]
    line = _one_error_line(debugger, run.out(f"gomap print {expr}"))
    assert re.search(pattern, line), line
    assert line.lstrip("error: ").startswith("gomap"), line
    after = run.out("gomap print -n 1 m", nth).strip()
    assert re.match(r"^map\[uint64\]int64 \[\d+: \d+, ", after), after


def test_usage_errors_and_calls_refused(debugger, bad_input_runs):
    _need(debugger)
    run = bad_input_runs(debugger)
    assert "EXPR" in _one_error_line(debugger, run.out("gomap print"))
    assert "--bogus" in _one_error_line(debugger, run.out("gomap print --bogus"))
    nosuch = run.out("gomap nosuch").strip()
    assert nosuch and not _TRACEBACK.search(nosuch)
    # gomap never runs code in the program: a function call is refused.
    call = _one_error_line(debugger, run.out("gomap print checkpoint(0)"))
    assert "without running code in the program" in call, call
    last = run.out("gomap print -n 1 m", len(BAD_INPUTS)).strip()
    assert last.startswith("map[uint64]int64 ["), last


def test_nil_map(debugger):
    _need(debugger)
    binary = dbg.sample("nil_map")  # checkpoint 1: `var m map[string]int64`, still nil
    pretty = "print m" if debugger == "gdb" else "frame variable m"
    run = dbg.run(debugger, binary, [], dbg.stop_at(debugger, 1) +
                  ["gomap print m", "gomap print --json m", "gomap buckets m", pretty])
    assert run.out("gomap print m").strip() == "map[string]int64 nil"
    got = run.json("gomap print --json m")
    assert got["nil"] is True and got["count"] == 0 and got["entries"] == []
    assert "nil" in run.out("gomap buckets m")
    assert "map[string]int64 nil" in run.out(pretty)
    for out in run.outputs:
        assert not _TRACEBACK.search(out), out


# What LLDB 16 puts before a scripted command's own help, and nothing else: its
# CommandObject::GenerateHelpText prints the short help with "  Expects 'raw'
# input (see 'help raw-input'.)" appended (every `command script add` command is
# a CommandObjectRaw), then "Syntax: NAME", then the long help. No SB API or
# `command script add` option of LLDB 16 changes that, and `help` itself cannot
# be replaced ("can't replace builtin command"), so the test pins this frame
# exactly: any other line before or inside the help text fails it.
_LLDB_RAW_NOTE = "  Expects 'raw' input (see 'help raw-input'.)"


def _help_names():
    import sys
    sys.path.insert(0, str(dbg.REPO))
    from gomapcore import commands
    return commands.registrations()


def _strip_lldb_frame(name: str, summary: str, text: str) -> str:
    lines = text.split("\n")
    blank = lines.index("")
    # LLDB wraps the short help + note to its terminal width: compare the words.
    assert " ".join(" ".join(lines[:blank]).split()) == " ".join((summary + _LLDB_RAW_NOTE).split()), \
        f"lldb's first paragraph for gomap {name} is not its summary + LLDB's raw-input note:\n{text}"
    assert lines[blank + 1] == f"Syntax: {name}", text
    return "\n".join(lines[blank + 2:])


def _same_but_lldb_wrapped(got: str, want: str) -> bool:
    """got is want, except that LLDB re-wraps a line wider than its terminal
    (80 columns in batch mode) at word boundaries: every other line must match
    byte for byte. (Only `gomap break`'s 86-character summary is that wide.)"""
    g, w = got.split("\n"), want.split("\n")
    i = 0
    for line in w:
        if len(line) < 80:
            if i >= len(g) or g[i] != line:
                return False
            i += 1
            continue
        words, taken = line.split(), []
        while i < len(g) and len(taken) < len(words) and len(g[i]) <= 80:
            taken += g[i].split()
            i += 1
        if taken != words:
            return False
    return i == len(g)


def test_help_is_the_same_argparse_text(debugger):
    """`help gomap NAME` shows the summary and the argparse help that `gomap NAME
    -h` prints, byte for byte, in both debuggers (lldb: after LLDB 16's own two
    lines, see _LLDB_RAW_NOTE)."""
    _need(debugger)
    binary = dbg.sample("grow")
    regs = _help_names()
    run = dbg.run(debugger, binary, [],
                  [f"help gomap {name}" for name, _, _ in regs] + ["help gomap", "gomap print -h"])
    from gomapcore import commands
    for name, summary, helptext in regs:
        want = f"{summary}\n\n{helptext}".rstrip()
        text = run.out(f"help gomap {name}").rstrip()
        if debugger == "lldb":
            text = _strip_lldb_frame(name, summary, text)
            same = _same_but_lldb_wrapped(text, want)
        else:
            same = text == want
        assert same, f"{debugger}: help gomap {name}:\n{text}\n--- want ---\n{want}"
    assert run.out("gomap print -h").rstrip() == commands.help_text("print").rstrip()
    listing = " ".join(run.out("help gomap").split())   # lldb wraps its listing
    for name, summary, _ in regs:
        assert name in listing and " ".join(summary.split()) in listing, listing


def test_loading_twice_is_harmless(debugger):
    _need(debugger)
    binary = dbg.sample("grow")
    load = (f"source {dbg.GDB_PLUGIN}" if debugger == "gdb"
            else f"command script import {dbg.LLDB_PLUGIN}")
    run = dbg.run(debugger, binary, ["--seed", "1", "--keys", "20"],
                  [load] + dbg.stop_at(debugger, 1) + ["gomap print -n 2 m"])
    loaded = [ln for ln in run.raw.splitlines() if ln.startswith("gomap: loaded")]
    assert len(loaded) == 2 and all("print" in ln for ln in loaded), loaded
    assert run.out("gomap print -n 2 m").strip().startswith("map[uint64]int64 [")


def test_gdb_autoloads_from_debug_gdb_scripts(debugger):
    """The samples name gdb_scripts/gomap_gdb.py in .debug_gdb_scripts: with the
    checkout on the auto-load safe path, gdb loads the plugin by itself."""
    if debugger != "gdb":
        pytest.skip("auto-load from .debug_gdb_scripts is gdb's")
    _need(debugger)
    binary = dbg.sample("grow")
    run = dbg.run(debugger, binary, ["--seed", "1", "--keys", "20"],
                  dbg.stop_at(debugger, 1) + ["gomap print -n 2 m", "print m"], load="autoload")
    assert sum(ln.startswith("gomap: loaded") for ln in run.raw.splitlines()) == 1, run.raw[:2000]
    assert run.out("gomap print -n 2 m").strip().startswith("map[uint64]int64 [")
    assert "map[uint64]int64 len: 9" in run.out("print m")


# --- more bad input: a map corrupted through the debugger, a map being iterated ---------

def _corrupt_b(debugger: str) -> str:
    # The debugger's own memory write, as a person would do it at the prompt.
    if debugger == "gdb":
        return "set var m.h->B = 200"
    return "memory write -f u -s 1 &m.h->B 200"


def test_corrupted_map_is_one_line_naming_the_problem(debugger):
    _need(debugger)
    binary = dbg.sample("grow")
    pretty = "print m" if debugger == "gdb" else "frame variable m"
    run = dbg.run(debugger, binary, ["--seed", "1", "--keys", "20"], dbg.stop_at(debugger, 1) + [
        _corrupt_b(debugger), "gomap print m", "gomap print --json m", "gomap buckets m",
        "gomap heap inuse --map m", pretty, "gomap print -n 1 m.h"])
    for cmd in ("gomap print m", "gomap print --json m", "gomap buckets m"):
        line = _one_error_line(debugger, run.out(cmd))
        assert re.search(r"corrupted map at 0x[0-9a-f]+: B = 200 is over 64", line), line
        assert "count=9" in line, line  # and what was readable
    # The pretty-printer says the same in its one summary line, no children.
    shown = run.out(pretty)
    assert "<gomap: corrupted map" in shown and "B = 200" in shown, shown
    for out in run.outputs:
        assert not _TRACEBACK.search(out), out


ITER_ARGS = ["--seed", "5", "--dump"]


def test_map_with_an_active_iterator_prints_correctly(debugger):
    """iterate stops inside a range loop over a growing map: the iterator flags
    are set and an hiter points into the old array; print must not care."""
    _need(debugger)
    binary = dbg.sample("iterate")
    plan = [g for g in dbg.ground_truth(binary, ITER_ARGS) if g["checkpoint"] == "in-grow-loop"][0]
    run = dbg.run(debugger, binary, ITER_ARGS, dbg.stop_at(debugger, plan["seq"]) + [
        "gomap print --json g", "gomap buckets --json g", "gomap print g"])
    mine = [g for g in _grounds(run.raw) if g["seq"] == plan["seq"]]
    ground = mine[0] if mine else plan
    got = run.json("gomap print --json g")
    assert got["flags"] & 3, "iterator|oldIterator must be set inside the loop"
    assert got["growing"] is bool(ground["oldbuckets"])
    for field in ("count", "B", "flags", "nevacuate", "noverflow"):
        assert got[field] == ground[field], field
    assert _entries(got["entries"]) == _entries(ground["entries"])
    text = run.out("gomap print g").strip()
    assert text.startswith("map[uint64]") and text.endswith(", ]"), text  # all shown, Delve's style
    assert len(re.findall(r": ", text)) == ground["count"], text
    for out in run.outputs:
        assert not _TRACEBACK.search(out), out
