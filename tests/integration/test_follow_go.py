"""`gomap break assign` and `gomap regs` on a real Go 1.19 program (tests/go/gomaps,
built with -N -l) in gdb 13 and lldb-16: Go's register ABI (RAX, RBX, RCX) at
runtime.mapassign_fast64, grows at runtime.hashGrow against Go's load factor,
and a same-size grow from tooManyOverflowBuckets.

LLDB stops on SIGURG (Go's preemption signal) unless told not to; gdb passes it
silently by default. The lldb sessions below say so with `process handle`.
"""
from __future__ import annotations

import re

import pytest

import dbg

pytestmark = pytest.mark.parametrize("debugger", dbg.DEBUGGERS)


def _program():
    p = dbg.GO_PROGRAMS / "gomaps-debug"
    if not p.exists():
        pytest.skip(f"{p} not built (tests/go/build.sh)")
    return p


def _start(debugger: str) -> list[str]:
    if debugger == "gdb":
        return ["break main.main", "run"]
    return ["breakpoint set -n main.main", "process launch --stop-at-entry",
            "process handle SIGURG -s false -n false -p true", "process continue"]


def test_go_break_on_key_and_regs_register_abi(debugger):
    if not dbg.have(debugger):
        pytest.skip(f"{debugger} is not installed")
    # `gomaps large -n 100` inserts keys i*7919 into make(map[int64]int64)
    cmds = _start(debugger) + [
        "gomap break assign --key 79190",
        "continue",
        "gomap regs --json",
        "gomap buckets --json --type map[int64]int64 $rbx",
        "gomap break delete",
        "gomap break assign --grow",
        "continue",
        "gomap buckets --json --type map[int64]int64 $rbx",
        "continue", "continue",
    ]
    run = dbg.run(debugger, _program(), ["large", "-n", "100"], cmds)
    assert "Traceback" not in run.raw, run.raw
    assert re.search(r"^gomap break 1: runtime\.mapassign_fast64: map 0x[0-9a-f]+ \(map\[int64\]int64\) "
                     r"key 79190 count 10 B 1: key 79190$", run.out("continue", 0), re.M), run.raw
    r = run.json("gomap regs --json")
    assert r["function"] == "runtime.mapassign_fast64" and r["runtime"] == "go"
    assert r["source"] == "registers at entry (RAX, RBX, RCX)"
    assert r["key"] == 79190 and r["hmap"]["count"] == 10
    assert r["maptype"]["bucketsize"] == 144
    # Go's own hash of the key (runtime.memhash64 through aeshash), recomputed:
    # at the next stop (the first grow, 3 inserts later, B still 1) the key is
    # in the bucket and under the tophash it gave.
    assert r["hash_function"].startswith("runtime.memhash64, ") and r["notes"] == [], r
    assert r["bucket_index"] == r["hash"] & 1 and r["lands_in"] == f"new bucket {r['bucket_index']}"
    b = run.json("gomap buckets --json")
    assert b["address"] == r["h"] and b["count"] == 10 and b["buckets"] == r["hmap"]["buckets"]
    later = run.json("gomap buckets --json", 1)
    assert later["address"] == r["h"] and later["count"] == 13 and later["B"] == 1
    assert dbg.key_place(later, 79190) == (r["bucket_index"], r["tophash"]), later
    grows = re.findall(r"^gomap break 2: runtime\.hashGrow: map 0x[0-9a-f]+ \(map\[int64\]int64\) "
                       r"count (\d+) B (\d+): grow starts \(B \d+\u2192\d+; doubling", run.raw, re.M)
    assert [(int(c), int(b)) for c, b in grows] == [(13, 1), (26, 2), (52, 3)], run.raw


def test_go_regs_recomputes_string_hashes(debugger):
    """runtime.strhash of a short key (aeshash's 0-15 byte case) and of a
    52-byte one (its 33-64 byte case), each recomputed at the assign's entry;
    at a later assign the map shows both keys in the buckets and under the
    tophashes those hashes give for the map's B then."""
    if not dbg.have(debugger):
        pytest.skip(f"{debugger} is not installed")
    long_key = "key-14-a-rather-longer-key-to-see-longer-strings-196"
    cmds = _start(debugger) + [
        "gomap break assign --key key-5", "continue", "gomap regs --json", "gomap break delete",
        f"gomap break assign --key {long_key}", "continue", "gomap regs --json", "gomap break delete",
        "gomap break assign --key key-20", "continue",
        "gomap buckets --json --type map[string]string $rbx",
    ]
    run = dbg.run(debugger, _program(), ["strkeys"], cmds)
    assert "Traceback" not in run.raw, run.raw
    short, long_ = run.json("gomap regs --json", 0), run.json("gomap regs --json", 1)
    assert short["key"] == "key-5" and long_["key"] == long_key, run.raw
    for r in (short, long_):
        assert r["function"] == "runtime.mapassign_faststr" and r["hash"] is not None
        assert r["hash_function"].startswith("runtime.strhash, ") and r["notes"] == [], r
    b = run.json("gomap buckets --json")
    assert b["address"] == short["h"] == long_["h"] and b["count"] == 21, run.raw
    mask = len(b["new"]["buckets"]) - 1
    for r in (short, long_):
        th = r["hash"] >> 56
        assert dbg.key_place(b, r["key"]) == (r["hash"] & mask, th + 5 if th < 5 else th)


