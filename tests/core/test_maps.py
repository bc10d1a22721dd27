"""gomap print/buckets over hand-laid images: grows, deletions, chains, indirect keys.

Expected outputs are derived from the image each test builds (which key sits in
which cell), not copied from the decoder.
"""
import json
import struct

import pytest

from fakes import (BOOL, F64, I64, STRING, FakeTarget, MapImage, array_of, go_map_type, i64,
                   pointer_to, string_bytes, struct_type)
from gomapcore.commands import dispatch, summarize
from gomapcore.target import GomapError, Value

EVAC_X, EVAC_Y, EVAC_EMPTY, EMPTY_ONE = 2, 3, 4, 1
ITERATOR, OLD_ITERATOR, SAME_SIZE = 1, 2, 8


def run(t, line):
    name, _, rest = line.partition(" ")
    return dispatch(t, name, rest)


# --- plain maps ----------------------------------------------------------------------

def test_deleted_slots_are_not_shown():
    t = FakeTarget()
    m = MapImage(t, I64, I64)
    arr = m.array(2)
    b0, b1 = m.bucket_addr(arr, 0), m.bucket_addr(arr, 1)
    m.set_slot(b0, 0, 0x90, i64(1), i64(10))
    m.set_slot(b0, 1, EMPTY_ONE, i64(2), i64(20))   # deleted: key bytes stay, must not show
    m.set_slot(b0, 2, 0x91, i64(3), i64(30))
    m.set_slot(b1, 0, EMPTY_ONE, i64(4), i64(40))   # deleted, then emptyRest after it
    m.header(2, 1, arr)
    m.bind("m")
    assert run(t, "print m") == "map[int64]int64 [1: 10, 3: 30, ]"
    text = run(t, "buckets m")
    assert "[1] 01 emptyOne" in text and "[3..7] 00 emptyRest" in text


def test_overflow_chain_with_preallocated_buckets():
    # B = 4 with 144-byte buckets: 16 + 2^0 = 17 buckets = 2448 bytes, which Go's
    # allocator rounds to the 2688-byte size class: 18 buckets, two preallocated.
    t = FakeTarget()
    m = MapImage(t, I64, I64)
    assert m.bs == 144
    arr = m.array(16, nalloc=18)
    b3 = m.bucket_addr(arr, 3)
    for i in range(8):
        m.set_slot(b3, i, 0x80 + i, i64(100 + i), i64(i))
    pre = m.bucket_addr(arr, 16)
    m.set_slot(pre, 0, 0x99, i64(200), i64(8))
    outside = m.overflow_bucket()
    m.set_slot(outside, 0, 0x9a, i64(300), i64(9))
    m.link(b3, pre)
    m.link(pre, outside)
    m.link(m.bucket_addr(arr, 17), arr)   # end marker of the preallocated area
    m.header(10, 4, arr, noverflow=2)
    m.bind("m")
    keys = ", ".join(f"{100 + i}: {i}" for i in range(8))
    assert run(t, "print m") == f"map[int64]int64 [{keys}, 200: 8, 300: 9, ]"
    text = run(t, "buckets m 3")
    assert f"overflow -> {pre:#x} (preallocated)" in text
    assert f"overflow -> {outside:#x}\n" in text
    assert "2 preallocated overflow buckets" in text
    d = json.loads(run(t, "buckets --json m 3"))
    ov = d["new"]["buckets"][0]["overflow"]
    assert [(o["address"], o["preallocated"]) for o in ov] == [(pre, True), (outside, False)]
    # the whole array (with preallocated buckets) is one read; outside chain one more
    t.reads = 0
    run(t, "print m")
    assert t.reads <= 4


def test_cut_after_64_entries_like_delve():
    t = FakeTarget()
    m = MapImage(t, I64, I64)
    arr = m.array(16, nalloc=18)
    n = 0
    for b in range(16):
        for s in range(5):
            m.set_slot(m.bucket_addr(arr, b), s, 0x80, i64(n), i64(n))
            n += 1
    m.header(80, 4, arr)
    m.bind("m")
    first = "".join(f"{i}: {i}, " for i in range(64))
    assert run(t, "print m") == f"map[int64]int64 [{first},...+16 more]"
    assert run(t, "print -n 2 m") == "map[int64]int64 [0: 0, 1: 1, ,...+78 more]"
    assert run(t, "print --all m").count(": ") == 80
    assert len(json.loads(run(t, "print --json m"))["entries"]) == 80


# --- growing maps ---------------------------------------------------------------------

