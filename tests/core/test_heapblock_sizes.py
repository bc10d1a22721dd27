"""`heap block ADDR` without --map: what the registry alone can tell about a bucket.

The registry knows an array's byte size and B, not its bucket size; several bucket
sizes can round to the same size class (136 and 144 bytes for two buckets: 288).
The map's other allocations narrow that (a grow keeps the bucket size; at B=5 the
two round to 4864 vs 5376 bytes), and tophash / overflow pointer sit at the same
place whatever the key and elem sizes. The hmap cannot help: it does not record
its type, and the output says so.
"""
from gomapcore import heapblock, heapview
from heap_fixtures import Scene, pack_hmap

MAP = 0x10000
SMALL, BIG = 0x20000, 0x30000     # the map's arrays at B=1 and B=5
BS = 144


def scene(with_big: bool) -> heapview.HeapView:
    s = Scene()
    s.alloc(MAP, 48, MAP, "hmap")
    s.alloc(SMALL, 2 * BS, MAP, "buckets", B=1, nbuckets=2,
            state="unreachable" if with_big else "live", dead_seq=4 if with_big else 0)
    if with_big:
        # B=5: 32 buckets + 2 preallocated = 34 * 144 = 4896 -> 5376 (136: 4624 -> 4864)
        s.alloc(BIG, 5376, MAP, "buckets", B=5, nbuckets=32)
    s.memory[MAP] = pack_hmap(count=40 if with_big else 9, B=5 if with_big else 1,
                              buckets=BIG if with_big else SMALL)
    return heapview.load(s.target())


def test_other_arrays_of_the_map_settle_the_bucket_size():
    st = scene(with_big=True)
    text, d = heapblock.block(st, SMALL + 140)
    assert d["bucket_sizes"] == [BS] and d["bucket_size_source"] == "registry"
    assert (d["bucket"], d["field"], d["slot"]) == (0, "overflow", None)
    assert "bucket 0, overflow" in text
    _, d = heapblock.block(st, SMALL + BS + 3)
    assert (d["bucket"], d["field"], d["slot"]) == (1, "tophash", 3)


def test_without_other_arrays_the_sizes_left_are_named():
    st = scene(with_big=False)
    text, d = heapblock.block(st, SMALL + 140)    # bucket 0 (144) or 1 (136)
    assert d["bucket_sizes"] == [136, 144] and d["bucket"] is None
    assert "bucket size could be 136/144" in text
    assert "neither the registry nor the hmap records the map's type" in text


def test_tophash_named_when_every_size_left_agrees():
    st = scene(with_big=False)
    text, d = heapblock.block(st, SMALL + 5)     # bucket 0's tophash[5] for 136 and 144 alike
    assert d["bucket_sizes"] == [136, 144] and d["bucket_size"] is None
    assert (d["bucket"], d["field"], d["slot"]) == (0, "tophash", 5)
    assert "bucket 0 (bucket size 136 or 144" in text and "tophash[5]" in text
    _, d = heapblock.block(st, SMALL + 200)      # bucket 1: keys/elems (136) or key area (144)
    assert d["bucket"] == 1 and d["field"] == "keys/elems"
    _, d = heapblock.block(st, SMALL + 140)      # bucket 0 or 1: nothing to name
    assert d["field"] is None


def test_keys_elems_area_says_what_it_needs():
    st = scene(with_big=True)
    text, d = heapblock.block(st, SMALL + 40)
    assert (d["bucket"], d["field"]) == (0, "keys/elems")
    assert "keys/elems area +40" in text and "--map EXPR" in text
