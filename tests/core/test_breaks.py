"""gomap break assign: which symbol each condition is decided at, and the
decision at a hit, over byte images with fake registers."""
import pytest

from fakes import I64, MapImage, i64
from gomapcore import gohash
from gomapcore.breaks import (BreakSpec, break_assign, delete_stop, list_stops, over_load_factor)
from gomapcore.layout import resolve_map
from gomapcore.regs import tophash
from gomapcore.target import GomapError
from stop_fakes import StopTarget, engine_maptype, go_maptype, hash_keys

SYMS = {"gomap::mapassign": 0x1000, "gomap::mapassign_fast32": 0x1100,
        "gomap::mapassign_fast64": 0x1200, "gomap::mapassign_faststr": 0x1300,
        "gomap::hashGrow": 0x2000, "gomap::newoverflow": 0x3000, "gomap::evacuate": 0x4000}


def engine_target(count=13, B=1, noverflow=0, keys=()):
    t = StopTarget()
    t.symbols.update(SYMS)
    hk = hash_keys(t)
    m = MapImage(t, I64, I64)
    arr = m.array(1 << B)
    for k in keys:
        h = hk.memhash64(i64(k), 0x55)
        b = m.bucket_addr(arr, h & ((1 << B) - 1))
        i = next(i for i in range(8) if t.read_memory(b + i, 1)[0] == 0)
        m.set_slot(b, i, tophash(h), i64(k), i64(0))
    m.header(count, B, arr, noverflow=noverflow, hash0=0x55)
    m.bind("m")
    mt = engine_maptype(t, "int64", 8, 2, "int64", 8)
    return t, m, mt


def resolver(t, expr):
    return resolve_map(t, t.evaluate(expr))


def test_go_load_factor_rule():
    # grow starts when count+1 > 6.5 * 2^B (and count+1 > 8): counts 8, 13, 26, 52, 104
    firsts = [next(c for c in range(1, 2000) if over_load_factor(c + 1, B)) for B in range(5)]
    assert firsts == [8, 13, 26, 52, 104]


def test_grow_breaks_at_hashGrow_only():
    t, m, mt = engine_target()
    out = break_assign(t, BreakSpec(grow=True))
    assert "gomap::hashGrow" in out
    assert [v[1] for v in t.live.values()] == [0x2000]
    t.regs = {"rdi": mt, "rsi": m.hmap, "rdx": 0, "rcx": 0}
    [line] = t.fire_break(0x2000)
    assert line == (f"gomap break 1: gomap::hashGrow: map {m.hmap:#x} (map[int64]int64) count 13 B 1: "
                    "grow starts (B 1\u21922; doubling: count+1 = 14 > 13 (overLoadFactor at B 1))")


def test_same_size_declines_doubling_grows():
    t, m, mt = engine_target(count=13, B=1)
    break_assign(t, BreakSpec(same_size=True))
    t.regs = {"rdi": mt, "rsi": m.hmap, "rdx": 0, "rcx": 0}
    assert t.fire_break(0x2000) == [None]
    m.header(5, 1, t.read_pointer(m.hmap + 16), noverflow=2, hash0=0x55)
    [line] = t.fire_break(0x2000)
    assert "B stays 1" in line and "tooManyOverflowBuckets" in line
    assert t.stop_registry().get(1).declined == 1


def test_map_filter_compares_the_hmap_argument():
    t, m, mt = engine_target()
    break_assign(t, BreakSpec(grow=True, map_expr="m"), resolver)
    t.regs = {"rdi": mt, "rsi": m.hmap + 4096, "rdx": 0, "rcx": 0}
    assert t.fire_break(0x2000) == [None]
    t.regs["rsi"] = m.hmap
    assert t.fire_break(0x2000)[0] is not None


def test_key_condition_at_every_assign_entry():
    t, m, mt = engine_target(count=0, B=0)
    out = break_assign(t, BreakSpec(key_text="42"))
    assert sorted(v[1] for v in t.live.values()) == [0x1000, 0x1100, 0x1200, 0x1300]
    assert "debugger breakpoints" in out
    t.regs = {"rdi": mt, "rsi": m.hmap, "rdx": 41, "rcx": 0}
    assert t.fire_break(0x1200) == [None]
    t.regs["rdx"] = 42
    [line] = t.fire_break(0x1200)
    assert line == f"gomap break 1: gomap::mapassign_fast64: map {m.hmap:#x} (map[int64]int64) key 42 count 0 B 0: key 42"


def test_bad_key_for_the_type_is_one_line():
    t, m, mt = engine_target(count=0, B=0)
    break_assign(t, BreakSpec(key_text="forty"))
    t.regs = {"rdi": mt, "rsi": m.hmap, "rdx": 1, "rcx": 0}
    [line] = t.fire_break(0x1200)
    assert "cannot decide" in line and "'forty' is not a valid int64" in line


