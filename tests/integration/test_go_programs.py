"""The same gomap commands on a real Go 1.19 program, in gdb 13 and in lldb-16.

tests/go/build.sh builds tests/go/gomaps into build/go/ twice: gomaps-debug
(-N -l) and gomaps-opt (Go's default). Each situation prints `GROUND {json}`
(hmap fields read through unsafe, and every entry) and then calls a non-inlined
checkpoint function whose parameter `m` is the map. gdb reads Go's DWARF itself;
LLDB 16 has no Go support, so the plugin resolves `m` through gomapcore.godwarf:
the same command line must give the same answer in both debuggers.

One debugger session per (debugger, build, situation) runs every command the
tests look at; the GROUND line compared is the one of that very process (same
addresses). In the optimised build `m` lives only in RAX for the first
instructions of checkpoint*, so the session stops at the function's first
instruction there.
"""
from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

import dbg

GO_RUNTIME_GDB = "/usr/lib/go-1.19/src/runtime/runtime-gdb.py"
BUILDS = ("gomaps-debug", "gomaps-opt")
_TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\s+File \".*\", line \d+", re.M)

# situation -> (checkpoint function, map type, program arguments). Sizes keep the
# whole file near a minute: the 100k-entry maps are bench/go_printer_bench.py's.
SITUATIONS = {
    "small": ("main.checkpointStrInt", "map[string]int", []),
    "large": ("main.checkpointInt64", "map[int64]int64", ["-n", "20000"]),
    "midgrow": ("main.checkpointInt64", "map[int64]int64", ["-n", "20000"]),
    "samesize": ("main.checkpointInt64", "map[int64]int64", []),
    "deleted": ("main.checkpointInt64", "map[int64]int64", []),
    "iterator": ("main.checkpointInt64", "map[int64]int64", []),
    "strkeys": ("main.checkpointStrStr", "map[string]string", []),
    "structvals": ("main.checkpointRec", "map[int32]main.Rec", []),
    "bigkeys": ("main.checkpointBig", "map[main.BigKey]main.BigVal", []),
}
GROWING = ("midgrow", "samesize", "iterator")
# Sessions that also run the heap view and the bad inputs (after `up`).
EXTRA = ("deleted", "midgrow", "bigkeys")
BAD_TYPE = "--type 'map[int64' $rax"
BAD_ADDR = "--type 'map[int64]int64' 0x10"


def _program(build: str):
    p = dbg.GO_PROGRAMS / build
    if not p.exists():
        pytest.skip(f"Go test program {build} not built ({p}); run tests/go/build.sh")
    return p


def _need(debugger: str) -> None:
    if not dbg.have(debugger):
        pytest.skip(f"{debugger} is not installed")


def _ground(raw: str) -> dict:
    for line in raw.splitlines():
        i = line.find("GROUND {")
        if i >= 0:
            return json.loads(line[i + len("GROUND "):])
    raise AssertionError(f"no GROUND line in:\n{raw[-2000:]}")


def _stop(debugger: str, func: str, build: str) -> list[str]:
    entry = build == "gomaps-opt"
    if debugger == "gdb":
        return [f"break *'{func}'" if entry else f"break {func}", "run"]
    # Go preempts goroutines with SIGURG: let it through silently.
    return ["process handle SIGURG -n false -p true -s false",
            f"breakpoint set -n {func}" + (" --skip-prologue false" if entry else ""),
            "process launch"]


def _commands(debugger: str, build: str, situation: str) -> list[str]:
    func, typ, _ = SITUATIONS[situation]
    cmds = _stop(debugger, func, build) + [
        "gomap print --json m", "gomap print --all m", "gomap buckets --json m"]
    if build == "gomaps-opt":
        cmds.append(f"gomap print --json --type '{typ}' $rax")
    if situation in EXTRA:
        cmds += ["gomap heap inuse --map m", "gomap heap inuse --json --map m",
                 "gomap print nosuch", "gomap print main.sink", "gomap print --json main.units",
                 "gomap print $rax", f"gomap print {BAD_TYPE}", f"gomap print {BAD_ADDR}",
                 "up", "gomap print situation", "gomap print m"]
    return cmds