def test_go_new_key_stops_only_on_new_keys(debugger):
    """`--new-key` on a Go map looks each key up through Go's own hash: of the
    23 assigns after the first checkpoint, the 20 that overwrite are declined
    and the 3 new keys stop, each once (in lldb too, where Go's SIGURG can
    make one hit arrive twice)."""
    if not dbg.have(debugger):
        pytest.skip(f"{debugger} is not installed")
    stop = (["break main.checkpointInt64", "run"] if debugger == "gdb" else
            ["breakpoint set -n main.checkpointInt64", "process launch --stop-at-entry",
             "process handle SIGURG -s false -n false -p true", "process continue"])
    cmds = stop + ["gomap break assign --new-key --map m", "continue", "continue", "continue",
                   "gomap break list", "continue"]
    run = dbg.run(debugger, _program(), ["rewrite"], cmds)
    assert "Traceback" not in run.raw, run.raw
    keys = [int(k) for k in re.findall(r"^gomap break 1: runtime\.mapassign_fast64: map 0x[0-9a-f]+ "
                                       r"\(map\[int64\]int64\) key (\d+) count \d+ B \d+: new key$",
                                       run.raw, re.M)]
    assert keys == [20, 21, 22], run.raw
    # Hits are the stops made; the declines also count other maps' assigns.
    assert re.search(r"^1\s+break\s+3\s+(\d+)\s", run.out("gomap break list"), re.M), run.raw


def test_go_same_size_grow(debugger):
    if not dbg.have(debugger):
        pytest.skip(f"{debugger} is not installed")
    cmds = _start(debugger) + ["gomap break assign --same-size", "continue", "gomap break list"]
    run = dbg.run(debugger, _program(), ["samesize", "-n", "200"], cmds)
    assert "Traceback" not in run.raw, run.raw
    m = re.search(r"^gomap break 1: runtime\.hashGrow: map 0x[0-9a-f]+ \(map\[int64\]int64\) count (\d+) "
                  r"B (\d+): grow starts \(B stays \d+; same size: noverflow (\d+) \u2265 2\^(\d+) "
                  r"\(tooManyOverflowBuckets\)\)$", run.out("continue"), re.M)
    assert m, run.raw
    count, B, nov, exp = map(int, m.groups())
    assert exp == min(B, 15) and nov >= 1 << exp
    assert not (count + 1 > 8 and count + 1 > 13 * ((1 << B) // 2))   # not over the load factor
    # the doubling grows while the map filled up were declined, not shown
    assert re.search(r"^1\s+break\s+1\s+[1-9]\d*\s", run.out("gomap break list"), re.M)


def test_go_watch_buckets_across_grows(debugger):
    """`gomap watch` on a Go map (given by its hmap register and type at hashGrow):
    each grow's start and finish told in words, with B following Go's doubling."""
    if not dbg.have(debugger):
        pytest.skip(f"{debugger} is not installed")
    cmds = _start(debugger) + [
        "gomap break assign --grow", "continue", "gomap break delete",
        "gomap watch --type map[int64]int64 $rbx buckets oldbuckets",
        "continue", "continue", "continue", "continue",
    ]
    run = dbg.run(debugger, _program(), ["large", "-n", "300"], cmds)
    assert "Traceback" not in run.raw, run.raw
    h = re.search(r"^gomap break 1: runtime\.hashGrow: map (0x[0-9a-f]+) ", run.raw, re.M).group(1)
    assert re.search(rf"^gomap watch 2: map {h}: watching buckets \(8 bytes at 0x[0-9a-f]+\), "
                     r"oldbuckets \(8 bytes at 0x[0-9a-f]+\)", run.raw, re.M), run.raw
    events = re.findall(rf"^gomap watch 2: map {h}: (grow started: B (\d+)\u2192(\d+), oldbuckets = "
                        r"(0x[0-9a-f]+), new buckets = (0x[0-9a-f]+)|grow finished: oldbuckets "
                        r"released \((0x[0-9a-f]+) is garbage now\), (\d+) buckets at (0x[0-9a-f]+))$",
                        run.raw, re.M)
    assert len(events) == 4, run.raw
    (s1, f1, s2, f2) = events
    # started B 0->1, finished with 2 buckets; started B 1->2 from that array, finished with 4
    assert (s1[1], s1[2]) == ("0", "1") and f1[6] == "2" and f1[5] == s1[3] and f1[7] == s1[4]
    assert (s2[1], s2[2]) == ("1", "2") and s2[3] == f1[7] and f2[6] == "4" and f2[5] == s2[3]
