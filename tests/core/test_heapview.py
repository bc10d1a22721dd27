"""gomap heap views over registry images packed from heap.h's layout (heap_fixtures)."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from gomapcore import heapblock, heaptimeline, heapview
from gomapcore.heapblock import BucketGeometry
from gomapcore.target import GomapError
from heap_fixtures import (A_NEW, A_OLD, A_OVF_NEW, A_OVF_OLD, B_CUR, B_FORMER, BS, C_ARR,
                           MAP_A, MAP_B, MAP_C, RECORDS_ADDR, REGISTRY_ADDR, Scene,
                           grow_scene, pack_hmap, pack_record, pack_registry)


def view(scene: Scene = None, **header) -> heapview.HeapView:
    return heapview.load((scene or grow_scene()).target(**header))


# --- reading the registry ----------------------------------------------------------

def test_registry_is_read_with_one_header_and_one_records_read():
    t = grow_scene().target()
    reg = heapview.read_registry(t)
    assert t.read_log == [(REGISTRY_ADDR, 96), (RECORDS_ADDR, 10 * 64)]
    assert reg.count == 10 and reg.capacity == 14 and reg.gc_cycles == 1 and reg.seq == 13
    r = reg.records[6]
    assert (r.addr, r.size, r.owner, r.role_name, r.state_name, r.B, r.nbuckets) == \
        (B_FORMER, 2 * BS, MAP_B, "buckets", "freed", 1, 2)
    assert (r.alloc_seq, r.dead_seq, r.free_seq) == (7, 9, 10)


def test_owner_hmaps_are_read_in_one_coalesced_read():
    t = grow_scene().target()
    heapview.load(t)
    hmap_reads = [rd for rd in t.read_log if MAP_A <= rd[0] <= MAP_C]
    assert hmap_reads == [(MAP_A, MAP_C + 48 - MAP_A)]


def _one_line_error(t, *needles):
    with pytest.raises(GomapError) as e:
        heapview.read_registry(t)
    msg = str(e.value)
    assert "\n" not in msg
    for n in needles:
        assert n in msg, msg
    return msg


def test_missing_symbol():
    t = grow_scene().target()
    t.symbols.clear()
    _one_line_error(t, "gomap_heap_registry not found", "--map EXPR")


@pytest.mark.parametrize("header, needles", [
    (dict(magic=b"GOMAPXX9"), ("corrupted", "magic")),
    (dict(magic=b"\0" * 8), ("not initialised",)),
    (dict(version=1), ("version 1", "reads version 2")),
    (dict(record_size=48), ("corrupted", "record_size 48")),
    (dict(count=20, capacity=14), ("corrupted", "count 20 exceeds capacity 14")),
    (dict(count=1 << 30, capacity=1 << 31), ("corrupted", "limit")),
    (dict(records_addr=0), ("corrupted", "null records pointer")),
    (dict(records_addr=0x7F0000), ("corrupted", "cannot read its 10 records")),
])
def test_bad_registry_gives_one_clear_line(header, needles):
    _one_line_error(grow_scene().target(**header), *needles)


def test_unreadable_header():
    t = grow_scene().target()
    t.symbols["gomap_heap_registry"] = 0x900000
    _one_line_error(t, "cannot read the heap registry header at 0x900000")


def test_record_with_unknown_role_is_corruption():
    s = grow_scene()
    s.records[3]["role"] = 9
    _one_line_error(s.target(), "record #3", "role 9")


def test_empty_registry():
    st = view(Scene())
    text, data = heapview.inuse(st)
    assert data["live"]["count"] == 0 and data["garbage"]["bytes"] == 0
    assert "0 live allocations" in text


def test_torn_totals_are_noted_not_fatal():
    text, data = heapview.inuse(view(live=1))
    assert data["note"] and "disagree" in text


# --- inuse ------------------------------------------------------------------------

def test_inuse_by_map_totals_old_and_garbage():
    text, data = heapview.inuse(view())
    live = data["live"]
    # A: 48 + 144 + 144 + 288 + 144; B: 48 + 576 (its former array is freed: not in use).
    assert live["count"] == 7 and live["bytes"] == 768 + 624
    groups = {g["key"]: g for g in live["groups"]}
    assert set(groups) == {f"{MAP_A:#x}", f"{MAP_B:#x}"}
    a = groups[f"{MAP_A:#x}"]
    assert (a["bytes"], a["count"]) == (768, 5)
    assert (a["old_bytes"], a["old_count"]) == (2 * BS, 2)   # A_OLD and its overflow
    assert a["roles"]["overflow"] == {"count": 2, "bytes": 288}
    assert groups[f"{MAP_B:#x}"]["old_count"] == 0
    assert live["old_bytes"] == 288
    assert [g["key"] for g in live["groups"]] == [f"{MAP_A:#x}", f"{MAP_B:#x}"]  # by bytes
    assert data["garbage"] == {"count": 2, "bytes": 192, "groups": data["garbage"]["groups"]}
    assert data["garbage"]["groups"][0]["key"] == f"{MAP_C:#x}"
    assert "OLD 288 bytes in 2" in text and "GARBAGE" in text
    assert f"map {MAP_A:#x} len=10 B=1 growing" in text
    json.dumps(data)


def test_inuse_by_role_and_by_B():
    _, by_role = heapview.inuse(view(), by="role")
    roles = {g["key"]: g for g in by_role["live"]["groups"]}
    assert roles["buckets"]["bytes"] == 144 + 288 + 576 and roles["buckets"]["old_count"] == 1
    assert roles["hmap"]["count"] == 2 and roles["overflow"]["old_count"] == 1
    _, by_b = heapview.inuse(view(), by="B")
    bs = {g["key"]: g["bytes"] for g in by_b["live"]["groups"]}
    assert bs == {0: 48 + 144 + 144 + 48, 1: 288 + 144, 2: 576}
    with pytest.raises(GomapError, match="--by must be one of"):
        heapview.inuse(view(), by="size")


def test_inuse_for_one_map():
    _, data = heapview.inuse(view(), map_addr=MAP_B)
    assert data["live"]["bytes"] == 48 + 576 and data["garbage"]["count"] == 0
    text, data = heapview.inuse(view(), map_addr=0x999)
    assert data["live"]["count"] == 0 and "no allocations recorded for 0x999" in text


def test_old_becomes_garbage_when_the_grow_finishes_then_freed():
    s = grow_scene()
    s.memory[MAP_A] = pack_hmap(count=10, B=1, buckets=A_NEW, oldbuckets=0, nevacuate=1)
    for r in s.records:
        if r["addr"] in (A_OLD, A_OVF_OLD):
            r.update(state="unreachable", dead_seq=14)
    _, data = heapview.inuse(view(s))
    assert data["live"]["old_count"] == 0
    garbage = {g["key"]: g for g in data["garbage"]["groups"]}
    assert garbage[f"{MAP_A:#x}"]["bytes"] == 2 * BS
    for r in s.records:
        if r["addr"] in (A_OLD, A_OVF_OLD):
            r.update(state="freed", free_seq=15)
    _, data = heapview.inuse(view(s))
    assert f"{MAP_A:#x}" not in {g["key"] for g in data["garbage"]["groups"]}


# --- allocs -----------------------------------------------------------------------

def test_allocs_includes_freed_and_the_difference():
    text, data = heapview.allocs(view())
    assert data["count"] == 10
    assert data["bytes"] == 768 + 48 + 288 + 576 + 48 + 144
    assert data["freed"] == {"count": 1, "bytes": 288}
    assert data["bytes"] - data["live"]["bytes"] - data["garbage"]["bytes"] == 288
    b = next(g for g in data["groups"] if g["key"] == f"{MAP_B:#x}")
    assert b["freed"]["bytes"] == 288 and b["live"]["bytes"] == 624 and b["bytes"] == 912
    assert "allocs - inuse = 288 bytes freed in 1" in text
    assert data["forgotten"] == {"count": 0, "bytes": 0} and "forgotten" not in text
    json.dumps(data)


def test_allocs_counts_what_the_registry_forgot():
    text, data = heapview.allocs(view(forgotten=5000, forgotten_bytes=720000))
    assert data["forgotten"] == {"count": 5000, "bytes": 720000}
    assert data["count"] == 10   # the records it still has
    assert "not shown: 5000 older freed allocations (720000 bytes)" in text.splitlines()[1]
    text, _ = heapview.allocs(view(forgotten=5000, forgotten_bytes=720000), map_addr=MAP_B)
    assert "(720000 bytes, all maps)" in text


# --- block ------------------------------------------------------------------------

def test_block_bucket_and_slot_with_the_type():
    st = view()
    addr = A_NEW + BS + 8 + 3 * 8 + 4          # bucket 1, key[3]
    text, d = heapblock.block(st, addr, BucketGeometry(8, 8))
    assert (d["array"], d["bucket"], d["field"], d["slot"]) == ("new", 1, "key", 3)
    assert d["bucket_size"] == BS and d["bucket_size_source"] == "type"
    assert d["state"] == "live" and not d["dangling"]
    assert d["references"] == [f"hmap.buckets of {MAP_A:#x}"]
    assert "NEW array" in text and "bucket 1, key[3]" in text
    _, d = heapblock.block(st, A_NEW + 8 + 64 + 7 * 8, BucketGeometry(8, 8))
    assert (d["bucket"], d["field"], d["slot"]) == (0, "elem", 7)
    _, d = heapblock.block(st, A_NEW + 2, BucketGeometry(8, 8))
    assert (d["field"], d["slot"]) == ("tophash", 2)
    _, d = heapblock.block(st, A_NEW + BS + 136, BucketGeometry(8, 8))
    assert d["field"] == "overflow"


def test_block_old_array_and_evacuation():
    st = view()
    text, d = heapblock.block(st, A_OLD + 20, BucketGeometry(8, 8))
    assert d["array"] == "old" and d["bucket"] == 0 and d["evacuated"] is False
    assert "OLD array" in text and "not yet evacuated" in text
    assert d["references"] == [f"hmap.oldbuckets of {MAP_A:#x}"]


def test_block_without_type_infers_bucket_when_sizes_agree():
    st = view()
    # 288 bytes for 2 buckets: 136- or 144-byte buckets both round to 288, but
    # offset 180 is in bucket 1 either way.
    text, d = heapblock.block(st, A_NEW + 180)
    assert d["bucket_sizes"] == [136, 144] and d["bucket"] == 1 and d["slot"] is None
    assert d["bucket_size_source"] == "ambiguous"
    _, d = heapblock.block(st, A_NEW + 140)    # bucket 0 or 1 depending on the size
    assert d["bucket"] is None
    assert "bucket size could be 136/144" in heapblock.block(st, A_NEW + 140)[0]


def test_block_preallocated_overflow_bucket():
    s = Scene()
    s.alloc(MAP_A, 48, MAP_A, "hmap")
    # B=4: 16 + 1 buckets of 144 = 2448 bytes, rounded to the 2688 class: 18 buckets.
    s.alloc(0x80000, 2688, MAP_A, "buckets", B=4, nbuckets=16)
    s.memory[MAP_A] = pack_hmap(count=100, B=4, buckets=0x80000)
    st = view(s)
    _, d = heapblock.block(st, 0x80000 + 17 * BS + 8, BucketGeometry(8, 8))
    assert (d["bucket"], d["bucket_kind"], d["field"], d["slot"]) == \
        (17, "preallocated overflow", "key", 0)
    _, d = heapblock.block(st, 0x80000 + 18 * BS + 4, BucketGeometry(8, 8))
    assert d["bucket_kind"] == "slack"
    assert heapblock.array_bucket_count(st.reg.records[1], BS) == 18


def test_block_freed_array_is_poisoned_and_dangling_when_still_pointed_at():
    st = view(grow_scene(b_oldbuckets=B_FORMER))
    text, d = heapblock.block(st, B_FORMER + 16, BucketGeometry(8, 8))
    assert d["state"] == "freed" and d["poisoned"] is True and d["dangling"] is True
    assert d["record"]["free_seq"] == 10 and d["record"]["dead_seq"] == 9
    assert "DANGLING: hmap.oldbuckets" in text and "poisoned" in text
    text, d = heapblock.block(view(), B_FORMER + 16)
    assert d["dangling"] is False and "no pointer of its map refers to it" in text


def test_block_garbage_of_a_dropped_map_is_not_dangling():
    text, d = heapblock.block(view(), C_ARR)
    assert d["state"] == "unreachable" and not d["dangling"]
    assert "GARBAGE" in text and "itself unreachable" in text


def test_block_overflow_bucket_listed_in_mapextra():
    s = grow_scene()
    extra, sl, arr = 0x50000, 0x50100, 0x50200
    s.memory[extra] = (0).to_bytes(8, "little") + sl.to_bytes(8, "little") + bytes(8)
    s.memory[sl] = arr.to_bytes(8, "little") + (1).to_bytes(8, "little") * 2
    s.memory[arr] = A_OVF_OLD.to_bytes(8, "little")
    s.memory[MAP_A] = pack_hmap(count=10, B=1, buckets=A_NEW, oldbuckets=A_OLD, extra=extra)
    _, d = heapblock.block(view(s), A_OVF_OLD + 8 + 8, BucketGeometry(8, 8))
    assert d["bucket_kind"] == "overflow" and (d["field"], d["slot"]) == ("key", 1)
    assert d["references"] == [f"mapextra.oldoverflow[0] of {MAP_A:#x}"]


def test_block_freed_memory_not_poisoned_tells_reuse_from_a_write_after_free():
    s = grow_scene()
    rec = next(r for r in s.records if r["addr"] == B_FORMER)
    s.memory[B_FORMER] = (0x1234).to_bytes(8, "little") + bytes(2 * BS - 8)
    text, d = heapblock.block(view(s), B_FORMER)
    assert d["poisoned"] is False and d["record"]["reused"] is False
    assert "still quarantined, but NOT poisoned (word 0x1234): written after it was freed" in text
    rec["flags"] = 1
    text, d = heapblock.block(view(s), B_FORMER)
    assert d["record"]["reused"] is True
    assert "given back for reuse (word 0x1234)" in text and "written after" not in text


def test_block_unknown_address_mentions_forgotten_records():
    with pytest.raises(GomapError, match="in no allocation") as e:
        heapblock.block(view(forgotten=3, forgotten_bytes=432), 0x12345678)
    assert "3 old freed allocations are forgotten" in str(e.value)
    with pytest.raises(GomapError) as e:
        heapblock.block(view(), 0x12345678)
    assert "forgotten" not in str(e.value)


def test_block_reused_address_prefers_the_newest_allocation():
    s = grow_scene()
    s.alloc(B_FORMER, 2 * BS, MAP_B, "overflow", B=2, alloc_seq=20, fill=bytes(288))
    text, d = heapblock.block(view(s), B_FORMER + 8)
    assert d["role"] == "overflow" and d["state"] == "live"
    assert len(d["earlier"]) == 1 and d["earlier"][0]["state"] == "freed"
    assert "earlier here" in text


def test_block_hmap_field_and_unknown_address():
    _, d = heapblock.block(view(), MAP_A + 24)
    assert d["role"] == "hmap" and d["field"] == "oldbuckets"
    with pytest.raises(GomapError, match="in no allocation"):
        heapblock.block(view(), 0x12345678)


def test_bucket_size_candidates_use_overflow_sizes():
    # map[int64]bool: 88-byte buckets; two of them are 176 bytes, an exact class.
    r = heapview.HeapRecord(0x1000, 176, 0, 1, 0, 0, 2, 2, 0, 1)
    assert heapblock.bucket_size_candidates(r) == [88]
    assert heapblock.bucket_size_candidates(r, {96}) == [88]   # one 88-byte overflow: 96
    assert heapblock.bucket_size_candidates(r, {80}) == []


# --- timeline ---------------------------------------------------------------------

def test_timeline_lanes_grows_and_phases():
    text, data = heaptimeline.timeline(view())
    lanes = {ln["hmap"]: ln for ln in data["maps"]}
    assert [ln["hmap"] for ln in data["maps"]] == [MAP_A, MAP_B, MAP_C]
    a = lanes[MAP_A]
    assert a["grows"] == [{"seq": 4, "from_B": 0, "to_B": 1, "same_size": False}]
    assert a["arrays"][0]["old_seq"] == 4 and a["arrays"][1]["old_seq"] is None
    assert a["overflow"] == [3, 5]
    b = lanes[MAP_B]
    assert b["arrays"][0]["free_seq"] == 10 and b["grows"][0]["to_B"] == 2
    assert data["gc_seqs"] == [10] and (data["seq_min"], data["seq_max"]) == (1, 13)
    assert "^" in text and "x" in text and "O" in text
    json.dumps(data)


def test_timeline_says_when_older_history_is_forgotten():
    text, data = heaptimeline.timeline(view())
    assert data["forgotten"] == 0 and "forgotten" not in text
    text, data = heaptimeline.timeline(view(forgotten=40, forgotten_bytes=5760))
    assert data["forgotten"] == 40
    assert "(40 older freed allocations are forgotten" in text.splitlines()[1]


def test_timeline_svg_is_well_formed(tmp_path):
    out = tmp_path / "t.svg"
    text, data = heaptimeline.timeline(view(), svg_path=str(out))
    root = ET.parse(out).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    rects = root.findall(f"{ns}rect")
    kinds = {r.get("class") for r in rects}
    assert {"current", "old", "garbage"} <= kinds
    assert len(root.findall(f"{ns}polygon")) == 2       # A's grow and B's grow
    assert f"wrote {out}" in text


def test_timeline_svg_unwritable_path_is_one_line(tmp_path):
    with pytest.raises(GomapError, match="cannot write"):
        heaptimeline.timeline(view(), svg_path=str(tmp_path / "no" / "dir" / "t.svg"))


def test_same_size_grow_is_marked():
    s = Scene()
    s.alloc(MAP_A, 48, MAP_A, "hmap")
    s.alloc(0x20000, 4 * BS, MAP_A, "buckets", B=2, nbuckets=4, state="unreachable", dead_seq=5,
            alloc_seq=2)
    s.alloc(0x21000, 4 * BS, MAP_A, "buckets", B=2, nbuckets=4, alloc_seq=3)
    s.memory[MAP_A] = pack_hmap(count=3, B=2, buckets=0x21000)
    text, data = heaptimeline.timeline(view(s))
    assert data["maps"][0]["grows"][0]["same_size"] is True
    assert "same-size@3" in text


def test_record_layout_is_64_bytes_per_heap_h():
    rec = pack_record(1, 2, 3, 4, "overflow", "freed", B=5, nbuckets=6, dead_seq=7, free_seq=8,
                      flags=1)
    r = heapview.parse_records(rec)[0]
    assert r == heapview.HeapRecord(1, 2, 3, 4, 7, 8, 6, 3, 2, 5, 1) and r.reused
    assert not heapview.parse_records(pack_record(1, 2, 3, 4, "overflow", "freed"))[0].reused
    assert len(pack_registry(0, 0, 0)) == 96
    reg = heapview.parse_header(pack_registry(0x10, 1, 2, forgotten=7, forgotten_bytes=700), 0)
    assert (reg.forgotten, reg.forgotten_bytes, reg.freed_bytes) == (7, 700, 0)


# --- a Go program without a registry: reachable memory ---------------------------

def _go_map_mid_grow():
    """map[int64]int64 growing B=0 -> 1: old bucket 0 has one overflow bucket that
    mapextra.oldoverflow lists (Go keeps pointer-free buckets' overflow there)."""
    from fakes import I64, FakeTarget, MapImage, i64
    t = FakeTarget()
    m = MapImage(t, I64, I64)
    new, old, ovf = m.array(2), m.array(1), m.overflow_bucket()
    for i in range(8):
        m.set_slot(old, i, 2)                      # evacuatedX
    m.set_slot(ovf, 0, 0x90, i64(7), i64(70))      # not yet evacuated? chain of an evacuated
    m.link(old, ovf)
    m.set_slot(new, 0, 0x91, i64(1), i64(10))
    backing = t.alloc(8)
    t.write(backing, ovf.to_bytes(8, "little"))
    sl = t.alloc(24)
    t.write(sl, backing.to_bytes(8, "little") + (1).to_bytes(8, "little") * 2)
    extra = t.alloc(24)
    t.write(extra, bytes(8) + sl.to_bytes(8, "little") + bytes(8))
    m.header(2, 1, new, oldbuckets=old, nevacuate=1, extra=extra)
    m.bind("m")
    return t, m, (new, old, ovf, extra, sl, backing)


def test_reachable_memory_of_a_go_map():
    from gomapcore.commands import snapshot_of
    t, m, (new, old, ovf, extra, sl, backing) = _go_map_mid_grow()
    text, d = heapview.reachable(t, snapshot_of(t, "m"))
    allocs = {(a["role"], a["addr"]): (a["size"], a["old"]) for a in d["allocations"]}
    assert allocs == {("hmap", m.hmap): (48, False), ("buckets", new): (288, False),
                      ("buckets", old): (144, True), ("overflow", ovf): (144, True),
                      ("mapextra", extra): (24, False), ("mapextra", sl): (24, True),
                      ("mapextra", backing): (8, True)}
    assert d["registry"] is False and d["live"]["bytes"] == 680
    assert d["live"]["old_bytes"] == 144 + 144 + 24 + 8
    assert "need the gomap engine" in text and "680 bytes reachable" in text


def test_reachable_counts_out_of_line_elems_and_array_size_class():
    from fakes import I64, FakeTarget, MapImage, array_of, i64, U8
    from gomapcore.commands import snapshot_of
    t = FakeTarget()
    big = array_of(U8, 200)                       # > 128 bytes: stored behind a pointer
    m = MapImage(t, I64, big)
    arr = m.array(1)
    m.set_slot(arr, 0, 0x80, i64(1), bytes(200))
    m.set_slot(arr, 1, 0x81, i64(2), bytes(200))
    m.set_slot(arr, 2, 1)                          # emptyOne: no elem counted
    m.header(2, 0, arr)
    m.bind("m")
    _, d = heapview.reachable(t, snapshot_of(t, "m"))
    groups = {g["key"]: g for g in d["live"]["groups"]}
    assert groups["indirect_elem"] == {"key": "indirect_elem", "count": 2, "bytes": 416,
                                       "old_count": 0, "old_bytes": 0}
    # bucket: 8 + 8*8 + 8*8 + 8 = 144 bytes, one bucket: class 144.
    assert groups["buckets"]["bytes"] == 144


# --- the `gomap heap` command --------------------------------------------------------

def _dispatch(t, line):
    from gomapcore.commands import dispatch
    return dispatch(t, "heap", line)


def test_heap_command_views_and_json():
    t = grow_scene().target()
    assert "OLD 288 bytes in 2" in _dispatch(t, "inuse")
    d = json.loads(_dispatch(t, "inuse --by role --json"))
    assert d["live"]["bytes"] == 1392 and d["by"] == "role"
    d = json.loads(_dispatch(t, "allocs --json"))
    assert d["freed"]["bytes"] == 288
    text = _dispatch(t, f"block {A_NEW + 180:#x}")
    assert "NEW array" in text and "bucket 1 (bucket size 136 or 144" in text
    assert "^" in _dispatch(t, "timeline --width 40")
    assert "usage: gomap heap block" in _dispatch(t, "block -h")


def test_heap_command_map_filter_and_type_give_slots():
    from fakes import I64, map_type
    from gomapcore.target import Value
    t = grow_scene().target()
    t.values["a"] = Value(map_type(I64, I64), 0x9000, MAP_A.to_bytes(8, "little"))
    d = json.loads(_dispatch(t, "inuse --map a --json"))
    assert d["map"] == MAP_A and d["live"]["bytes"] == 768
    d = json.loads(_dispatch(t, f"block --map a --json {A_NEW + BS + 8 + 3 * 8}"))
    assert (d["bucket"], d["field"], d["slot"], d["bucket_size_source"]) == (1, "key", 3, "type")


@pytest.mark.parametrize("line, needle", [
    ("", "required: VIEW"),
    ("bogus", "invalid choice"),
    ("inuse --by size", "invalid choice"),
    ("block", "required: ADDR"),
    ("block nosuch", "nosuch"),
    ("timeline --width 3", "--width must be 10 or more"),
    ("block 0x1", "in no allocation"),
])
def test_heap_command_bad_input_is_one_line(line, needle):
    with pytest.raises(GomapError) as e:
        _dispatch(grow_scene().target(), line)
    assert "\n" not in str(e.value) and needle in str(e.value)


def test_heap_command_without_registry():
    t, _, _ = _go_map_mid_grow()
    with pytest.raises(GomapError, match="gomap_heap_registry not found"):
        _dispatch(t, "inuse")
    assert "680 bytes reachable" in _dispatch(t, "inuse --map m")
    t.running = False
    with pytest.raises(GomapError, match="not running"):
        _dispatch(t, "inuse --map m")
    t = grow_scene().target()
    t.running = False
    with pytest.raises(GomapError, match="not running"):
        _dispatch(t, "allocs")


def test_block_names_the_active_iterators_that_still_refer_to_it():
    """The engine's exported list gomap_active_iterators (hiter.next_active at
    +96): an iterator whose buckets or bptr lies in the block is named; the walk
    ends on a cycle. Without the symbol, d["iterators"] is None."""
    s = grow_scene()
    head, it1, it2 = 0x60000, 0x61000, 0x62000

    def hiter(buckets, bptr, next_active):
        b = bytearray(112)
        b[32:40] = buckets.to_bytes(8, "little")
        b[40:48] = bptr.to_bytes(8, "little")
        b[96:104] = next_active.to_bytes(8, "little")
        return bytes(b)
    s.memory[head] = it1.to_bytes(8, "little")
    s.memory[it1] = hiter(A_OLD, A_OLD + BS // 2, it2)
    s.memory[it2] = hiter(A_NEW, A_OVF_OLD, it1)          # back to it1: a cycle
    t = s.target()
    t.symbols[heapblock.ACTIVE_ITERATORS] = head
    st = heapview.HeapView(t, heapview.read_registry(t))
    assert heapblock.active_iterators(t) == [(it1, A_OLD, A_OLD + BS // 2), (it2, A_NEW, A_OVF_OLD)]
    text, d = heapblock.block(st, A_OLD + 8, BucketGeometry(8, 8))
    assert d["iterators"] == [f"iterator at {it1:#x} (hiter.buckets / hiter.bptr)"]
    assert f"iterator at {it1:#x} (hiter.buckets / hiter.bptr) still refers to it" in text
    _, d = heapblock.block(st, A_OVF_OLD, BucketGeometry(8, 8))
    assert d["iterators"] == [f"iterator at {it2:#x} (hiter.bptr)"]
    _, d = heapblock.block(st, B_CUR, BucketGeometry(8, 8))
    assert d["iterators"] == []
    _, d = heapblock.block(view(), A_OLD, BucketGeometry(8, 8))
    assert d["iterators"] is None
