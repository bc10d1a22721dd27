"""gomap dot laid out by the real Graphviz: buckets stand in index order.

Graphviz orders the nodes of a column to spare edge crossings; with the X/Y edges of a
grow it used to draw NEW[0], NEW[8], NEW[1], ... The image here is a map mid-grow (old
B=3 -> new B=4) whose X/Y edges invite that reordering, and `dot -Tplain` gives every
node's centre (y grows upwards), so the test reads the layout a person would see.
"""
import shutil
import subprocess

import pytest

from fakes import I64, FakeTarget, MapImage, i64
from gomapcore.commands import dispatch

EVAC_X, EVAC_Y, EVAC_EMPTY = 2, 3, 4

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz dot not installed")


def growing_image(old_b=3):
    """Old 2^old_b buckets -> new 2^(old_b+1); the first half of the old array evacuated
    (one entry to X, one to Y), the rest pending; an overflow bucket on new 3, old last."""
    t = FakeTarget()
    m = MapImage(t, I64, I64)
    n_old = 1 << old_b
    # overflow buckets first: one just past an array would look like its preallocated area
    new_ovf, old_ovf = m.overflow_bucket(), m.overflow_bucket()
    old, new = m.array(n_old), m.array(2 * n_old)
    nevacuate = n_old // 2
    for j in range(n_old):
        o = m.bucket_addr(old, j)
        if j < nevacuate:
            m.set_slot(o, 0, EVAC_X)
            m.set_slot(o, 1, EVAC_Y)
            for i in range(2, 8):
                m.set_slot(o, i, EVAC_EMPTY)
            m.set_slot(m.bucket_addr(new, j), 0, 0xb0, i64(j), i64(j))
            m.set_slot(m.bucket_addr(new, j + n_old), 0, 0xb1, i64(j + n_old), i64(j))
        else:
            m.set_slot(o, 0, 0xa0, i64(100 + j), i64(j))
    m.set_slot(new_ovf, 0, 0xc0, i64(500), i64(5))
    m.set_slot(old_ovf, 0, 0xc1, i64(600), i64(6))
    m.link(m.bucket_addr(new, 3), new_ovf)
    m.link(m.bucket_addr(old, n_old - 1), old_ovf)
    count = 2 * nevacuate + (n_old - nevacuate) + 2
    m.header(count, old_b + 1, new, oldbuckets=old, nevacuate=nevacuate, noverflow=2)
    m.bind("m")
    return t


def layout(text):
    """node name -> (x, y) from dot -Tplain."""
    r = subprocess.run(["dot", "-Tplain"], input=text.encode(), capture_output=True, timeout=60, check=True)
    assert b"Error" not in r.stderr, r.stderr.decode()
    pos = {}
    for line in r.stdout.decode().splitlines():
        f = line.split()
        if f and f[0] == "node":
            pos[f[1]] = (float(f[2]), float(f[3]))
    return pos


@needs_dot
@pytest.mark.parametrize("old_b", [1, 3, 4])
def test_buckets_of_each_array_stand_in_index_order(old_b):
    text = dispatch(growing_image(old_b), "dot", "m")
    pos = layout(text)
    n_old = 1 << old_b
    for label, n in (("new", 2 * n_old), ("old", n_old)):
        ys = [pos[f"{label}{i}"][1] for i in range(n)]
        assert all(a > b for a, b in zip(ys, ys[1:])), f"{label} rows out of order: {ys}"
        xs = [pos[f"{label}{i}"][0] for i in range(n)]
        assert max(xs) - min(xs) < 0.2, f"{label} column is not straight (inches): {xs}"
    # old bucket j on new bucket j's row: X edges are level
    for j in range(n_old):
        assert pos[f"old{j}"][1] == pos[f"new{j}"][1]
    # the old array left of the new one
    assert pos["old0"][0] < pos["new0"][0]


@needs_dot
def test_overflow_buckets_stand_beside_their_chain_head():
    pos = layout(dispatch(growing_image(3), "dot", "m"))
    for head, ovf, other in (("new3", "new3_o1", "old0"), ("old7", "old7_o1", "new0")):
        assert pos[ovf][1] == pos[head][1]
        assert pos[ovf][0] > pos[head][0]
    # the old chain stays between the arrays, not past the new one
    assert pos["old7_o1"][0] < pos["new0"][0]


@needs_dot
def test_svg_renders_without_graphviz_complaints(tmp_path):
    out = tmp_path / "m.svg"
    assert dispatch(growing_image(3), "dot", f"m -o {out}") == f"wrote {out}"
    svg = out.read_text()
    assert "NEW[15]" in svg and "OLD[7]" in svg and "overflow" in svg


@needs_dot
def test_map_not_growing_has_one_array_in_order():
    t = FakeTarget()
    m = MapImage(t, I64, I64)
    arr = m.array(8)
    for j in range(8):
        m.set_slot(m.bucket_addr(arr, j), 0, 0x90 + j, i64(j), i64(j))
    m.header(8, 3, arr)
    m.bind("m")
    text = dispatch(t, "dot", "m")
    assert "cluster_old" not in text
    pos = layout(text)
    ys = [pos[f"new{i}"][1] for i in range(8)]
    assert ys == sorted(ys, reverse=True) and len(set(ys)) == 8
