"""Which buckets are old, new, evacuated or pending, and which entries the map holds.

Design
------
Go grows a map incrementally (map.go, hashGrow/growWork/evacuate). hashGrow
keeps the current array as `oldbuckets` and allocates a new one, twice as large
(B+1) when the map is over its load factor, or of the same size (flag
sameSizeGrow) when it only has too many overflow buckets. Each later write
evacuates at most two old buckets: the one its key hashes to (bucket & oldmask)
and the one `nevacuate` points at. Evacuating old bucket i moves every live entry
to new bucket i ("X") or, when doubling, to i + oldnbuckets ("Y"), according to
the hash bit that B+1 adds; the old cells keep a tophash of evacuatedX,
evacuatedY or evacuatedEmpty so that lookups and iterators know to look in the
new array. `nevacuate` only advances over a prefix of evacuated buckets; buckets
above it may already be evacuated too.

Reading needs no hash, so it holds for every key type, including those whose
hash the compiler generates: an old bucket is evacuated iff the first tophash
of its first bucket is in [evacuatedX, evacuatedEmpty] (map.go evacuated()), and mapassign
always evacuates old bucket j & oldmask before it writes into new bucket j. So
new bucket j holds entries only once its old bucket is evacuated, and the map's
contents are exactly:
  - the live cells of every old bucket (with its overflow chain) not evacuated,
  - the live cells of every new bucket j whose old bucket j & oldmask is
    evacuated (all new buckets when not growing).
A live cell has tophash >= minTopHash; emptyOne/emptyRest cells (deleted or never
used) and evacuated cells (kept for an oldIterator, or cleared) are never shown,
so each entry appears once with its current value: no phantom, no stale copy.
Iterator flags change what evacuate clears, not what is live, so they do not
change reading.
"""
from __future__ import annotations

from typing import Optional

from .layout import BUCKET_CNT
from .snapshot import (EMPTY_ONE, EVACUATED_X, EVACUATED_Y, MIN_TOP_HASH, Bucket, BucketArray,
                       Node, Snapshot)


# An entry is a plain tuple (buf, node_off, slot, node_addr): the bytes holding its
# bucket, where the bucket starts in them, the cell index, and the bucket's address.
# Tuples, not objects, because a big map has millions of them.
Entry = tuple

# tophash byte -> 1 for a live cell, 0 otherwise; 8 such bytes -> the live cell indexes
_LIVE = bytes(1 if t >= MIN_TOP_HASH else 0 for t in range(256))
_SLOTS = {bytes((m >> i) & 1 for i in range(BUCKET_CNT)): tuple(i for i in range(BUCKET_CNT) if m >> i & 1)
          for m in range(256)}


def entry(node: Node, slot: int) -> Entry:
    return (node.buf, node.off, slot, node.addr)


def evacuated(b: Bucket) -> bool:
    """map.go evacuated(): the first cell of the bucket records the move."""
    t = b.chain[0].tophash[0]
    return EMPTY_ONE < t < MIN_TOP_HASH


def oldmask(snap: Snapshot) -> int:
    return snap.oldnbuckets - 1


def evacuation_targets(snap: Snapshot, old_index: int) -> tuple[int, Optional[int]]:
    """New buckets an old bucket moves to: X = same index, Y = index + old size (doubling only)."""
    if snap.same_size_grow:
        return old_index, None
    return old_index, old_index + snap.oldnbuckets


def evacuation_summary(b: Bucket) -> str:
    """'X', 'Y', 'X+Y', 'empty' (all cells evacuatedEmpty) for an evacuated old bucket."""
    xs = ys = 0
    for n in b.chain:
        for t in n.tophash:
            xs += t == EVACUATED_X
            ys += t == EVACUATED_Y
    if xs and ys:
        return "X+Y"
    if xs:
        return "X"
    if ys:
        return "Y"
    return "empty"


def evacuated_count(snap: Snapshot) -> int:
    if snap.old is None:
        return 0
    return sum(1 for t in snap.old.first_tophash() if EMPTY_ONE < t < MIN_TOP_HASH)


def _live_nodes(nodes, out: list) -> None:
    for n in nodes:
        for i in _SLOTS[n.tophash.translate(_LIVE)]:
            out.append((n.buf, n.off, i, n.addr))


def _live_in_array(arr: BucketArray, i: int, out: list) -> None:
    """Live cells of bucket i and its chain, straight from the array's bytes."""
    lay = arr.layout
    o = i * lay.bucketsize
    data = arr.data
    for s in _SLOTS[data[o + lay.tophash_off:o + lay.tophash_off + BUCKET_CNT].translate(_LIVE)]:
        out.append((data, o, s, arr.base + o))
    ch = arr.chains.get(i)
    if ch:
        _live_nodes(ch, out)


