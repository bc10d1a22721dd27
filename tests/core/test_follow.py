"""gomap watch: header changes in words, the 4-register plan, and a key watch
that follows its key through evacuation. Images are laid out by fakes.py."""
import struct

import pytest

from fakes import I64, STRING, MapImage, i64, string_bytes
from gomapcore.follow import (FieldWatch, KeyWatch, describe_change, evacuation_destination,
                              find_key, plan_field_watches, watch_fields, watch_key)
from gomapcore.keys import KeyType
from gomapcore.layout import resolve_map
from gomapcore.snapshot import Hmap, take_snapshot
from gomapcore.target import GomapError
from stop_fakes import StopTarget

EVAC_X, EVAC_Y, EMPTY_ONE, SAME_SIZE = 2, 3, 1, 8
I64KEY = KeyType("int", 8, "int64")


def H(**kw):
    base = dict(addr=0x1000, count=104, flags=0, B=4, noverflow=3, hash0=0x77, buckets=0xa000,
                oldbuckets=0, nevacuate=0, extra=0)
    base.update(kw)
    return Hmap(**base)


# --- words ---------------------------------------------------------------------------

def test_grow_started_names_both_arrays_and_B():
    before = H()
    after = H(B=5, buckets=0xb000, oldbuckets=0xa000, noverflow=0, count=104)
    assert describe_change(before, after)[0] == \
        "grow started: B 4\u21925, oldbuckets = 0xa000, new buckets = 0xb000"


def test_grow_started_after_B_was_already_seen_changing():
    # A watch on B stops first (hashGrow stores B before oldbuckets); the next
    # stop, at buckets/oldbuckets, still names the grow 4->5, not 5->5.
    before = H(B=5)
    after = H(B=5, buckets=0xb000, oldbuckets=0xa000, noverflow=0)
    assert describe_change(before, after)[0] == \
        "grow started: B 4\u21925, oldbuckets = 0xa000, new buckets = 0xb000"


def test_same_size_grow_says_why():
    after = H(flags=SAME_SIZE, buckets=0xb000, oldbuckets=0xa000, noverflow=0)
    line = describe_change(H(noverflow=16), after)[0]
    assert line.startswith("same-size grow started: B stays 4")
    assert "noverflow was 16" in line


def test_evacuation_mark_moving_names_the_buckets():
    before = H(B=5, buckets=0xb000, oldbuckets=0xa000, nevacuate=7)
    assert describe_change(before, H(B=5, buckets=0xb000, oldbuckets=0xa000, nevacuate=9)) == \
        ["evacuated old buckets 7-8 (nevacuate 7\u21929 of 16)"]
    assert describe_change(before, H(B=5, buckets=0xb000, oldbuckets=0xa000, nevacuate=8)) == \
        ["evacuated old bucket 7 (nevacuate 7\u21928 of 16)"]


def test_grow_finished():
    before = H(B=5, buckets=0xb000, oldbuckets=0xa000, nevacuate=15)
    after = H(B=5, buckets=0xb000, oldbuckets=0, nevacuate=16)
    lines = describe_change(before, after)
    assert lines[0].startswith("grow finished: oldbuckets released (0xa000 is garbage now)")
    assert any("nevacuate 15\u219216" in x for x in lines)


def test_only_the_watched_fields_are_reported():
    before, after = H(flags=0), H(flags=4, count=105)
    assert describe_change(before, after, {"B"}) == []
    assert describe_change(before, after, {"count"}) == ["count 104\u2192105 (+1)"]
    assert describe_change(before, after, {"flags"}) == ["flags: hashWriting set (now hashWriting)"]


# --- the register plan -----------------------------------------------------------

def test_all_fields_fit_four_registers_by_sharing_flags_and_B():
    p = plan_field_watches(0x1000, ["all"], 4)
    assert [(a - 0x1000, s) for a, s, _ in p.words] == [(16, 8), (24, 8), (32, 8), (8, 2)]
    assert p.not_watched == ["count"]
    assert "NOT watched" in p.summary() and "count" in p.summary()


