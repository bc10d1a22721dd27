"""`gomap buckets --json` writes its text directly (render_buckets.buckets_json_text);
it must be byte for byte the json.dumps of the per-slot dicts it replaces
(buckets_json), over random maps: doubling and same-size grows half evacuated,
overflow chains in the preallocated area and outside, deleted slots, odd and
unreadable strings, struct values, indirect (over 128 bytes) keys and values."""
import json
import random
import struct

import pytest

from fakes import (BOOL, F64, I32, I64, STRING, U8, FakeTarget, MapImage, array_of, string_bytes,
                   struct_type)
from gomapcore import render_buckets
from gomapcore.commands import dispatch, evaluate_map
from gomapcore.snapshot import take_snapshot
from test_columns import PAIR, random_map, value as small_value

BIG = struct_type("Big", [("ID", I64), ("Pad", array_of(I64, 16))])   # 136 bytes: indirect


def value(rng, t, m):
    if t is BIG:
        return struct.pack("<q", rng.randrange(-99, 99)) + bytes(128)
    return small_value(rng, t, m)


def reference(t, which="both", indexes=None):
    snap = take_snapshot(t, evaluate_map(t, "m", None))
    return json.dumps(render_buckets.buckets_json(snap, which, indexes))


def fast(t, which="both", indexes=None):
    snap = take_snapshot(t, evaluate_map(t, "m", None))
    return render_buckets.buckets_json_text(snap, which, indexes)


@pytest.mark.parametrize("kt,vt", [(I64, I64), (STRING, I64), (I32, STRING), (F64, BOOL),
                                   (U8, PAIR), (STRING, STRING), (BIG, I64), (I64, BIG)])
@pytest.mark.parametrize("seed", range(10))
def test_fast_text_is_json_dumps_of_the_dicts(kt, vt, seed, monkeypatch):
    import test_columns
    monkeypatch.setattr(test_columns, "value", value)   # fill() also makes BIG cells
    t = random_map(seed, kt, vt)
    rng = random.Random(seed)
    picks = [[rng.randrange(-2, 10) for _ in range(rng.randrange(1, 5))] for _ in range(2)]
    for which in ("both", "new", "old"):
        for indexes in [None] + picks:
            got = fast(t, which, indexes)
            assert got == reference(t, which, indexes), (which, indexes)
            json.loads(got)


def test_command_writes_the_fast_text():
    import test_columns
    t = random_map(3, STRING, I64)
    assert dispatch(t, "buckets", "--json m") == reference(t)
    assert dispatch(t, "buckets", "--json --new m 1 0 1") == reference(t, "new", [1, 0, 1])
    assert test_columns.random_map is random_map


def test_nil_map_and_no_array_yet():
    t = FakeTarget()
    m = MapImage(t, I64, I64)
    m.header(0, 0, 0)          # make(map) before its first insert: no bucket array
    m.bind("m")
    assert fast(t) == reference(t)
    assert json.loads(fast(t))["new"] is None


def test_many_buckets_cross_chunks_and_strings_with_percent_and_markers():
    """More bmaps than one % chunk, keys that look like printf specs or like the
    markers the text is spliced at."""
    t = FakeTarget()
    m = MapImage(t, STRING, STRING)
    B = 10
    arr = m.array(1 << B, (1 << B) + 4)
    rng = random.Random(7)
    tricky = [b"%s", b"%d%%", "\0gomap old buckets\0".encode(), b'"', b"\\", b"\x00\x01"]
    n = 0
    for b in range(1 << B):
        node = m.bucket_addr(arr, b)
        for i in range(rng.randrange(9)):
            th = rng.choice([1, 0x80, 0x9c])
            k = rng.choice(tricky) + b"%d" % n
            m.set_slot(node, i, th, string_bytes(t, k), string_bytes(t, rng.choice(tricky)))
            n += 1
    ovf = m.overflow_bucket()
    m.link(m.bucket_addr(arr, 5), ovf)
    m.set_slot(ovf, 0, 0x77, string_bytes(t, b"%x"), string_bytes(t, b"y"))
    m.header(n, B, arr, noverflow=1)
    m.bind("m")
    render_buckets._CHUNK, old = 16, render_buckets._CHUNK
    try:
        small_chunks = fast(t)
    finally:
        render_buckets._CHUNK = old
    assert small_chunks == fast(t) == reference(t)
    assert json.loads(small_chunks)["new"]["buckets"][5]["overflow"][0]["slots"][0]["key"] == "%x"


def test_text_can_differ_from_a_wrong_rendering():
    """The comparison can fail: a slot text with another separator is not accepted."""
    t = random_map(1, I64, I64)
    got = fast(t)
    assert got.replace('"state": ', '"state":', 1) != reference(t)