@pytest.fixture(scope="module")
def session():
    runs: dict = {}

    def get(debugger: str, build: str, situation: str) -> dbg.Run:
        _need(debugger)
        key = (debugger, build, situation)
        if key not in runs:
            binary = _program(build)
            runs[key] = dbg.run(debugger, binary, [situation, *SITUATIONS[situation][2]],
                                _commands(debugger, build, situation), timeout=180)
        return runs[key]
    return get


# --- comparing with the program's own view ---------------------------------------

def _key(k) -> str:
    return json.dumps(k, sort_keys=True)


def _entries_of(situation: str, pairs) -> dict:
    """{key: value} of [k, v] pairs as gomap's JSON gives them; a duplicate
    key (a phantom from an old bucket) fails here. For bigkeys the ground truth
    holds only BigKey.ID and BigVal.Sum: the other bytes are checked here against
    what the program wrote (Pad[j] = ID+j, Tail[129] = ID)."""
    out: dict = {}
    for k, v in pairs:
        if situation == "bigkeys":
            i = k["ID"]
            assert k["Pad"] == [(i + j) & 0xFF for j in range(128)], k
            assert v["Tail"][129] == i & 0xFF and not any(v["Tail"][:129]), v
            k, v = i, v["Sum"]
        assert _key(k) not in out, f"key {k!r} twice"
        out[_key(k)] = v
    return out


def _ground_entries(ground: dict) -> dict:
    return {_key(e["k"]): e["v"] for e in ground["entries"]}


HMAP_FIELDS = ("count", "B", "flags", "hash0", "buckets", "oldbuckets", "nevacuate", "noverflow")


def _check_print_json(situation: str, got: dict, ground: dict) -> None:
    assert got["type"] == ground["type"]
    assert got["address"] == ground["hmap"]
    for field in HMAP_FIELDS:
        assert got[field] == ground[field], field
    assert got["growing"] is (ground["oldbuckets"] != 0)
    # Every entry exactly once with its current value: none missing, no phantom
    # (an old bucket's evacuated copy), no deleted slot.
    assert len(got["entries"]) == ground["count"]
    assert _entries_of(situation, got["entries"]) == _ground_entries(ground)
    assert got["warnings"] == []


@pytest.mark.parametrize("debugger", dbg.DEBUGGERS)
@pytest.mark.parametrize("build", BUILDS)
@pytest.mark.parametrize("situation", list(SITUATIONS))
def test_print_json_matches_ground_truth(debugger, build, situation, session):
    run = session(debugger, build, situation)
    ground = _ground(run.raw)
    assert ground["situation"] == situation and ground["type"] == SITUATIONS[situation][1]
    _check_print_json(situation, run.json("gomap print --json m"), ground)
    if situation == "iterator":
        assert ground["flags"] & 3, "the program must stop inside its range loop"
    if situation == "samesize":
        assert ground["flags"] & 8 and ground["oldbuckets"]


_PAIR = {
    "map[int64]int64": re.compile(r"(-?\d+): (-?\d+), "),
    "map[string]int": re.compile(r'"((?:[^"\\]|\\.)*)": (-?\d+), '),
    "map[string]string": re.compile(r'"((?:[^"\\]|\\.)*)": "((?:[^"\\]|\\.)*)", '),
}


@pytest.mark.parametrize("debugger", dbg.DEBUGGERS)
@pytest.mark.parametrize("build", BUILDS)
@pytest.mark.parametrize("situation", list(SITUATIONS))
def test_print_all_text(debugger, build, situation, session):
    run = session(debugger, build, situation)
    ground = _ground(run.raw)
    text = run.out("gomap print --all m").strip()
    assert text.startswith(ground["type"] + " [") and text.endswith("]"), text[:200]
    assert "more]" not in text[-40:], text[-80:]
    pair = _PAIR.get(ground["type"])
    if pair is None:  # structs: one "{" per key or value that is a struct
        per_entry = 2 if situation == "bigkeys" else 1
        assert text.count("{") == per_entry * ground["count"], text[:300]
        return
    got = pair.findall(text)
    assert len(got) == ground["count"]
    want = {str(e["k"]): str(e["v"]) for e in ground["entries"]}
    assert dict(got) == want