def test_single_field_watches_exactly_its_bytes():
    p = plan_field_watches(0x1000, ["B"], 4)
    assert p.words == [(0x1009, 1, ["B"])] and p.not_watched == []


def test_no_free_register_reports_everything_unwatched():
    p = plan_field_watches(0x1000, ["buckets", "count"], 1)
    assert len(p.words) == 1 and p.not_watched == ["count"]


def test_unknown_field_is_one_line_error():
    with pytest.raises(GomapError, match="cannot watch 'hash0x'"):
        plan_field_watches(0x1000, ["hash0x"], 4)


# --- watch over a fake target ------------------------------------------------------

def _map(t, B=1, count=0):
    m = MapImage(t, I64, I64)
    arr = m.array(1 << B)
    m.header(count, B, arr)
    m.bind("m")
    return m, arr


def test_field_watch_reports_grow_and_ignores_same_value_writes():
    t = StopTarget()
    m, arr = _map(t, B=1, count=13)
    ref = resolve_map(t, t.evaluate("m"))
    out = watch_fields(t, ref, ["buckets"], "m")
    assert "watching buckets (8 bytes" in out
    assert t.watched() == [(m.hmap + 16, 8)]
    # same value written: no stop
    assert t.write_and_fire(m.hmap + 16, struct.pack("<Q", arr)) == []
    new = m.array(4)
    # hashGrow writes oldbuckets first in this order, then buckets
    t.write(m.hmap + 24, struct.pack("<Q", arr))
    t.write(m.hmap + 9, bytes([2]))
    lines = t.write_and_fire(m.hmap + 16, struct.pack("<Q", new))
    assert lines == [f"gomap watch 1: map {m.hmap:#x}: grow started: B 1\u21922, "
                     f"oldbuckets = {arr:#x}, new buckets = {new:#x}"]


def test_field_watch_needs_a_live_map():
    t = StopTarget()
    m = MapImage(t, I64, I64)
    m.header(0, 0, 0)
    m.bind("m")
    ref = resolve_map(t, t.evaluate("m"))
    ref.hmap_addr = 0
    with pytest.raises(GomapError, match="nil"):
        watch_fields(t, ref, ["buckets"], "m")


# --- key watch ------------------------------------------------------------------------

def _growing_map(t):
    """B = 2 growing from 2 old buckets. Old bucket 1 holds keys 11 (goes X), 21 (Y),
    31 (Y), 41 (X) in slots 0..3; nothing evacuated yet."""
    m = MapImage(t, I64, I64)
    old = m.array(2)
    new = m.array(4)
    ob1 = m.bucket_addr(old, 1)
    for i, k in enumerate((11, 21, 31, 41)):
        m.set_slot(ob1, i, 0x80 + i, i64(k), i64(k * 10))
    m.header(4, 2, new, oldbuckets=old)
    m.bind("m")
    return m, old, new


def test_find_key_prefers_the_old_bucket_while_pending():
    t = StopTarget()
    m, old, new = _growing_map(t)
    snap = take_snapshot(t, resolve_map(t, t.evaluate("m")))
    p = find_key(t, snap, I64KEY, 31)
    assert (p.which, p.index, p.depth, p.slot) == ("old", 1, 0, 2)
    assert p.elem_addr == m.bucket_addr(old, 1) + m.eo + 2 * 8
    assert find_key(t, snap, I64KEY, 99) is None


def test_evacuation_destination_counts_earlier_entries_of_the_same_half():
    t = StopTarget()
    m, old, new = _growing_map(t)
    ob1 = m.bucket_addr(old, 1)
    t.write(ob1 + 0, bytes([EVAC_X]))
    t.write(ob1 + 1, bytes([EVAC_Y]))
    t.write(ob1 + 2, bytes([EVAC_Y]))     # key 31: the second entry sent to Y
    snap = take_snapshot(t, resolve_map(t, t.evaluate("m")))
    place = find_key(t, snap, I64KEY, 41)
    assert place is not None and place.slot == 3
    from gomapcore.follow import KeyPlace
    p31 = KeyPlace("old", 1, 0, 2, ob1, snap.layout)
    assert evacuation_destination(snap, p31, EVAC_Y) == (3, 0, 1)