def live_entries(snap: Snapshot) -> list[Entry]:
    """The map's entries in bucket order (new bucket j, or its old bucket when pending)."""
    new = snap.new
    if new is None:
        return []
    out: list[Entry] = []
    if snap.old is None:
        lay = snap.layout
        bs, to = lay.bucketsize, lay.tophash_off
        data, base, chains = new.data, new.base, new.chains
        slots, live = _SLOTS, _LIVE
        for i in range(new.nbuckets):
            o = i * bs
            for s in slots[data[o + to:o + to + BUCKET_CNT].translate(live)]:
                out.append((data, o, s, base + o))
            if chains:
                ch = chains.get(i)
                if ch:
                    _live_nodes(ch, out)
        return out
    old = snap.old
    mask = oldmask(snap)
    done = [EMPTY_ONE < t < MIN_TOP_HASH for t in old.first_tophash()]
    stray: list = []
    for j in range(new.nbuckets):
        i = j & mask
        if done[i]:
            _live_in_array(new, j, out)
            continue
        if j == i:
            _live_in_array(old, i, out)
        _live_in_array(new, j, stray)
    if stray:
        snap.warnings.append(f"warning: {len(stray)} live cells in new buckets whose old bucket is not "
                             "evacuated (not shown: Go never writes there before evacuating)")
    return out


# --- runs: the same selection as live_entries, as whole bmaps for column decoding ---
# A run (buf, first, end) is buckets first..end-1 of buf (bucket k starts at k *
# bucketsize): a stretch of one array, or one overflow bucket. columns.py gathers a
# field of every cell of the runs with a few slice operations and keeps the live ones.
Run = tuple


def _push(runs: list, buf: bytes, first: int, end: int) -> None:
    if runs:
        b, f, e = runs[-1]
        if b is buf and e == first:
            runs[-1] = (b, f, end)
            return
    runs.append((buf, first, end))


def _chain_runs(arr: BucketArray, i: int, runs: list) -> None:
    bs = arr.layout.bucketsize
    for n in arr.chains.get(i, ()):
        k = n.off // bs
        _push(runs, n.buf, k, k + 1)


def _array_runs(arr: BucketArray, lo: int, hi: int, runs: list) -> None:
    """Buckets lo..hi-1 of arr, each followed by its overflow chain."""
    chains = arr.chains
    if not chains:
        _push(runs, arr.data, lo, hi)
        return
    start = lo
    # look up the few buckets of a short stretch; scan the chains for a long one
    heads = [k for k in range(lo, hi) if k in chains] if hi - lo <= len(chains) \
        else sorted(k for k in chains if lo <= k < hi)
    for i in heads:
        _push(runs, arr.data, start, i + 1)
        _chain_runs(arr, i, runs)
        start = i + 1
    if start < hi:
        _push(runs, arr.data, start, hi)


def live_runs(snap: Snapshot) -> tuple[list[Run], list[Run]]:
    """(runs to show in print order, stray runs): what live_entries walks, as bmaps.
    Stray runs are new buckets whose old bucket is pending (their live cells are the
    "not shown" warning)."""
    new = snap.new
    if new is None:
        return [], []
    runs: list[Run] = []
    if snap.old is None:
        _array_runs(new, 0, new.nbuckets, runs)
        return runs, []
    old = snap.old
    mask = oldmask(snap)
    done = [EMPTY_ONE < t < MIN_TOP_HASH for t in old.first_tophash()]
    stray: list[Run] = []
    j = 0
    nb = new.nbuckets
    while j < nb:
        i = j & mask
        if done[i]:
            # a stretch of new buckets whose old buckets are all evacuated
            k = j + 1
            while k < nb and done[k & mask]:
                k += 1
            _array_runs(new, j, k, runs)
            j = k
            continue
        if j == i:
            _array_runs(old, i, i + 1, runs)
        _array_runs(new, j, j + 1, stray)
        j += 1
    return runs, stray


def check_count(snap: Snapshot, n_live: int) -> None:
    if snap.hmap is not None and n_live != snap.hmap.count:
        snap.warnings.append(f"warning: count = {snap.hmap.count} but {n_live} live cells were found")


def progress_text(snap: Snapshot) -> str:
    if snap.old is None:
        return "not growing"
    kind = "same-size grow" if snap.same_size_grow else "doubling grow"
    return (f"{kind}: evacuated {evacuated_count(snap)}/{snap.oldnbuckets} old buckets, "
            f"nevacuate={snap.hmap.nevacuate}")
