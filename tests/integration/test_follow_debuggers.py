"""Following a map as it changes, in real gdb 13 and real lldb-16 (batch mode),
on the engine's samples: the same scenarios in both debuggers.

- break on the next grow: every stop is at hashGrow with count and B obeying
  Go's overLoadFactor (count+1 > 8 and > 6.5*2^B), and --same-size declines them;
- break on a given key: the stop is at that key's mapassign_fast64, and
  `gomap regs` there gives the bucket pointer `gomap buckets --json` has;
- regs at mapassign_faststr (str/len in RDX/RCX);
- watch buckets/oldbuckets/nevacuate across a grow: the messages, in order;
- watch a key across evacuation: each move starts where the previous one went,
  and the debugger's own watchpoint list shows the new place;
- the plugin's breakpoints are the debugger's own (listed, deletable).
"""
from __future__ import annotations

import json
import re

import pytest

import dbg

pytestmark = pytest.mark.parametrize("debugger", dbg.DEBUGGERS)

_TRACEBACK = re.compile(r"Traceback \(most recent call last\)")


def _need(debugger: str) -> None:
    if not dbg.have(debugger):
        pytest.skip(f"{debugger} is not installed")


def _start(debugger: str) -> list[str]:
    """Run to main: the plugin's breakpoints go at run-time addresses."""
    if debugger == "gdb":
        return ["break main", "run"]
    return ["breakpoint set -n main", "process launch"]


def _cont(debugger: str) -> str:
    return "continue"


def _delete_bp(debugger: str, n: int) -> str:
    return f"delete {n}" if debugger == "gdb" else f"breakpoint delete {n}"


def _list_bps(debugger: str) -> str:
    return "info breakpoints" if debugger == "gdb" else "breakpoint list"


def _list_wps(debugger: str) -> str:
    return "info watchpoints" if debugger == "gdb" else "watchpoint list"