def test_key_watch_follows_the_key_to_its_new_bucket():
    t = StopTarget()
    m, old, new = _growing_map(t)
    ob1 = m.bucket_addr(old, 1)
    ref = resolve_map(t, t.evaluate("m"))
    out = watch_key(t, ref, I64KEY, 31, "m")
    assert "old bucket 1" in out and "slot 2" in out
    assert t.watched() == sorted([(ob1 + 2, 1), (ob1 + m.eo + 16, 8)])
    # an update of the value stops with old and new value
    assert t.write_and_fire(ob1 + m.eo + 16, i64(311)) == \
        [f"gomap watch 1: key 31: value 310 \u2192 311 (old bucket 1 ({ob1:#x}) slot 2)"]
    # evacuate: 11 -> X slot 0, 21 -> Y slot 0, then 31 -> Y slot 1 (tophash first, as Go)
    t.write(ob1 + 0, bytes([EVAC_X]))
    t.write(ob1 + 1, bytes([EVAC_Y]))
    nb3 = m.bucket_addr(new, 3)
    lines = t.write_and_fire(ob1 + 2, bytes([EVAC_Y]))
    assert lines[0].startswith("gomap watch 1: key 31 evacuated (evacuatedY, Y, index + 2): "
                               f"old bucket 1 ({ob1:#x}) slot 2 \u2192 new bucket 3 ({nb3:#x}) slot 1")
    assert lines[1].startswith("gomap watch 1: re-armed at new bucket 3")
    assert t.watched() == sorted([(nb3 + 1, 1), (nb3 + m.eo + 8, 8)])
    # evacuate copies the entry: announced already, so no second stop
    t.write(nb3 + m.ko + 8, i64(31))
    assert t.write_and_fire(nb3 + m.eo + 8, i64(311)) == []
    # a later update is seen at the new place, the old slot is no longer watched
    assert t.write_and_fire(ob1 + m.eo + 16, i64(0)) == []
    assert t.write_and_fire(nb3 + m.eo + 8, i64(312))[0].endswith(f"value 311 \u2192 312 (new bucket 3 ({nb3:#x}) slot 1)")


def test_key_watch_ends_on_delete():
    t = StopTarget()
    m = MapImage(t, I64, I64)
    arr = m.array(2)
    b0 = m.bucket_addr(arr, 0)
    m.set_slot(b0, 0, 0x90, i64(5), i64(50))
    m.header(1, 1, arr)
    m.bind("m")
    watch_key(t, resolve_map(t, t.evaluate("m")), I64KEY, 5, "m")
    lines = t.write_and_fire(b0, bytes([EMPTY_ONE]))
    assert lines == [f"gomap watch 1: key 5 deleted from new bucket 0 ({b0:#x}) slot 0 "
                     "(tophash now emptyOne); watch ended"]
    assert t.watched() == []


def test_key_watch_of_an_absent_key_is_one_line():
    t = StopTarget()
    m, old, new = _growing_map(t)
    with pytest.raises(GomapError, match="key 77 is not in the map"):
        watch_key(t, resolve_map(t, t.evaluate("m")), I64KEY, 77, "m")


def test_string_keys_are_found_by_bytes():
    t = StopTarget()
    m = MapImage(t, STRING, I64)
    arr = m.array(1)
    b0 = m.bucket_addr(arr, 0)
    m.set_slot(b0, 0, 0x90, string_bytes(t, b"alpha"), i64(1))
    m.set_slot(b0, 1, 0x91, string_bytes(t, b"beta"), i64(2))
    m.header(2, 0, arr)
    m.bind("m")
    snap = take_snapshot(t, resolve_map(t, t.evaluate("m")))
    p = find_key(t, snap, KeyType("string", 16, "string"), b"beta")
    assert p.slot == 1