def test_new_key_looks_the_key_up_like_mapassign():
    t, m, mt = engine_target(count=3, B=1, keys=(1, 2, 3))
    break_assign(t, BreakSpec(new_key=True))
    t.regs = {"rdi": mt, "rsi": m.hmap, "rdx": 2, "rcx": 0}
    assert t.fire_break(0x1200) == [None]
    t.regs["rdx"] = 4
    [line] = t.fire_break(0x1200)
    assert line.endswith("key 4 count 3 B 1: new key")


def test_new_key_in_a_go_program_scans():
    t = StopTarget()
    t.symbols.update({"runtime.mapassign": 0x5000, "runtime.mapassign_fast64": 0x5100})
    m = MapImage(t, I64, I64)
    arr = m.array(2)
    m.set_slot(m.bucket_addr(arr, 1), 3, 0x99, i64(8), i64(0))
    m.header(1, 1, arr)
    mt = go_maptype(t, "int64", 8, "int64", 8)
    break_assign(t, BreakSpec(new_key=True))
    t.regs = {"rax": mt, "rbx": m.hmap, "rcx": 8, "rdi": 0}
    assert t.fire_break(0x5100) == [None]
    t.regs["rcx"] = 9
    assert t.fire_break(0x5100)[0].endswith("key 9 count 1 B 1: new key")


def _go_keys(t):
    return hash_keys(t, "go", use_aes=True, salt=3)


def test_new_key_in_a_go_program_follows_the_runtime_hash():
    """With maptype.hasher = runtime.memhash64 the key is looked for where
    mapassign looks: the chain of its bucket (here an overflow bucket of the
    old array, not evacuated yet), and nowhere else."""
    t = StopTarget()
    t.symbols.update({"runtime.mapassign": 0x5000, "runtime.mapassign_fast64": 0x5100,
                      "runtime.memhash64": 0x6000})
    keys = _go_keys(t)
    m = MapImage(t, I64, I64)
    old, new = m.array(2), m.array(4)
    h8 = keys.memhash64(i64(8), 7)
    ovf = m.overflow_bucket()
    m.link(m.bucket_addr(old, h8 & 1), ovf)
    m.set_slot(ovf, 0, tophash(h8), i64(8), i64(0))
    h9 = keys.memhash64(i64(9), 7)
    wrong = m.bucket_addr(old, (h9 & 1) ^ 1)        # 9 where mapassign would never look
    m.set_slot(wrong, 0, tophash(h9), i64(9), i64(0))
    m.header(2, 2, new, oldbuckets=old, hash0=7)
    mt = go_maptype(t, "int64", 8, "int64", 8, hasher=0x6000)
    break_assign(t, BreakSpec(new_key=True))
    t.regs = {"rax": mt, "rbx": m.hmap, "rcx": 8, "rdi": 0}
    assert t.fire_break(0x5100) == [None]
    t.regs["rcx"] = 9
    assert t.fire_break(0x5100)[0].endswith("key 9 count 2 B 2: new key")


def test_new_key_on_a_cyclic_chain_is_one_line():
    t, m, mt = engine_target(count=3, B=1, keys=(1, 2, 3))
    h = gohash.read_keys(t, "engine").memhash64(i64(4), 0x55)
    b = m.bucket_addr(t.read_pointer(m.hmap + 16), h & 1)
    ovf = m.overflow_bucket()
    m.link(b, ovf)
    m.link(ovf, ovf)
    m.header(3, 1, t.read_pointer(m.hmap + 16), noverflow=1, hash0=0x55)
    break_assign(t, BreakSpec(new_key=True))
    t.regs = {"rdi": mt, "rsi": m.hmap, "rdx": 4, "rcx": 0}
    [line] = t.fire_break(0x1200)
    assert "cannot decide" in line and "cyclic" in line and "\n" not in line


def test_overflow_from_evacuate_is_not_an_assign():
    t, m, mt = engine_target()
    break_assign(t, BreakSpec(overflow=True))
    t.regs = {"rdi": mt, "rsi": m.hmap, "rdx": 0xdead0, "rcx": 0}
    t.caller = "gomap::evacuate(gomap::maptype const*, gomap::hmap*, unsigned long)"
    assert t.fire_break(0x3000) == [None]
    t.caller = "gomap::detail_rt::fastAssign<unsigned long>(...)"
    [line] = t.fire_break(0x3000)
    assert "bucket 0xdead0 is full: an overflow bucket is taken" in line