def _overloaded_first(B: int) -> int:
    """count at which an insert finds overLoadFactor(count+1, B) true first."""
    c = 0
    while not (c + 1 > 8 and c + 1 > 13 * ((1 << B) // 2)):
        c += 1
    return c


# --- break on the next grow ----------------------------------------------------------

_GROW_STOP = re.compile(r"^gomap break 1: gomap::hashGrow: map (0x[0-9a-f]+) \(map\[uint64\]int64\) "
                        r"count (\d+) B (\d+): grow starts \(B (\d+)\u2192(\d+); doubling", re.M)


def test_break_on_next_grow_obeys_load_factor(debugger):
    _need(debugger)
    binary = dbg.sample("grow")
    cmds = _start(debugger) + [
        "gomap break assign --grow",
        "gomap break assign --same-size",
        _list_bps(debugger),
        _cont(debugger), _cont(debugger), _cont(debugger), _cont(debugger),
        "gomap break list",
        "gomap break delete",
        _cont(debugger),     # to the end: the sample's stdout (a pipe) is flushed at exit
    ]
    run = dbg.run(debugger, binary, ["--keys", "200", "--seed", "1"], cmds)
    assert not _TRACEBACK.search(run.raw), run.raw
    assert "stops decided at gomap::hashGrow" in run.out("gomap break assign --grow")
    assert "hashGrow" in run.out(_list_bps(debugger))         # the debugger's own breakpoint
    stops = _GROW_STOP.findall(run.raw)
    assert len(stops) == 4, run.raw
    seen = []
    for _, count, B, b_from, b_to in stops:
        count, B = int(count), int(B)
        assert count == _overloaded_first(B), (count, B)
        assert (int(b_from), int(b_to)) == (B, B + 1)
        seen.append((count, B))
    assert seen == [(8, 0), (13, 1), (26, 2), (52, 3)]
    # the sample's own report: "insert 9: grow starts, B 0 -> 1" is count+1
    for count, B in seen:
        assert f"insert {count + 1}: grow starts, B {B} -> {B + 1}" in run.raw
    table = run.out("gomap break list")
    assert re.search(r"^1\s+break\s+4\s+0\s+\d+\s+assign: grow$", table, re.M), table
    assert re.search(r"^2\s+break\s+0\s+4\s+\d+\s+assign: same-size grow$", table, re.M), table


def test_break_deleted_with_the_debuggers_own_command(debugger):
    _need(debugger)
    binary = dbg.sample("grow")
    bp = 2    # breakpoint 1 is main
    cmds = _start(debugger) + [
        "gomap break assign --grow",
        _delete_bp(debugger, bp),
        "gomap break list",
        _cont(debugger),
    ]
    run = dbg.run(debugger, binary, ["--keys", "100", "--seed", "1"], cmds)
    assert run.out("gomap break list").strip() == "no gomap breakpoints or watchpoints"
    assert "gomap break 1:" not in run.out(_cont(debugger))
    assert "exited" in run.out(_cont(debugger))


# --- break on a key, regs there --------------------------------------------------------

def _bucket_address(buckets: dict, index: int) -> int:
    return next(b["address"] for b in buckets["new"]["buckets"] if b["index"] == index)


def test_break_on_key_and_regs_at_mapassign_fast64(debugger):
    _need(debugger)
    binary = dbg.sample("fast64")
    # fast64 inserts keys 0, 1000, 2000, ...: 7000 is the 8th insert (count 7)
    cmds = _start(debugger) + [
        "gomap break assign --key 7000",
        _cont(debugger),
        "gomap regs --json",
        "gomap regs",
        "gomap buckets --json --type map[uint64]int64 $rsi",
        "gomap step",
        "gomap step",
        "gomap frame",
    ]
    run = dbg.run(debugger, binary, ["--keys", "20", "--seed", "1"], cmds)
    assert not _TRACEBACK.search(run.raw), run.raw
    stop = run.out(_cont(debugger))
    assert re.search(r"^gomap break 1: gomap::mapassign_fast64: map 0x[0-9a-f]+ \(map\[uint64\]int64\) "
                     r"key 7000 count 7 B 0: key 7000$", stop, re.M), stop
    r = run.json("gomap regs --json")
    assert r["function"] == "gomap::mapassign_fast64"
    assert r["source"].startswith("registers at entry (RDI, RSI, RDX")
    assert r["key"] == 7000 and r["hmap"]["count"] == 7
    assert r["maptype"]["key"] == "uint64" and r["maptype"]["bucketsize"] == 144
    b = run.json("gomap buckets --json")
    assert b["count"] == 7 and b["address"] == r["h"]
    assert r["bucket"] == _bucket_address(b, r["bucket_index"])
    assert r["bucket_index"] == r["hash"] & ((1 << b["B"]) - 1)
    assert r["tophash"] == max(r["hash"] >> 56, 5) if (r["hash"] >> 56) < 5 else r["hash"] >> 56
    text = run.out("gomap regs")
    assert "key = 0x1b58  7000 (uint64)" in text
    assert "bucket chosen:" in run.out("gomap step", 0)
    assert "slot found:" in run.out("gomap step", 1)
    frame = run.out("gomap frame")
    assert "fastAssign" in frame and "insert = new bucket" in frame


def test_regs_at_mapassign_faststr(debugger):
    _need(debugger)
    binary = dbg.sample("faststr")
    cmds = _start(debugger) + [
        "gomap break assign --key k12",
        _cont(debugger),
        "gomap regs --json",
        "gomap buckets --json --type map[string]int64 $rsi",
    ]
    run = dbg.run(debugger, binary, ["--keys", "20", "--seed", "3"], cmds)
    assert not _TRACEBACK.search(run.raw), run.raw
    assert "key \"k12\" count 12" in run.out(_cont(debugger))
    r = run.json("gomap regs --json")
    assert r["function"] == "gomap::mapassign_faststr"
    assert r["source"].startswith("registers at entry (RDI, RSI, RDX, RCX)")
    assert r["key"] == "k12" and r["key_words"][1] == 3       # len in RCX
    assert r["found"] == "not in the map (an assign inserts it)"
    b = run.json("gomap buckets --json")
    assert r["bucket"] == _bucket_address(b, r["bucket_index"])


def test_engine_regs_hash_places_the_key(debugger):
    """The engine hashes as Go does (aeshash keyed by gomap::aeskeysched):
    regs recomputes, at the assign's entry, the hash of a 4-byte key
    (aeshashbody's 0-15 byte case) and of a 40-byte one (its 33-64 case); at a
    later assign (k0's update), with B = 4, the map holds each in the bucket and under the
    tophash those hashes give."""
    _need(debugger)
    long_key = "a rather longer key, 40 bytes in all...."
    cmds = _start(debugger) + [
        "gomap break assign --key k45", _cont(debugger), "gomap regs --json", "gomap break delete",
        f"gomap break assign --key \"{long_key}\"", _cont(debugger), "gomap regs --json", "gomap break delete",
        "gomap break assign --key k0", _cont(debugger),      # the update after the long key
        "gomap buckets --json --type map[string]int64 $rsi",
    ]
    run = dbg.run(debugger, dbg.sample("faststr"), ["--keys", "60", "--seed", "3"], cmds)
    assert not _TRACEBACK.search(run.raw), run.raw
    regs = [run.json("gomap regs --json", i) for i in (0, 1)]
    assert [r["key"] for r in regs] == ["k45", long_key], run.raw
    for r in regs:
        assert r["hash_function"] == "gomap::strhash, aeshash" and r["notes"] == [], r
    b = run.json("gomap buckets --json")
    assert b["B"] == 4 and b["address"] == regs[0]["h"], run.raw
    for r in regs:
        th = r["hash"] >> 56
        assert dbg.key_place(b, r["key"]) == (r["hash"] & 15, th + 5 if th < 5 else th)


# --- watch -------------------------------------------------------------------------------

_HEX = r"0x[0-9a-f]+"


def test_watch_buckets_across_a_grow(debugger):
    _need(debugger)
    binary = dbg.sample("grow")
    # checkpoint 1 is the grow at insert 9 (B 0 -> 1); the next grow is B 1 -> 2
    cmds = dbg.stop_at(debugger, 1) + [
        _delete_bp(debugger, 1),
        "gomap watch m buckets oldbuckets nevacuate",
        _list_wps(debugger),
    ] + [_cont(debugger)] * 6
    run = dbg.run(debugger, binary, ["--keys", "40", "--seed", "1"], cmds)
    assert not _TRACEBACK.search(run.raw), run.raw
    setup = run.out("gomap watch")
    assert re.search(rf"watching buckets \(8 bytes at {_HEX}\), oldbuckets \(8 bytes at {_HEX}\), "
                     rf"nevacuate \(8 bytes at {_HEX}\)", setup), setup
    assert "NOT watched" not in setup
    lines = re.findall(r"^gomap watch 1: map 0x[0-9a-f]+: (.*)$", run.raw, re.M)
    lines = [x for x in lines if not x.startswith("watching")]
    m = re.match(rf"grow started: B 1\u21922, oldbuckets = ({_HEX}), new buckets = ({_HEX})$", lines[0])
    assert m, lines
    old, new = m.groups()
    assert lines[1] == "nevacuate reset 1\u21920 (hashGrow: evacuation of the new grow starts at old bucket 0)"
    assert lines[2] == "evacuated old bucket 0 (nevacuate 0\u21921 of 2)"
    assert lines[3] == "evacuated old bucket 1 (nevacuate 1\u21922 of 2)"
    assert lines[4] == f"grow finished: oldbuckets released ({old} is garbage now), 4 buckets at {new}"
    # each line is one stop of the debugger's own watchpoints
    assert run.out(_list_wps(debugger)).count("0x") >= 3


_MOVE = re.compile(r"^gomap watch 1: key 3 evacuated \(evacuated([XY]), [^)]*\): old bucket (\d+) "
                   r"\((0x[0-9a-f]+)\) slot (\d) \u2192 new bucket (\d+) \((0x[0-9a-f]+)\) slot (\d); "
                   r"watch follows it$", re.M)


def test_watch_key_follows_it_through_evacuation(debugger):
    _need(debugger)
    binary = dbg.sample("grow")
    cmds = dbg.stop_at(debugger, 1) + [
        _delete_bp(debugger, 1),
        "gomap watch m --key 3",
    ] + [_cont(debugger)] * 4 + [
        _list_wps(debugger),
        "gomap break list",
    ]
    run = dbg.run(debugger, binary, ["--keys", "60", "--seed", "1"], cmds)
    assert not _TRACEBACK.search(run.raw), run.raw
    start = run.out("gomap watch")
    m0 = re.search(r"key 3 is in new bucket (\d+) \((0x[0-9a-f]+)\) slot (\d)", start)
    assert m0, start
    moves = _MOVE.findall(run.raw)
    assert len(moves) >= 3, run.raw
    prev = (m0.group(1), m0.group(2), m0.group(3))
    for half, ob, oaddr, oslot, nb, naddr, nslot in moves:
        # each move starts exactly where the watch said the key went
        assert (ob, oaddr, oslot) == prev
        nb, ob = int(nb), int(ob)
        assert nb == ob if half == "X" else nb > ob
        prev = (str(nb), naddr, nslot)
    # the re-armed watchpoints are the debugger's own, at the last new place
    last_addr = int(prev[1], 16)
    wps = run.out(_list_wps(debugger))
    assert f"{last_addr + int(prev[2]):#x}" in wps, wps           # tophash byte
    assert re.search(r"^1\s+watch\s+\d+\s+\d+\s+\d+,\d+\s+m: key 3$", run.out("gomap break list"), re.M)


def test_watch_without_running_and_bad_field(debugger):
    _need(debugger)
    binary = dbg.sample("grow")
    cmds = ["gomap watch m", "gomap break assign --grow"] + dbg.stop_at(debugger, 1) + [
        "gomap watch m hash0x",
        "gomap watch m --key notanumber",
        "gomap break assign --grow --overflow",
        "gomap regs",
        "gomap step",
    ]
    run = dbg.run(debugger, binary, ["--keys", "20", "--seed", "1"], cmds)
    assert not _TRACEBACK.search(run.raw), run.raw
    assert "not running" in run.out("gomap watch m", 0)
    assert "start the program first" in run.out("gomap break assign --grow")
    assert "cannot watch 'hash0x'" in run.out("gomap watch m hash0x")
    assert "--key 'notanumber' is not a valid uint64" in run.out("gomap watch m --key")
    assert "choose one of --grow/--same-size, --overflow, --evacuate" in run.out("gomap break assign --grow --overflow")
    assert "not stopped in a map runtime call" in run.out("gomap regs")
    assert "not stopped inside a mapassign" in run.out("gomap step")


def test_break_on_evacuate_and_overflow(debugger):
    _need(debugger)
    binary = dbg.sample("grow")
    cmds = _start(debugger) + [
        "gomap break assign --evacuate",
        _cont(debugger), _cont(debugger), _cont(debugger),
        "gomap break delete 1",
        "gomap break assign --overflow",
        _cont(debugger),
        "gomap regs",
    ]
    run = dbg.run(debugger, binary, ["--keys", "3000", "--seed", "1"], cmds)
    assert "Traceback" not in run.raw, run.raw
    ev = re.findall(r"^gomap break 1: gomap::evacuate: map 0x[0-9a-f]+ \(map\[uint64\]int64\) count (\d+) "
                    r"B (\d+): evacuating old bucket (\d+) of (\d+) \(nevacuate (\d+)\)$", run.raw, re.M)
    assert [(int(c), int(b), int(i), int(n)) for c, b, i, n, _ in ev] == \
        [(8, 1, 0, 1), (13, 2, 0, 2), (13, 2, 1, 2)], run.raw
    ov = re.search(r"^gomap break 2: gomap::newoverflow: map 0x[0-9a-f]+ \(map\[uint64\]int64\) count (\d+) "
                   r"B (\d+): bucket (0x[0-9a-f]+) is full: an overflow bucket is taken \(noverflow (\d+)\)$",
                   run.out(_cont(debugger), 3), re.M)
    assert ov, run.out(_cont(debugger), 3)
    # newoverflow is not a map entry point: regs says so in one line
    assert "not stopped in a map runtime call" in run.out("gomap regs")