def test_key_watch_waits_for_an_overflow_bucket_evacuate_has_not_taken():
    # 9 entries of old bucket 0 all go to X: the 9th lands in slot 0 of an
    # overflow bucket that evacuate takes right after marking the old slot.
    t = StopTarget()
    m = MapImage(t, I64, I64)
    old = m.array(2)
    new = m.array(4)
    ob0 = m.bucket_addr(old, 0)
    ovf = m.overflow_bucket()
    for i in range(8):
        m.set_slot(ob0, i, 0x80 + i, i64(100 + i), i64(i))
    m.set_slot(ovf, 0, 0x90, i64(200), i64(9))
    m.link(ob0, ovf)
    m.header(9, 2, new, oldbuckets=old)
    m.bind("m")
    watch_key(t, resolve_map(t, t.evaluate("m")), I64KEY, 200, "m")
    for i in range(8):
        t.write(ob0 + i, bytes([EVAC_X]))
    nb0 = m.bucket_addr(new, 0)
    lines = t.write_and_fire(ovf, bytes([EVAC_X]))
    assert "overflow #1 slot 0 (not allocated yet" in lines[0]
    assert t.watched() == [(nb0 + m.bs - 8, 8)]
    newovf = m.overflow_bucket()
    lines = t.write_and_fire(nb0 + m.bs - 8, struct.pack("<Q", newovf))
    assert lines[0] == (f"gomap watch 1: key 200: overflow bucket {newovf:#x} taken; now watching "
                        f"new bucket 0 (overflow #1 at {newovf:#x}) slot 0")
    assert t.watched() == sorted([(newovf, 1), (newovf + m.eo, 8)])


def test_mid_hashGrow_state_waits_for_the_buckets_store():
    t = StopTarget()
    m, arr = _map(t, B=1, count=13)
    ref = resolve_map(t, t.evaluate("m"))
    watch_fields(t, ref, ["buckets", "oldbuckets", "nevacuate"], "m")
    t.write(m.hmap + 9, bytes([2]))
    # hashGrow stores oldbuckets (= the current array) first: not a grow yet
    assert t.write_and_fire(m.hmap + 24, struct.pack("<Q", arr)) == []
    new = m.array(4)
    lines = t.write_and_fire(m.hmap + 16, struct.pack("<Q", new))
    assert lines == [f"gomap watch 1: map {m.hmap:#x}: grow started: B 1\u21922, oldbuckets = {arr:#x}, "
                     f"new buckets = {new:#x}"]


def test_oldbuckets_alone_reports_the_grow_at_its_store():
    t = StopTarget()
    m, arr = _map(t, B=1, count=13)
    watch_fields(t, resolve_map(t, t.evaluate("m")), ["oldbuckets"], "m")
    t.write(m.hmap + 9, bytes([2]))
    lines = t.write_and_fire(m.hmap + 24, struct.pack("<Q", arr))
    assert lines == [f"gomap watch 1: map {m.hmap:#x}: grow started: B 1\u21922, oldbuckets = {arr:#x} "
                     "(hashGrow stores the new buckets next)"]


def test_all_hides_hashWriting_toggles_but_flags_shows_them():
    t = StopTarget()
    m, arr = _map(t, B=1, count=3)
    ref = resolve_map(t, t.evaluate("m"))
    watch_fields(t, ref, ["all"], "m")
    assert t.write_and_fire(m.hmap + 8, bytes([4])) == []
    t.live.clear()
    t._gomap_stop_registry.stops.clear()
    watch_fields(t, ref, ["flags"], "m")
    assert t.write_and_fire(m.hmap + 8, bytes([0])) == \
        [f"gomap watch 2: map {m.hmap:#x}: flags: hashWriting cleared (now 0)"]


def test_nevacuate_reset_by_hashGrow_is_not_an_evacuation():
    before = H(B=3, buckets=0xb000, oldbuckets=0xa000, nevacuate=4)
    after = H(B=3, buckets=0xb000, oldbuckets=0xa000, nevacuate=0)
    assert describe_change(before, after) == \
        ["nevacuate reset 4\u21920 (hashGrow: evacuation of the new grow starts at old bucket 0)"]
