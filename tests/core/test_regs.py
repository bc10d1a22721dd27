"""gomap regs: argument registers of map entry points decoded over byte images.

The engine's maptype and Go's runtime.maptype are laid out by stop_fakes.py from
maptype.h and runtime/type.go; the expected bucket comes from gomapcore.gohash
with the key material the fake process holds (gohash itself is checked against
Go's runtime in test_gohash, and the engine against Go in test_engine_hash)."""
import json
import struct

import pytest

from fakes import I64, STRING, MapImage, i64, string_bytes
from gomapcore.regs import classify, decode_call, render_json, render_text, tophash
from gomapcore.target import GomapError
from stop_fakes import StopTarget, engine_maptype, go_maptype, hash_keys

EVAC_X = 2


def test_classify_entry_points_of_both_runtimes():
    c = classify("gomap::mapassign_fast64(gomap::maptype const*, gomap::hmap*, unsigned long)")
    assert (c.runtime, c.op, c.variant) == ("engine", "mapassign", "_fast64")
    assert c.regs == ("rdi", "rsi", "rdx", None)
    c = classify("runtime.mapassign_faststr")
    assert (c.runtime, c.variant, c.regs) == ("go", "_faststr", ("rax", "rbx", "rcx", "rdi"))
    assert classify("gomap::mapassign_faststr(gomap::maptype const*, gomap::hmap*, gomap::String)").regs[3] == "rcx"
    c = classify("gomap::detail_rt::fastAssign<unsigned long>(gomap::maptype const*, gomap::hmap*, "
                 "unsigned long, char const*)")
    assert (c.runtime, c.op, c.variant) == ("engine", "mapassign", "_fast64")
    assert classify("gomap::detail_rt::fastDelete<unsigned int>").variant == "_fast32"
    assert classify("main.main") is None
    assert classify("runtime.mapassign_fast64.func1") is None
    assert classify(None) is None


def _engine_map(t, B, keys, seed=0x1234, key_t=I64):
    hk = hash_keys(t)
    m = MapImage(t, key_t, I64)
    arr = m.array(1 << B)
    fill = {}
    for k in keys:
        raw = k if isinstance(k, bytes) else i64(k)
        h = hk.memhash(k, seed) if isinstance(k, bytes) else hk.memhash64(raw, seed)
        b = m.bucket_addr(arr, h & ((1 << B) - 1))
        i = fill.get(b, 0)
        fill[b] = i + 1
        m.set_slot(b, i, tophash(h), string_bytes(t, k) if isinstance(k, bytes) else raw, i64(1))
    m.header(len(keys), B, arr, hash0=seed)
    return m, arr, hk


def test_engine_fast64_at_entry_gives_hash_bucket_and_pointer():
    t = StopTarget()
    m, arr, hk = _engine_map(t, 2, [3, 7, 42])
    mt = engine_maptype(t, "int64", 8, 2, "int64", 8)
    t.symbols["gomap::mapassign_fast64"] = 0x401000
    t.func = "gomap::mapassign_fast64(gomap::maptype const*, gomap::hmap*, unsigned long)"
    t.regs = {"pc": 0x401000, "rdi": mt, "rsi": m.hmap, "rdx": 42, "rcx": 0}
    r = decode_call(t)
    h = hk.memhash64(i64(42), 0x1234)
    assert r.source.startswith("registers at entry (RDI, RSI, RDX")
    assert r.key == 42 and r.hash == h and r.tophash == tophash(h)
    assert r.bucket_index == h & 3
    assert r.bucket_addr == arr + (h & 3) * 144
    assert r.maptype.name == "map[int64]int64" and r.maptype.bucketsize == 144
    assert r.found.startswith(f"present in new bucket {h & 3}")
    text = render_text(r)
    assert "maptype map[int64]int64: key int64 (8 bytes)" in text
    assert f"bucket {h & 3} of 4 (new array) at {r.bucket_addr:#x}" in text
    d = json.loads(render_json(r))
    assert d["bucket"] == r.bucket_addr and d["key"] == 42 and d["hmap"]["B"] == 2