@pytest.mark.parametrize("debugger", dbg.DEBUGGERS)
@pytest.mark.parametrize("build", BUILDS)
@pytest.mark.parametrize("situation", GROWING)
def test_buckets_json_mid_grow(debugger, build, situation, session):
    """Old and new arrays side by side: old buckets below nevacuate are
    evacuated, a pending one is at or above it, and the live cells of the new
    array plus those of pending old buckets are exactly the map."""
    run = session(debugger, build, situation)
    ground = _ground(run.raw)
    got = run.json("gomap buckets --json m")
    new, old = got["new"], got["old"]
    assert old is not None, "a grow is under way: the old array must be shown"
    assert new["address"] == ground["buckets"] and old["address"] == ground["oldbuckets"]
    assert new["nbuckets"] == 1 << ground["B"]
    same_size = bool(ground["flags"] & 8)
    assert got["same_size_grow"] is same_size
    assert old["nbuckets"] == (new["nbuckets"] if same_size else new["nbuckets"] // 2)
    nev = ground["nevacuate"]
    assert 0 <= nev < old["nbuckets"]
    evacuated = 0
    for b in old["buckets"]:
        i = b["index"]
        if i < nev:
            assert b["evacuated"] is not None, f"old bucket {i} < nevacuate {nev}"
        if b["evacuated"] is None:
            assert i >= nev, f"old bucket {i} pending below nevacuate {nev}"
        else:
            evacuated += 1
        assert b["x"] == i
        assert b["y"] == (None if same_size else i + old["nbuckets"]) or same_size
        assert b["nevacuate_mark"] == (i == nev)
    assert nev <= evacuated < old["nbuckets"]
    live = []
    for arr, pending_only in ((new, False), (old, True)):
        for b in arr["buckets"]:
            if pending_only and b["evacuated"] is not None:
                continue
            for node in [b] + b["overflow"]:
                live += [(s["key"], s["value"]) for s in node["slots"] if s["state"] == "live"]
    assert _entries_of(situation, live) == _ground_entries(ground)


@pytest.mark.parametrize("debugger", dbg.DEBUGGERS)
@pytest.mark.parametrize("situation", list(SITUATIONS))
def test_type_and_register_at_entry_of_optimised_build(debugger, situation, session):
    """`gomap print --type T $rax` at checkpoint's first instruction: Go's
    register ABI passes the map (an *hmap) in RAX."""
    run = session(debugger, "gomaps-opt", situation)
    ground = _ground(run.raw)
    typ = SITUATIONS[situation][1]
    out = run.out(f"gomap print --json --type '{typ}' $rax")
    assert not _TRACEBACK.search(out), out
    _check_print_json(situation, run.json(f"gomap print --json --type '{typ}' $rax"), ground)


# --- gomap heap inuse --map -------------------------------------------------------

def _roundup(n: int) -> int:
    """Go's size classes for the sizes these maps allocate (sizeclasses.go)."""
    import sys
    sys.path.insert(0, str(dbg.REPO))
    from gomapcore.sizeclasses import roundupsize
    return roundupsize(n)


@pytest.mark.parametrize("debugger", dbg.DEBUGGERS)
@pytest.mark.parametrize("situation", EXTRA)
def test_heap_inuse_map_reachable_bytes(debugger, situation, session):
    run = session(debugger, "gomaps-debug", situation)
    ground = _ground(run.raw)
    text = run.out("gomap heap inuse --map m").strip()
    head = text.splitlines()[0]
    m = re.match(r"map (0x[0-9a-f]+): (\d+) bytes reachable in (\d+) allocations", head)
    assert m, head
    assert int(m.group(1), 16) == ground["hmap"]
    assert "need the gomap engine" in head  # lifetimes: only the engine records them
    data = run.json("gomap heap inuse --json --map m")
    text_total = int(m.group(2))
    rows = {r["key"]: r for r in _rows(data)}
    assert sum(r["bytes"] for r in rows.values()) == text_total
    bk = run.json("gomap buckets --json m")
    arrays = [a for a in (bk["new"], bk["old"]) if a]
    want = sum(_roundup(a["allocated"] * a["bucketsize"]) for a in arrays)
    assert rows["buckets"]["count"] == len(arrays) and rows["buckets"]["bytes"] == want
    assert rows["hmap"]["bytes"] == 48
    if situation == "midgrow":
        assert rows["buckets"]["old_bytes"] == _roundup(bk["old"]["allocated"] * bk["old"]["bucketsize"])
    if situation == "bigkeys":  # keys and elems over 128 bytes live out of line
        assert rows["indirect_key"]["count"] == ground["count"]
        assert rows["indirect_elem"]["count"] == ground["count"]
        assert rows["indirect_key"]["bytes"] == ground["count"] * _roundup(136)


def _rows(data: dict) -> list:
    assert data["registry"] is False and data["map"] != 0, str(data)[:300]
    live = data["live"]
    assert live["bytes"] == sum(g["bytes"] for g in live["groups"])
    return live["groups"]


# --- bad input: one line, and the debugger keeps working ----------------------------

def _one_line(debugger: str, text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, f"{debugger}: expected one line, got:\n{text}"
    assert not _TRACEBACK.search(text)
    line = lines[0]
    assert re.sub(r"^error: ", "", line).startswith("gomap"), line
    return line


BAD = [
    ("gomap print nosuch", r"nosuch"),
    (f"gomap print {BAD_TYPE}", r"map\[K\]V|map\[int64"),
    (f"gomap print {BAD_ADDR}", r"cannot read.*0x10"),
    ("gomap print situation", r"string is not a map"),  # main's local, after `up`
]


@pytest.mark.parametrize("debugger", dbg.DEBUGGERS)
@pytest.mark.parametrize("build", BUILDS)
@pytest.mark.parametrize("nth", range(len(BAD)))
def test_bad_input_is_one_line(debugger, build, nth, session):
    run = session(debugger, build, "deleted")
    cmd, pattern = BAD[nth]
    line = _one_line(debugger, run.out(cmd))
    assert re.search(pattern, line), line


@pytest.mark.parametrize("debugger", dbg.DEBUGGERS)
@pytest.mark.parametrize("build", BUILDS)
def test_package_variable_that_is_not_a_map(debugger, build, session):
    """`main.sink` is a package-level int: found by name in both debuggers, and
    refused in one line because it is not a map (no --type hint: a variable's
    type is a fact, not a missing option)."""
    run = session(debugger, build, "deleted")
    line = _one_line(debugger, run.out("gomap print main.sink"))
    assert re.sub(r"^error: ", "", line) == "gomap print: main.sink is not a map (its type is int)", line


@pytest.mark.parametrize("debugger", dbg.DEBUGGERS)
@pytest.mark.parametrize("build", BUILDS)
def test_package_level_map(debugger, build, session):
    """`main.units` is a package-level map[string]int: printed by its full name
    from inside a checkpoint, where it is no variable of the frame's function."""
    run = session(debugger, build, "deleted")
    got = run.json("gomap print --json main.units")
    assert got["count"] == 3 and got["type"] == "map[string]int", got
    assert _entries_of("units", got["entries"]) == {'"one"': 1, '"two"': 2, '"three"': 3}, got


@pytest.mark.parametrize("debugger", dbg.DEBUGGERS)
def test_integer_expression_is_not_a_map_but_an_address_may_be(debugger, session):
    """An integer that is a literal or a register may be a map's address: that
    line suggests --type; in the optimised build $rax at entry holds m."""
    run = session(debugger, "gomaps-opt", "deleted")
    line = _one_line(debugger, run.out("gomap print $rax"))
    assert re.search(r"\$rax is an integer \(.+\), not a map: .*--type 'map\[K\]V'", line), line


@pytest.mark.parametrize("debugger", dbg.DEBUGGERS)
def test_optimised_away_caller_variable_is_one_line(debugger, session):
    """In the optimised main the map was only in a register when the call was
    made: the caller's `m` has no location at the return address. That is a
    fact about the program, to be said as such, not an internal error."""
    run = session(debugger, "gomaps-opt", "deleted")
    line = _one_line(debugger, run.out("gomap print m"))
    assert re.search(r"variable 'm' is optimised away at pc 0x[0-9a-f]+$", line), line
    assert "internal error" not in line, line


@pytest.mark.parametrize("debugger", dbg.DEBUGGERS)
def test_caller_frame_map_in_debug_build(debugger, session):
    """After `up`, `m` is main's own variable (the unoptimised build keeps it)."""
    run = session(debugger, "gomaps-debug", "deleted")
    ground = _ground(run.raw)
    text = run.out("gomap print m").strip()
    assert text.startswith("map[int64]int64 ["), text[:200]
    assert len(_PAIR["map[int64]int64"].findall(text)) == min(ground["count"], 64)


# --- decode cost mid-grow -----------------------------------------------------------

_CPU = "python import time; _t = time.process_time(); " \
       "gdb.execute('gomap print --json m', to_string=True); " \
       "print('@@cpu %.4f' % (time.process_time() - _t))"


def test_mid_grow_decode_costs_about_what_a_plain_map_does():
    """`gomap print --json` of 100k entries caught mid-grow reads 1.5 times the
    buckets of the same map without a grow: its gdb CPU time must stay within a
    small factor of the plain map's, not grow with buckets x overflow chains."""
    _need("gdb")
    binary = _program("gomaps-debug")
    cpu = {}
    for situation in ("large", "midgrow"):
        run = dbg.run("gdb", binary, [situation, "-n", "100000"],
                      ["break main.checkpointInt64", "run", _CPU], timeout=180)
        m = re.search(r"@@cpu ([\d.]+)", run.out(_CPU))
        assert m, run.out(_CPU)
        cpu[situation] = float(m.group(1))
    assert cpu["midgrow"] <= 4 * cpu["large"] + 0.15, cpu


# --- Go's preemption signal in LLDB -------------------------------------------------
#
# None of these sessions says `process handle`: the plugin does it for a Go target.
# The large map takes long enough to build that Go's scheduler sends SIGURG many
# times before the checkpoint (without the plugin, LLDB stops on the first one).

_SIGURG_ARGS = ["large", "-n", "200000"]
_SIGURG_CMDS = ["breakpoint set -n main.checkpointInt64", "process launch", "thread list",
                "process handle SIGURG", "gomap print -n 2 m"]
_SIGURG_ROW = re.compile(r"^SIGURG\s+(\w+)\s+(\w+)\s+(\w+)\s*$", re.M)


def _lldbinit_run(binary, args, commands, tmp_path) -> dbg.Run:
    """lldb-16 as a user starts it: ~/.lldbinit imports the plugin before
    `lldb-16 -- prog` creates the target."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".lldbinit").write_text(f"command script import {dbg.LLDB_PLUGIN}\n")
    script = tmp_path / "cmds.lldb"
    script.write_text(dbg._lldb_script(commands, load="none"))
    env = dict(os.environ, HOME=str(home), NO_COLOR="1")
    env.setdefault("LLDB_DEBUGSERVER_PATH", "/usr/lib/llvm-16/bin/lldb-server")
    env.pop("GOMAP_DEBUG", None)
    p = subprocess.run([dbg.LLDB, "-b", "-o", f"command source -e false {script}", "--",
                        str(binary), *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       stdin=subprocess.DEVNULL, env=env, timeout=120, cwd=tmp_path)
    return dbg._split("lldb", commands, p.stdout.decode("utf-8", "replace"), p.returncode)


def _assert_sigurg_passed_silently(run: dbg.Run) -> None:
    threads = run.out("thread list")
    assert "stop reason = breakpoint" in threads, threads
    assert "SIGURG" not in run.out("process launch") + threads, run.raw[-3000:]
    row = _SIGURG_ROW.search(run.out("process handle SIGURG"))
    assert row and row.groups() == ("true", "false", "false"), run.out("process handle SIGURG")
    assert run.out("gomap print -n 2 m").strip().startswith("map[int64]int64 ["), run.raw[-2000:]


def test_lldb_lets_sigurg_through_when_loaded_from_lldbinit(tmp_path):
    _need("lldb")
    run = _lldbinit_run(_program("gomaps-opt"), _SIGURG_ARGS, _SIGURG_CMDS, tmp_path)
    assert "gomap: loaded for lldb" in run.preamble, run.raw[:2000]
    _assert_sigurg_passed_silently(run)


def test_lldb_lets_sigurg_through_when_imported_after_the_target():
    _need("lldb")
    run = dbg.run("lldb", _program("gomaps-debug"), _SIGURG_ARGS, _SIGURG_CMDS)
    _assert_sigurg_passed_silently(run)


def test_lldb_keeps_sigurg_default_on_a_cxx_program(tmp_path):
    """Only Go targets are changed: a C++ program keeps LLDB's own SIGURG row."""
    _need("lldb")
    cmds = ["breakpoint set -n checkpoint", "process launch", "process handle SIGURG"]
    run = _lldbinit_run(dbg.sample("grow"), ["--seed", "1", "--keys", "20"], cmds, tmp_path)
    row = _SIGURG_ROW.search(run.out("process handle SIGURG"))
    assert row and row.group(2) == "true", run.out("process handle SIGURG")
