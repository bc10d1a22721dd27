"""gomap print over small hand-built images: the Delve line, nil, empty, errors."""
import json

import pytest

from fakes import I64, STRING, FakeTarget, MapImage, i64, string_bytes
from gomapcore.commands import dispatch
from gomapcore.target import GomapError


def small_string_map():
    t = FakeTarget()
    m = MapImage(t, STRING, I64)
    arr = m.array(1)
    m.set_slot(arr, 0, 0x80, string_bytes(t, b"a"), i64(1))
    m.set_slot(arr, 1, 0x81, string_bytes(t, b"b"), i64(2))
    m.header(2, 0, arr)
    m.bind("m")
    return t


def test_small_map_delve_line():
    assert dispatch(small_string_map(), "print", "m") == 'map[string]int64 ["a": 1, "b": 2, ]'


def test_json_has_fields_and_entries():
    d = json.loads(dispatch(small_string_map(), "print", "--json m"))
    assert d["type"] == "map[string]int64"
    assert d["count"] == 2 and d["B"] == 0 and d["growing"] is False
    assert d["entries"] == [["a", 1], ["b", 2]]


def test_nil_map():
    t = FakeTarget()
    m = MapImage(t, STRING, I64)
    m.bind("m")
    t.values["m"].data = (0).to_bytes(8, "little")
    assert dispatch(t, "print", "m") == "map[string]int64 nil"


def test_empty_map_lazy_buckets():
    t = FakeTarget()
    m = MapImage(t, I64, I64)
    m.header(0, 0, 0)
    m.bind("m")
    assert dispatch(t, "print", "m") == "map[int64]int64 []"


def test_unknown_symbol_is_one_line():
    with pytest.raises(GomapError) as e:
        dispatch(small_string_map(), "print", "nosuch")
    assert "\n" not in str(e.value) and "nosuch" in str(e.value)


def test_bad_option_is_one_line():
    with pytest.raises(GomapError) as e:
        dispatch(small_string_map(), "print", "--bogus m")
    assert "\n" not in str(e.value)


def _array_valued_map():
    from fakes import U8, array_of
    t = FakeTarget()
    m = MapImage(t, I64, array_of(U8, 100))
    arr = m.array(1)
    m.set_slot(arr, 0, 0x80, i64(7), bytes(range(100)))
    m.header(1, 0, arr)
    m.bind("m")
    return t


def test_arrays_are_cut_like_delve_after_64_values():
    out = dispatch(_array_valued_map(), "print", "m")
    # Delve's MaxArrayValues: 64 elements, then `,...+N more`
    inner = ",".join(str(i) for i in range(64))
    assert out == f"map[int64][100]uint8 [7: [{inner},...+36 more], ]"


def test_all_and_json_show_every_array_value():
    t = _array_valued_map()
    assert ",".join(str(i) for i in range(100)) + "]" in dispatch(t, "print", "--all m")
    assert json.loads(dispatch(t, "print", "--json m"))["entries"] == [[7, list(range(100))]]