def test_engine_faststr_reads_str_and_len_from_rdx_rcx():
    t = StopTarget()
    m, arr, hk = _engine_map(t, 1, [b"alpha", b"beta"], key_t=STRING)
    mt = engine_maptype(t, "string", 16, 4, "int64", 8)
    kp = t.alloc(8, 1)
    t.write(kp, b"gamma")
    t.symbols["gomap::mapassign_faststr"] = 0x402000
    t.func = "gomap::mapassign_faststr(gomap::maptype const*, gomap::hmap*, gomap::String)"
    t.regs = {"pc": 0x402000, "rdi": mt, "rsi": m.hmap, "rdx": kp, "rcx": 5}
    r = decode_call(t)
    h = hk.memhash(b"gamma", 0x1234)
    assert r.key == b"gamma" and r.bucket_index == h & 1
    assert r.found == "not in the map (an assign inserts it)"
    assert '"gamma"' in render_text(r)


def test_engine_growing_reports_old_bucket_and_evacuation():
    t = StopTarget()
    hk = hash_keys(t, use_aes=True)
    m = MapImage(t, I64, I64)
    old, new = m.array(2), m.array(4)
    seed = 9
    h = hk.memhash64(i64(42), seed)
    oi = h & 1
    ob = m.bucket_addr(old, oi)
    m.set_slot(ob, 0, tophash(h), i64(42), i64(1))
    m.header(1, 2, new, oldbuckets=old, hash0=seed)
    mt = engine_maptype(t, "int64", 8, 2, "int64", 8)
    t.symbols["gomap::mapassign_fast64"] = 0x401000
    t.func = "gomap::mapassign_fast64"
    t.regs = {"pc": 0x401000, "rdi": mt, "rsi": m.hmap, "rdx": 42, "rcx": 0}
    r = decode_call(t)
    assert r.old_index == oi and r.old_bucket_addr == ob and r.old_evacuated is False
    assert f"growWork evacuates old bucket {oi} first" in r.lands_in
    assert r.found.startswith(f"present in old bucket {oi}")
    t.write(ob, bytes([EVAC_X]))
    r = decode_call(t)
    assert r.old_evacuated is True and r.lands_in == f"new bucket {h & 3}"


def test_go_fast64_without_a_known_hasher_scans_for_the_bucket():
    t = StopTarget()
    m = MapImage(t, I64, I64)
    arr = m.array(4)
    b2 = m.bucket_addr(arr, 2)
    m.set_slot(b2, 5, 0x9c, i64(77), i64(1))
    m.header(1, 2, arr)
    mt = go_maptype(t, "int64", 8, "int64", 8)
    t.symbols["runtime.mapassign_fast64"] = 0x460000
    t.func = "runtime.mapassign_fast64"
    t.regs = {"pc": 0x460000, "rax": mt, "rbx": m.hmap, "rcx": 77, "rdi": 0}
    r = decode_call(t)
    assert r.source.startswith("registers at entry (RAX, RBX, RCX")
    assert r.hash is None and any("found by scanning" in n for n in r.notes)
    assert r.bucket_index == 2 and r.bucket_addr == b2 and r.tophash == 0x9c
    assert r.maptype.name == "map[int64]int64"


def _go_hash_keys(t, use_aes=True):
    return hash_keys(t, "go", use_aes)