def doubling_image(flags=0, keep_old_keys=False):
    """Old B=1 -> new B=2. Old 0 evacuated (10 -> X new0, 20 -> Y new2); 10 updated to 111
    after the move. Old 1 pending with 11, 21 and a deleted 31. nevacuate = 1."""
    t = FakeTarget()
    m = MapImage(t, I64, I64)
    old, new = m.array(2), m.array(4)
    o0, o1 = m.bucket_addr(old, 0), m.bucket_addr(old, 1)
    if keep_old_keys:   # an old iterator keeps evacuated keys/elems (stale values)
        m.set_slot(o0, 0, EVAC_X, i64(10), i64(100))
        m.set_slot(o0, 1, EVAC_Y, i64(20), i64(200))
    else:
        m.set_slot(o0, 0, EVAC_X)
        m.set_slot(o0, 1, EVAC_Y)
    for i in range(2, 8):
        m.set_slot(o0, i, EVAC_EMPTY)
    m.set_slot(o1, 0, 0xa0, i64(11), i64(110))
    m.set_slot(o1, 1, EMPTY_ONE, i64(31), i64(310))
    m.set_slot(o1, 2, 0xa1, i64(21), i64(210))
    m.set_slot(m.bucket_addr(new, 0), 0, 0xb0, i64(10), i64(111))
    m.set_slot(m.bucket_addr(new, 2), 0, 0xb1, i64(20), i64(200))
    m.header(4, 2, new, oldbuckets=old, flags=flags, nevacuate=1)
    m.bind("m")
    return t, m, old, new


@pytest.mark.parametrize("flags,keep", [(0, False), (OLD_ITERATOR | ITERATOR, True), (ITERATOR, False)])
def test_mid_grow_every_entry_once_with_current_value(flags, keep):
    t, *_ = doubling_image(flags, keep)
    # new0 (old0 evacuated) -> 10; new1 -> old1 pending -> 11, 21; new2 -> 20; new3 -> old1 again
    assert run(t, "print m") == "map[int64]int64 [10: 111, 11: 110, 21: 210, 20: 200, ]"
    d = json.loads(run(t, "print --json m"))
    assert sorted(map(tuple, d["entries"])) == [(10, 111), (11, 110), (20, 200), (21, 210)]
    assert d["growing"] is True and d["same_size_grow"] is False and d["nevacuate"] == 1
    assert d["warnings"] == []


def test_mid_grow_buckets_view():
    t, m, old, new = doubling_image()
    text = run(t, "buckets m")
    assert f"OLD[0] {old:#x}-{old + 144:#x}  evacuated to X NEW[0] and Y NEW[2]" in text
    assert f"OLD[1] {old + 144:#x}-{old + 288:#x}  pending  <- nevacuate" in text
    assert "doubling grow: evacuated 1/2 old buckets" in text
    assert run(t, "buckets --new m").count("OLD[") == 0
    d = json.loads(run(t, "buckets --json m"))
    assert [b["evacuated"] for b in d["old"]["buckets"]] == ["X+Y", None]
    assert [b["nevacuate_mark"] for b in d["old"]["buckets"]] == [False, True]
    assert d["old"]["buckets"][0]["y"] == 2
    assert [s["state"] for s in d["old"]["buckets"][1]["slots"][:3]] == ["live", "emptyOne", "live"]
    assert "\x1b[" not in text


def test_verbose_header_names_flags_and_progress():
    t, *_ = doubling_image(OLD_ITERATOR | ITERATOR, True)
    out = run(t, "print -v m").splitlines()
    assert "len 4, B 2 (4 buckets), flags iterator|oldIterator" in out[0]
    assert out[2] == "growth: doubling grow: evacuated 1/2 old buckets, nevacuate=1"


def test_same_size_grow():
    t = FakeTarget()
    m = MapImage(t, I64, I64)
    old, new = m.array(2), m.array(2)
    o0, o1 = m.bucket_addr(old, 0), m.bucket_addr(old, 1)
    m.set_slot(o0, 0, EVAC_X)
    for i in range(1, 8):
        m.set_slot(o0, i, EVAC_EMPTY)
    m.set_slot(o1, 0, 0xc0, i64(7), i64(70))
    ov = m.overflow_bucket()
    m.set_slot(ov, 0, 0xc1, i64(9), i64(90))
    m.link(o1, ov)
    m.set_slot(m.bucket_addr(new, 0), 0, 0xc2, i64(5), i64(50))
    m.header(3, 1, new, oldbuckets=old, flags=SAME_SIZE, nevacuate=1)
    m.bind("m")
    assert run(t, "print m") == "map[int64]int64 [5: 50, 7: 70, 9: 90, ]"
    d = json.loads(run(t, "print --json m"))
    assert d["same_size_grow"] is True
    assert "evacuated to X NEW[0]" in run(t, "buckets m")


# --- types ---------------------------------------------------------------------------

def test_indirect_keys_over_128_bytes():
    big = struct_type("Big", [("ID", I64), ("Pad", array_of(I64, 16))])
    assert big.size == 136
    t = FakeTarget()
    m = MapImage(t, big, BOOL)
    assert m.ks == 8           # the slot holds a pointer
    arr = m.array(1)
    m.set_slot(arr, 0, 0x80, i64(7) + bytes(128), b"\x01")
    m.header(1, 0, arr)
    m.bind("m")
    zeros = ",".join("0" * 16)
    assert run(t, "print m") == f"map[Big]bool [{{ID: 7, Pad: [16]int64 [{zeros}]}}: true, ]"


