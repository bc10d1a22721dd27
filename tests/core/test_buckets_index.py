"""`gomap buckets m INDEX...`: an index that names no bucket of the array asked
for is one error line (the array's size), never a header followed by nothing."""
import pytest

from fakes import I64, FakeTarget, MapImage, i64
from gomapcore.commands import dispatch
from gomapcore.target import GomapError


def plain_two_buckets():
    """map[int64]int64, B=1 (2 buckets), not growing, one entry in bucket 1."""
    t = FakeTarget()
    m = MapImage(t, I64, I64)
    new = m.array(2)
    m.set_slot(m.bucket_addr(new, 1), 0, 0x8a, i64(7), i64(70))
    m.header(1, 1, new)
    m.bind("m")
    return t


def growing_four_from_two():
    """A doubling grow: new array of 4 buckets, old of 2, nothing evacuated."""
    t = FakeTarget()
    m = MapImage(t, I64, I64)
    new, old = m.array(4), m.array(2)
    m.set_slot(m.bucket_addr(old, 0), 0, 0x8a, i64(1), i64(10))
    m.header(1, 2, new, oldbuckets=old)
    m.bind("m")
    return t


def error_of(t, args):
    with pytest.raises(GomapError) as e:
        dispatch(t, "buckets", args)
    msg = str(e.value)
    assert "\n" not in msg
    return msg


@pytest.mark.parametrize("args", ["m 99", "--new m 99", "--json m 99", "m 2", "m -1"])
def test_index_past_the_new_array_says_its_size(args):
    bad = args.split()[-1]
    assert error_of(plain_two_buckets(), args) == \
        f"bucket {bad} is out of range: the new array has 2 buckets (0..1)"


def test_several_bad_indexes_are_named_in_one_line():
    assert error_of(plain_two_buckets(), "m 1 99 5 99") == \
        "buckets 5, 99 are out of range: the new array has 2 buckets (0..1)"


def test_valid_indexes_still_show_their_buckets():
    out = dispatch(plain_two_buckets(), "buckets", "m 1")
    assert "NEW[1]" in out and "7: 70" in out and "NEW[0]" not in out


@pytest.mark.parametrize("args", ["--old m 5", "--old --json m 5"])
def test_old_index_on_a_map_that_is_not_growing(args):
    assert error_of(plain_two_buckets(), args) == \
        "bucket 5 is out of range: no old array, the map is not growing"


def test_old_without_index_on_a_map_that_is_not_growing_is_unchanged():
    assert dispatch(plain_two_buckets(), "buckets", "--old m") == \
        "map[int64]int64: not growing, no old buckets"


def test_old_index_is_checked_against_the_old_array():
    t = growing_four_from_two()
    assert error_of(t, "--old m 3") == \
        "bucket 3 is out of range: the old array has 2 buckets (0..1)"
    assert "OLD[1]" in dispatch(t, "buckets", "--old m 1")
    # Without --old the new (larger) array decides: 3 is a new bucket.
    both = dispatch(t, "buckets", "m 3")
    assert "NEW[3]" in both and "OLD[" not in both
    assert error_of(t, "m 4") == "bucket 4 is out of range: the new array has 4 buckets (0..3)"


def test_one_bucket_array():
    t = FakeTarget()
    m = MapImage(t, I64, I64)
    new = m.array(1)
    m.header(0, 0, new)
    m.bind("m")
    assert error_of(t, "m 1") == "bucket 1 is out of range: the new array has 1 bucket (0)"
