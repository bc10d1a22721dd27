"""The column decoder (columns.py) against the cell-by-cell path it replaces for
`print`: random maps (deleted cells, overflow chains inside and outside the array,
doubling and same-size grows half evacuated, odd strings) must print exactly what
grow.live_entries + render.decode print."""
import json
import random
import struct

import pytest

from fakes import BOOL, F64, I32, I64, STRING, U8, FakeTarget, MapImage, i64, string_bytes, struct_type
from gomapcore import grow, render
from gomapcore.commands import dispatch, evaluate_map
from gomapcore.snapshot import SAME_SIZE_GROW, take_snapshot

EVAC_X, EVAC_Y, EVAC_EMPTY, EMPTY_ONE = 2, 3, 4, 1
PAIR = struct_type("Pair", [("A", I32), ("B", STRING)])
ODD = [b"", b"plain", b'q"uote', b"back\\slash", b"tab\t", "h\u00e9llo".encode(), b"\xff\xfe",
       b"x" * 70, "\U0001f600".encode()]


def value(rng, t, m):
    if t is I64:
        return i64(rng.randrange(-2**63, 2**63))
    if t is I32:
        return struct.pack("<i", rng.randrange(-2**31, 2**31))
    if t is U8:
        return bytes([rng.randrange(256)])
    if t is F64:
        return struct.pack("<d", rng.choice([0.0, -0.0, 1.5, 1e21, float("nan"), rng.random()]))
    if t is BOOL:
        return bytes([rng.choice([0, 1, 7])])
    if t is STRING:
        if rng.random() < 0.05:
            return struct.pack("<Qq", 0x10, -3)            # negative length: unreadable
        if rng.random() < 0.05:
            return struct.pack("<Qq", 0x7000_0000_0000, 5)  # dangling pointer
        return string_bytes(m.t, rng.choice(ODD) + b"%d" % rng.randrange(1000))
    if t is PAIR:
        return struct.pack("<i4x", rng.randrange(100)) + value(rng, STRING, m)
    raise AssertionError(t)


def fill(rng, m, base, nb, nalloc, kt, vt, evac=None, budget=1 << 30):
    """Random cells in buckets of one array; chains in the preallocated area and outside
    (at most `budget` overflow buckets: the most the header allows)."""
    spare = list(range(nb, nalloc))
    for b in range(nb):
        node = m.bucket_addr(base, b)
        for depth in range(rng.choice([1, 1, 1, 2, 3])):
            if depth:
                if budget == 0:
                    break
                budget -= 1
                nxt = m.bucket_addr(base, spare.pop()) if spare and rng.random() < 0.5 \
                    else m.overflow_bucket()
                m.link(node, nxt)
                node = nxt
            if evac is not None and evac[b]:
                for i in range(8):
                    m.set_slot(node, i, rng.choice([EVAC_X, EVAC_Y, EVAC_EMPTY]))
                continue
            top = rng.randrange(9)
            for i in range(top):
                th = rng.choice([EMPTY_ONE, 5, 0x80, 0xff])
                m.set_slot(node, i, th, value(rng, kt, m), value(rng, vt, m))


def random_map(seed, kt, vt):
    rng = random.Random(seed)
    t = FakeTarget()
    m = MapImage(t, kt, vt)
    kind = rng.choice(["plain", "doubling", "same"])
    B = rng.randrange(0, 4)
    nb = 1 << B
    new = m.array(nb, nb + 2)
    if kind == "plain":
        fill(rng, m, new, nb, nb + 2, kt, vt)
        m.header(rng.randrange(50), B, new, noverflow=4 * nb)
    else:
        oB = B if kind == "same" else max(B - 1, 0)
        if kind == "doubling" and B == 0:
            B, nb = 1, 2
            new = m.array(2, 4)
        onb = 1 << oB
        old = m.array(onb, onb + 1)
        evac = [rng.random() < 0.5 for _ in range(onb)]
        fill(rng, m, old, onb, onb + 1, kt, vt, evac, budget=onb)
        fill(rng, m, new, nb, nb + 2, kt, vt)
        m.header(rng.randrange(50), B, new, oldbuckets=old, noverflow=4 * nb,
                 flags=SAME_SIZE_GROW if kind == "same" else 0, nevacuate=rng.randrange(onb + 1))
    m.bind("m")
    return t


def reference_text(t, limit):
    snap = take_snapshot(t, evaluate_map(t, "m", None))
    entries = grow.live_entries(snap)
    grow.check_count(snap, len(entries))
    shown = entries if limit is None else entries[:limit]
    codecs = render.codecs_for(snap, None if limit is None else render.DEFAULT_STRING_LIMIT)
    line = render.delve_line(snap.layout.go_name, render.decode(snap, shown, codecs), len(entries))
    return "\n".join([line] + snap.warnings)


def reference_json(t):
    snap = take_snapshot(t, evaluate_map(t, "m", None))
    entries = grow.live_entries(snap)
    grow.check_count(snap, len(entries))
    d = render.hmap_json(snap)
    d["live"] = len(entries)
    d["entries"] = [list(p) for p in render.decode(snap, entries, render.codecs_for(snap, None),
                                                   as_json=True)]
    d["warnings"] = list(snap.warnings)
    return json.dumps(d)


@pytest.mark.parametrize("kt,vt", [(I64, I64), (STRING, I64), (I32, STRING), (F64, BOOL),
                                   (U8, PAIR), (STRING, STRING)])
@pytest.mark.parametrize("seed", range(12))
def test_columns_print_exactly_what_cells_print(kt, vt, seed):
    t = random_map(seed, kt, vt)
    for limit, args in ((None, "--all m"), (64, "m"), (3, "-n 3 m"), (0, "-n 0 m")):
        assert dispatch(t, "print", args) == reference_text(t, limit)
    assert dispatch(t, "print", "--json m") == reference_json(t)


@pytest.mark.parametrize("bad", [False, True])
def test_strings_in_several_spans(bad):
    """Strings far apart (two spans) are sliced from the right span; one dangling
    string sends the whole column down the careful path, with the same text."""
    t = FakeTarget()
    m = MapImage(t, STRING, STRING)
    far = 0x5000_0000
    t.regions[far] = bytearray(b"".join(b"far-%03d" % i for i in range(200)))
    arr = m.array(8)
    n = 0
    for b in range(8):
        for s in range(7):
            k = string_bytes(t, b"near%d" % n)
            v = struct.pack("<Qq", far + 7 * n, 7)
            if bad and n == 30:
                v = struct.pack("<Qq", 0x7000_0000_0000, 7)
            m.set_slot(m.bucket_addr(arr, b), s, 0x80 + s, k, v)
            n += 1
    m.header(n, 3, arr)
    m.bind("m")
    text = dispatch(t, "print", "--all m")
    assert text == reference_text(t, None)
    assert '"near3": "far-003"' in text
    assert ("(unreadable string of length 7 at 0x700000000000)" in text) == bad
    assert dispatch(t, "print", "--json m") == reference_json(t)