def test_evacuate_declines_buckets_already_moved():
    t, m, mt = engine_target(count=20, B=2)
    new = t.read_pointer(m.hmap + 16)
    old = m.array(2)
    m.header(20, 2, new, oldbuckets=old, nevacuate=0, hash0=0x55)
    t.write(m.bucket_addr(old, 0), bytes([2]))           # old bucket 0: evacuatedX
    break_assign(t, BreakSpec(evacuate=True))
    t.regs = {"rdi": mt, "rsi": m.hmap, "rdx": 0, "rcx": 0}
    assert t.fire_break(0x4000) == [None]
    t.regs["rdx"] = 1
    assert "evacuating old bucket 1 of 2 (nevacuate 0)" in t.fire_break(0x4000)[0]


def test_conflicting_conditions_are_refused():
    t, m, mt = engine_target()
    with pytest.raises(GomapError, match="choose one of"):
        break_assign(t, BreakSpec(grow=True, overflow=True))
    with pytest.raises(GomapError, match="--key is decided at the mapassign entry"):
        break_assign(t, BreakSpec(grow=True, key_text="1"))
    assert t.live == {}


def test_no_runtime_symbols_is_one_line():
    t = StopTarget()
    with pytest.raises(GomapError, match="no map runtime in this program"):
        break_assign(t, BreakSpec(grow=True))


def test_list_and_delete_and_the_debuggers_own_delete():
    t, m, mt = engine_target()
    break_assign(t, BreakSpec(grow=True))
    break_assign(t, BreakSpec(key_text="3"))
    text = list_stops(t)
    assert "1    break" in text and "assign: grow" in text and "assign: key 3" in text
    # the user deletes breakpoint 1's debugger breakpoint with `delete N`
    h = t.stop_registry().get(1).handles[0]
    t.delete_stop(h)
    text = list_stops(t)
    assert "assign: grow" not in text
    assert delete_stop(t, [2]).startswith("deleted gomap break 2")
    assert t.live == {}
    with pytest.raises(GomapError, match="no gomap break/watch number 7"):
        delete_stop(t, [7])


def test_go_morestack_restart_is_one_event():
    # A Go function entry can run twice for one call (prologue -> morestack ->
    # the function again): the second hit with the same arguments and header is
    # not a second grow.
    t = StopTarget()
    t.symbols.update({"runtime.mapassign": 0x5000, "runtime.hashGrow": 0x6000})
    m = MapImage(t, I64, I64)
    arr = m.array(2)
    m.header(13, 1, arr)
    mt = go_maptype(t, "int64", 8, "int64", 8)
    break_assign(t, BreakSpec(grow=True))
    t.regs = {"rax": mt, "rbx": m.hmap, "rcx": 0, "rdi": 0, "rsp": 0xc000100000}
    assert t.fire_break(0x6000)[0] is not None
    t.regs["rsp"] = 0xc000200000          # the copied stack
    t.regs["rcx"] = 0x1234                # not an argument of hashGrow: may differ
    assert t.fire_break(0x6000) == [None]
    m.header(26, 2, m.array(4))           # a later grow is a new event
    assert t.fire_break(0x6000)[0] is not None


def test_go_same_key_assigned_twice_from_one_frame_stops_twice():
    # key 5 is in the map: two assigns of it in a row leave the header as it
    # was, and both are events
    t = StopTarget()
    t.symbols.update({"runtime.mapassign": 0x5000, "runtime.mapassign_fast64": 0x5100})
    m = MapImage(t, I64, I64)
    arr = m.array(1)
    m.set_slot(arr, 0, 0x77, i64(5), i64(1))
    m.header(1, 0, arr)
    mt = go_maptype(t, "int64", 8, "int64", 8)
    break_assign(t, BreakSpec(key_text="5"))
    t.regs = {"rax": mt, "rbx": m.hmap, "rcx": 5, "rdi": 0, "rsp": 0xc000100000}
    assert t.fire_break(0x5100)[0] is not None
    assert t.fire_break(0x5100)[0] is not None


def test_go_absent_key_hit_again_unchanged_is_one_event():
    """LLDB reports one hit twice when Go's SIGURG lands while it steps off the
    breakpoint: same frame, same arguments, and the key still absent (a real
    second assign would follow a first that inserted it)."""
    t = StopTarget()
    t.symbols.update({"runtime.mapassign": 0x5000, "runtime.mapassign_fast64": 0x5100})
    m = MapImage(t, I64, I64)
    m.header(0, 0, m.array(1))
    mt = go_maptype(t, "int64", 8, "int64", 8)
    break_assign(t, BreakSpec(key_text="5"))
    t.regs = {"rax": mt, "rbx": m.hmap, "rcx": 5, "rdi": 0, "rsp": 0xc000100000}
    assert t.fire_break(0x5100)[0] is not None
    assert t.fire_break(0x5100) == [None]
    m.header(1, 0, t.read_pointer(m.hmap + 16))   # the program ran: the header moved
    assert t.fire_break(0x5100)[0] is not None