@pytest.mark.parametrize("use_aes", [True, False])
def test_go_fast64_recomputes_the_runtime_hash(use_aes):
    t = StopTarget()
    keys = _go_hash_keys(t, use_aes)
    t.symbols["runtime.memhash64"] = 0x403000
    m = MapImage(t, I64, I64)
    arr = m.array(4)
    m.header(3, 2, arr, hash0=0xABCD)
    mt = go_maptype(t, "int64", 8, "int64", 8, hasher=0x403000)
    t.symbols["runtime.mapassign_fast64"] = 0x460000
    t.func = "runtime.mapassign_fast64"
    t.regs = {"pc": 0x460000, "rax": mt, "rbx": m.hmap, "rcx": 77, "rdi": 0}
    r = decode_call(t)
    want = keys.memhash64(i64(77), 0xABCD)
    assert r.hash == want and r.bucket_index == want & 3 and r.tophash == tophash(want)
    assert r.lands_in == f"new bucket {want & 3}" and r.found == "not in the map (an assign inserts it)"
    assert ("aeshash" if use_aes else "hash64.go fallback") in render_text(r)


def test_go_faststr_hashes_the_key_bytes_and_a_composite_hasher_scans():
    t = StopTarget()
    keys = _go_hash_keys(t)
    t.symbols["runtime.strhash"] = 0x403100
    m = MapImage(t, STRING, I64)
    arr = m.array(2)
    m.header(0, 1, arr, hash0=5)
    kp = t.alloc(8, 1)
    t.write(kp, b"key-7")
    t.symbols["runtime.mapassign_faststr"] = 0x470000
    t.func = "runtime.mapassign_faststr"
    t.regs = {"pc": 0x470000, "rax": go_maptype(t, "string", 16, "int64", 8, hasher=0x403100),
              "rbx": m.hmap, "rcx": kp, "rdi": 5}
    r = decode_call(t)
    assert r.hash == keys.memhash(b"key-7", 5) and r.bucket_index == r.hash & 1
    # a hasher that is none of the runtime's: the compiler's own for a composite key
    t.regs["rax"] = go_maptype(t, "string", 16, "int64", 8, hasher=0x4ff000)
    r = decode_call(t)
    assert r.hash is None and any("the compiler generated" in n for n in r.notes)


def test_go_faststr_key_from_rcx_rdi():
    t = StopTarget()
    m = MapImage(t, STRING, I64)
    arr = m.array(1)
    m.header(0, 0, arr)
    mt = go_maptype(t, "string", 16, "int64", 8)
    kp = t.alloc(8, 1)
    t.write(kp, b"key-7")
    t.symbols["runtime.mapassign_faststr"] = 0x470000
    t.func = "runtime.mapassign_faststr"
    t.regs = {"pc": 0x470000, "rax": mt, "rbx": m.hmap, "rcx": kp, "rdi": 5}
    r = decode_call(t)
    assert r.key == b"key-7" and r.found == "not in the map (an assign inserts it)"


def test_not_in_a_map_call_is_one_line():
    t = StopTarget()
    t.func = "main"
    with pytest.raises(GomapError, match="not stopped in a map runtime call"):
        decode_call(t)


def test_nil_map_says_assign_panics():
    t = StopTarget()
    mt = engine_maptype(t, "int64", 8, 2, "int64", 8)
    t.symbols["gomap::mapassign_fast64"] = 0x401000
    t.func = "gomap::mapassign_fast64"
    t.regs = {"pc": 0x401000, "rdi": mt, "rsi": 0, "rdx": 1, "rcx": 0}
    r = decode_call(t)
    assert "assignment to entry in nil map" in r.notes[0]
    assert "nil map" in render_text(r)


def test_inside_the_function_arguments_come_from_the_frame():
    t = StopTarget()
    m, arr, _ = _engine_map(t, 2, [5])
    mt = engine_maptype(t, "int64", 8, 2, "int64", 8)
    t.symbols["gomap::mapassign_fast64"] = 0x401000
    t.func = "gomap::mapassign_fast64"
    t.regs = {"pc": 0x401010, "rdi": 0, "rsi": 0, "rdx": 0, "rcx": 0}
    from gomapcore.target import Value
    for n, v in (("t", mt), ("h", m.hmap), ("key", 5)):
        t.values[n] = Value(I64, None, struct.pack("<Q", v))
    r = decode_call(t)
    assert r.source.startswith("frame arguments") and r.key == 5 and r.hmap.count == 1