def test_pointer_values_are_not_indirect():
    big = struct_type("Big", [("ID", I64), ("Pad", array_of(I64, 16))])
    t = FakeTarget()
    pbig = pointer_to(big)
    m = MapImage(t, I64, pbig)
    arr = m.array(1)
    m.set_slot(arr, 0, 0x80, i64(1), struct.pack("<Q", 0x4000))
    m.set_slot(arr, 1, 0x81, i64(2), struct.pack("<Q", 0))
    m.header(2, 0, arr)
    m.bind("m")
    assert run(t, "print m") == "map[int64]*Big [1: (*Big)(0x4000), 2: nil, ]"


def test_struct_values_and_float_keys():
    pt = struct_type("Point", [("X", I64), ("Y", I64)])
    t = FakeTarget()
    m = MapImage(t, F64, pt)
    arr = m.array(1)
    m.set_slot(arr, 0, 0x80, struct.pack("<d", 1.5), i64(1) + i64(2))
    m.set_slot(arr, 1, 0x81, struct.pack("<d", 1e6), i64(-3) + i64(4))
    m.header(2, 0, arr)
    m.bind("m")
    assert run(t, "print m") == "map[float64]Point [1.5: {X: 1, Y: 2}, 1e+06: {X: -3, Y: 4}, ]"


def test_string_quoting_and_cut_long_strings():
    t = FakeTarget()
    m = MapImage(t, STRING, STRING)
    arr = m.array(1)
    m.set_slot(arr, 0, 0x80, string_bytes(t, b'q"\n\xff'), string_bytes(t, b"x" * 70))
    m.header(1, 0, arr)
    m.bind("m")
    assert run(t, "print m") == 'map[string]string ["q\\"\\n\\xff": "' + "x" * 64 + '...+6 more", ]'
    assert json.loads(run(t, "print --json m"))["entries"][0][1] == "x" * 70


def test_string_bytes_are_read_in_bulk():
    t = FakeTarget()
    m = MapImage(t, STRING, I64)
    arr = m.array(16, nalloc=18)
    for b in range(16):
        for s in range(6):
            m.set_slot(m.bucket_addr(arr, b), s, 0x80, string_bytes(t, b"k%d_%d" % (b, s)), i64(s))
    m.header(96, 4, arr)
    m.bind("m")
    t.reads = 0
    d = json.loads(run(t, "print --json m"))
    assert len(d["entries"]) == 96 and ["k3_4", 4] in d["entries"]
    assert t.reads <= 4   # hmap, array, string bytes in one merged span


def test_go_dwarf_map_typedef():
    t = FakeTarget()
    gostr = STRING
    m = MapImage(t, gostr, I64)
    arr = m.array(1)
    m.set_slot(arr, 0, 0x80, string_bytes(t, b"a"), i64(1))
    m.header(1, 0, arr)
    ty = go_map_type("map[string]int", gostr, I64)
    t.values["gm"] = Value(ty, 0x9000, struct.pack("<Q", m.hmap))
    assert run(t, "print gm") == 'map[string]int ["a": 1, ]'


def test_address_with_type():
    t = FakeTarget()
    m = MapImage(t, I64, STRING)
    arr = m.array(1)
    m.set_slot(arr, 0, 0x80, i64(3), string_bytes(t, b"three"))
    m.header(1, 0, arr)
    assert run(t, f"print --type map[int64]string {m.hmap:#x}") == 'map[int64]string [3: "three", ]'
    with pytest.raises(GomapError, match="--type"):
        run(t, f"print {m.hmap:#x}")


def test_summarize_for_pretty_printers():
    t, m, old, new = doubling_image()
    summary, children = summarize(t, t.values["m"])
    assert summary == "map[int64]int64 [10: 111, 11: 110, 21: 210, 20: 200, ]"
    assert [(c[0], c[1]) for c in children] == [("10", "111"), ("11", "110"), ("21", "210"), ("20", "200")]
    # key 10 lives in new bucket 0 slot 0; 11 in old bucket 1 slot 0
    assert children[0][2] == new + 8 and children[0][3] == new + 8 + 64
    assert children[1][2] == old + 144 + 8


def test_dot_has_both_arrays_in_different_colours(tmp_path):
    t, *_ = doubling_image()
    text = run(t, "dot m")
    assert "cluster_new" in text and "cluster_old" in text
    assert "old0 -> new0" in text and "old0 -> new2" in text
    out = tmp_path / "m.dot"
    assert run(t, f"dot m -o {out}") == f"wrote {out}"
    assert out.read_text().startswith("digraph")
