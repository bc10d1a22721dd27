"""Corrupted and hostile images: one clear line each, with what was readable; no hang."""
import pytest

from fakes import I64, FakeTarget, MapImage, i64
from gomapcore.commands import dispatch
from gomapcore.target import GomapError


def base_map():
    t = FakeTarget()
    m = MapImage(t, I64, I64)
    arr = m.array(2)
    m.set_slot(m.bucket_addr(arr, 0), 0, 0x90, i64(1), i64(10))
    m.set_slot(m.bucket_addr(arr, 1), 0, 0x91, i64(2), i64(20))
    m.bind("m")
    return t, m, arr


def one_line_error(t, cmd="print", args="m"):
    with pytest.raises(GomapError) as e:
        dispatch(t, cmd, args)
    msg = str(e.value)
    assert "\n" not in msg and "Traceback" not in msg
    return msg


@pytest.mark.parametrize("cmd", ["print", "buckets", "dot"])
def test_B_over_64(cmd):
    t, m, arr = base_map()
    m.header(2, 200, arr)
    msg = one_line_error(t, cmd)
    assert "B = 200 is over 64" in msg and "count=2" in msg


def test_B_larger_than_address_space():
    t, m, arr = base_map()
    m.header(2, 60, arr)
    assert "larger than the address space" in one_line_error(t)


def test_dangling_bucket_pointer():
    t, m, arr = base_map()
    m.header(2, 1, 0x7FFF_DEAD_0000)
    msg = one_line_error(t)
    assert "new bucket array" in msg and "unreadable" in msg and "0x7fffdead0000" in msg
    assert "readable: count=2" in msg


def test_null_buckets_with_entries():
    t, m, arr = base_map()
    m.header(5, 1, 0)
    assert "count = 5 but buckets is nil" in one_line_error(t)


def test_cyclic_overflow_chain():
    t, m, arr = base_map()
    ov = m.overflow_bucket()
    m.link(m.bucket_addr(arr, 0), ov)
    m.link(ov, ov)                      # points at itself: a walk would never end
    m.header(2, 1, arr, noverflow=1)
    msg = one_line_error(t)
    assert "cyclic" in msg and "new bucket 0" in msg


def test_chain_looping_back_into_the_array():
    t, m, arr = base_map()
    m.link(m.bucket_addr(arr, 0), m.bucket_addr(arr, 1))
    m.header(2, 1, arr, noverflow=1)
    assert "cyclic or shared" in one_line_error(t)


def test_overlong_chain_bounded_by_noverflow():
    t, m, arr = base_map()
    prev = m.bucket_addr(arr, 0)
    for _ in range(3):
        ov = m.overflow_bucket()
        m.link(prev, ov)
        prev = ov
    m.header(2, 1, arr, noverflow=1)   # B < 16: noverflow counts overflow buckets exactly
    msg = one_line_error(t)
    assert "more than 1 overflow buckets" in msg


def test_dangling_overflow_pointer():
    t, m, arr = base_map()
    m.link(m.bucket_addr(arr, 1), 0x7FFF_0000_0000)
    m.header(2, 1, arr, noverflow=1)
    msg = one_line_error(t)
    assert "new bucket 1: overflow bucket 0x7fff00000000" in msg and "unreadable" in msg


def test_count_disagreeing_with_slots_is_a_warning():
    t, m, arr = base_map()
    m.header(5, 1, arr)
    out = dispatch(t, "print", "m").splitlines()
    assert out == ["map[int64]int64 [1: 10, 2: 20, ]",
                   "warning: count = 5 but 2 live cells were found"]


def test_unreadable_header():
    t, m, arr = base_map()
    import struct
    from gomapcore.target import Value
    t.values["m"] = Value(t.values["m"].type, None, struct.pack("<Q", 0x7FFF_1234_0000))
    assert "cannot read the map header at 0x7fff12340000" in one_line_error(t)


def test_not_running():
    t, m, arr = base_map()
    m.header(2, 1, arr)
    t.running = False
    assert "not running" in one_line_error(t)


def test_not_a_map():
    t, m, arr = base_map()
    from gomapcore.target import Value
    from fakes import STRING
    t.values["s"] = Value(STRING, 0x5000, bytes(16))
    assert "is not a map" in one_line_error(t, "print", "s")


def test_internal_error_becomes_one_line(monkeypatch):
    t, m, arr = base_map()
    m.header(2, 1, arr)

    def boom(*a, **k):
        raise ZeroDivisionError("x")
    monkeypatch.setattr(t, "read_memory", boom)
    msg = one_line_error(t)
    assert "internal error" in msg and "GOMAP_DEBUG" in msg
