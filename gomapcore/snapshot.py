"""One bulk read of a map: the hmap, each bucket array in one read, then overflow buckets.

Reading is separate from explaining (grow.py) and from printing (render.py): a
Snapshot holds the bytes as they were and the chains as they were found, and
everything after works on it without touching the debugger again (except for
string bytes and indirect keys, which values.py fetches in bulk).

Validation happens here because only the reader knows what it could not read:
every failure is a GomapError of one line that says what was wrong and what was
readable. Limits (B, chain lengths) are derived from the header, never guessed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from .bulk import BulkReader
from .layout import BUCKET_CNT, MapLayout, MapRef
from .sizeclasses import bucket_array_len
from .target import GomapError, MemoryReadError, Target

# hmap.flags (map.go)
ITERATOR, OLD_ITERATOR, HASH_WRITING, SAME_SIZE_GROW = 1, 2, 4, 8
FLAG_NAMES = ((ITERATOR, "iterator"), (OLD_ITERATOR, "oldIterator"),
              (HASH_WRITING, "hashWriting"), (SAME_SIZE_GROW, "sameSizeGrow"))

# tophash cell states (map.go); >= MIN_TOP_HASH is a live entry's hash byte.
EMPTY_REST, EMPTY_ONE, EVACUATED_X, EVACUATED_Y, EVACUATED_EMPTY, MIN_TOP_HASH = 0, 1, 2, 3, 4, 5
TOPHASH_NAMES = {EMPTY_REST: "emptyRest", EMPTY_ONE: "emptyOne", EVACUATED_X: "evacuatedX",
                 EVACUATED_Y: "evacuatedY", EVACUATED_EMPTY: "evacuatedEmpty"}

# A user-space address on amd64 has 47 bits: an array larger than that cannot exist.
ADDRESS_BITS = 47


def flags_text(flags: int) -> str:
    names = [n for bit, n in FLAG_NAMES if flags & bit]
    rest = flags & ~0xF
    if rest:
        names.append(f"{rest:#x}")
    return "|".join(names) if names else "0"


def tophash_state(t: int) -> str:
    return TOPHASH_NAMES.get(t, "live")


@dataclass
class Hmap:
    addr: int
    count: int
    flags: int
    B: int
    noverflow: int
    hash0: int
    buckets: int
    oldbuckets: int
    nevacuate: int
    extra: int

    @property
    def growing(self) -> bool:
        return self.oldbuckets != 0

    def describe(self) -> str:
        return (f"count={self.count} flags={self.flags:#x} B={self.B} noverflow={self.noverflow} "
                f"hash0={self.hash0:#x} buckets={self.buckets:#x} oldbuckets={self.oldbuckets:#x} "
                f"nevacuate={self.nevacuate}")


@dataclass
class Node:
    """One bmap in memory: the bucket in its array, or an overflow bucket."""
    addr: int
    buf: bytes        # bytes holding this bucket (its array's read, or its own)
    off: int          # where the bucket starts in buf
    tophash: bytes    # the 8 tophash bytes
    overflow: int     # the overflow pointer
    preallocated: bool = False  # lives in its array's preallocated overflow area


@dataclass
class Bucket:
    which: str        # "new" or "old"
    index: int
    chain: list[Node]  # chain[0] is the bucket in the array


class BucketArray:
    """One bucket array as read: its bytes, and the overflow chains found from it.
    Bucket objects are made on demand: a million-entry map need not have 100k of them."""

    def __init__(self, which: str, base: int, nbuckets: int, nalloc: int, data: bytes,
                 layout: MapLayout):
        self.which, self.base, self.nbuckets, self.nalloc, self.data = which, base, nbuckets, nalloc, data
        self.layout = layout
        self.chains: dict[int, list[Node]] = {}   # bucket index -> its overflow buckets
        self._buckets: Optional[list[Bucket]] = None

    @property
    def end(self) -> int:
        return self.base + len(self.data)

    def head(self, i: int) -> Node:
        bs = self.layout.bucketsize
        return _node(self.data, i * bs, self.base + i * bs, self.layout, False)

    def bucket(self, i: int) -> Bucket:
        return Bucket(self.which, i, [self.head(i)] + self.chains.get(i, []))

    @property
    def buckets(self) -> list[Bucket]:
        if self._buckets is None:
            self._buckets = [self.bucket(i) for i in range(self.nbuckets)]
        return self._buckets

    def overflow_pointers(self) -> list[int]:
        """The overflow word of every bucket of the array, in one slice."""
        bs, oo = self.layout.bucketsize, self.layout.overflow_off
        words = memoryview(self.data)[:self.nbuckets * bs].cast("Q")
        return list(words[oo // 8::bs // 8]) if self.nbuckets else []

    def first_tophash(self) -> bytes:
        """tophash[0] of every bucket (map.go evacuated() looks only at this byte)."""
        return self.data[self.layout.tophash_off:self.nbuckets * self.layout.bucketsize:self.layout.bucketsize]


@dataclass
class Snapshot:
    layout: MapLayout
    hmap: Optional[Hmap]           # None for a nil map
    new: Optional[BucketArray] = None
    old: Optional[BucketArray] = None
    warnings: list[str] = field(default_factory=list)
    reader: Optional[BulkReader] = None

    @property
    def growing(self) -> bool:
        return self.hmap is not None and self.hmap.oldbuckets != 0

    @property
    def same_size_grow(self) -> bool:
        return self.hmap is not None and bool(self.hmap.flags & SAME_SIZE_GROW)

    @property
    def oldnbuckets(self) -> int:
        """Go's noldbuckets(): 2^B, halved unless the grow keeps the size."""
        if self.hmap is None:
            return 0
        return 1 << self.hmap.B if self.same_size_grow else 1 << max(self.hmap.B - 1, 0)


def _u(data: bytes, off: int, size: int) -> int:
    return int.from_bytes(data[off:off + size], "little")


def read_hmap(target: Target, layout: MapLayout, addr: int) -> Hmap:
    offs = layout.hmap_offsets
    size = max(o + s for o, s in offs.values())
    try:
        data = target.read_memory(addr, size)
    except MemoryReadError as e:
        raise GomapError(f"cannot read the map header at {addr:#x}: {e}") from None
    vals = {name: _u(data, o, s) for name, (o, s) in offs.items()}
    count = vals.get("count", 0)
    if count >= 1 << 63:
        count -= 1 << 64
    return Hmap(addr, count, vals.get("flags", 0), vals.get("B", 0), vals.get("noverflow", 0),
                vals.get("hash0", 0), vals.get("buckets", 0), vals.get("oldbuckets", 0),
                vals.get("nevacuate", 0), vals.get("extra", 0))


def _corrupt(h: Hmap, what: str, readable: str = "") -> GomapError:
    more = f"; {readable}" if readable else ""
    return GomapError(f"corrupted map at {h.addr:#x}: {what} (readable: {h.describe()}{more})")


def validate_header(h: Hmap, layout: MapLayout) -> None:
    if h.B > 64:
        raise _corrupt(h, f"B = {h.B} is over 64")
    if (1 << h.B) * layout.bucketsize >= 1 << ADDRESS_BITS:
        raise _corrupt(h, f"B = {h.B} means a bucket array of {(1 << h.B) * layout.bucketsize} "
                          "bytes, larger than the address space")
    if h.count < 0:
        raise _corrupt(h, f"count = {h.count} is negative")
    if h.buckets == 0 and h.count > 0:
        raise _corrupt(h, f"count = {h.count} but buckets is nil")
    if h.buckets == 0 and h.oldbuckets != 0:
        raise _corrupt(h, "oldbuckets is set but buckets is nil")
    if h.oldbuckets and h.B == 0 and not h.flags & SAME_SIZE_GROW:
        raise _corrupt(h, "a doubling grow with B = 0")
    for name, p in (("buckets", h.buckets), ("oldbuckets", h.oldbuckets)):
        if p % 8:
            raise _corrupt(h, f"{name} = {p:#x} is not pointer-aligned")


def overflow_bound(h: Hmap, which: str, B: int) -> int:
    """Most overflow buckets an array can have, from map.go's bookkeeping.

    noverflow counts every overflow bucket taken since the last hashGrow exactly
    while B < 16 (incrnoverflow), so it bounds the new array. The old array's
    overflow buckets were counted before hashGrow reset noverflow; a grow starts at
    the latest when that count reaches 2^min(B,15) (tooManyOverflowBuckets), and an
    insert adds at most one. From B = 16 on noverflow is a sample taken with
    probability 1/2^(B-15); allow 8 times its expectation.
    """
    if which == "new":
        if B < 16:
            return h.noverflow
        return (h.noverflow + 1) << (B - 15 + 3)
    if B < 16:
        return 1 << min(B, 15)
    return 1 << (B + 3)


def _read_array(target: Target, h: Hmap, layout: MapLayout, which: str, base: int, B: int) -> BucketArray:
    bs = layout.bucketsize
    nb = 1 << B
    nalloc = bucket_array_len(B, bs)
    try:
        data = target.read_memory(base, nalloc * bs)
    except MemoryReadError:
        # The allocation may be smaller than Go would make it (not our engine, or a
        # hand-made map): the 2^B buckets are what we must have.
        try:
            data = target.read_memory(base, nb * bs)
            nalloc = nb
        except MemoryReadError as e:
            raise _corrupt(h, f"the {which} bucket array ({nb} buckets, {nb * bs} bytes at "
                              f"{base:#x}) is unreadable: {e}") from None
    return BucketArray(which, base, nb, nalloc, data, layout)


def _node(buf: bytes, off: int, addr: int, layout: MapLayout, prealloc: bool) -> Node:
    th = buf[off + layout.tophash_off: off + layout.tophash_off + BUCKET_CNT]
    ovf = int.from_bytes(buf[off + layout.overflow_off: off + layout.overflow_off + 8], "little")
    return Node(addr, buf, off, th, ovf, prealloc)


def _follow_chains(target: Target, reader: BulkReader, h: Hmap, layout: MapLayout,
                   arr: BucketArray, bound: int) -> None:
    """Overflow buckets, level by level so that each level is one batch of reads."""
    bs = layout.bucketsize
    prealloc_lo = arr.base + arr.nbuckets * bs
    seen: dict[int, tuple[int, int]] = {}   # overflow addr -> (bucket index, position)
    ptrs = arr.overflow_pointers()
    # (bucket index, address of the next overflow bucket)
    frontier = [(i, p) for i, p in enumerate(ptrs) if p]
    heads_lo, heads_hi = arr.base, prealloc_lo
    total = 0
    depth = 0
    while frontier:
        depth += 1
        outside = []
        for i, p in frontier:
            if p % 8:
                raise _corrupt(h, f"{arr.which} bucket {i}: overflow pointer {p:#x} at chain "
                                  f"position {depth} is not aligned", f"{depth} buckets of that chain")
            if heads_lo <= p < heads_hi or p in seen:
                where = (f"{arr.which} bucket {(p - heads_lo) // bs}" if heads_lo <= p < heads_hi
                         else f"{arr.which} bucket {seen[p][0]} position {seen[p][1]}")
                raise _corrupt(h, f"{arr.which} bucket {i}: overflow chain is cyclic or shared "
                                  f"(position {depth} points at {p:#x}, already {where})",
                               f"{depth} buckets of that chain")
            if not (arr.base <= p and p + bs <= arr.end):
                outside.append((p, bs))
        reader.fetch(outside)
        nxt = []
        for i, p in frontier:
            if p in seen:
                raise _corrupt(h, f"{arr.which} bucket {i}: overflow chain is cyclic or shared "
                                  f"(position {depth} points at {p:#x}, already {arr.which} bucket "
                                  f"{seen[p][0]} position {seen[p][1]})", f"{depth} buckets of that chain")
            if arr.base <= p and p + bs <= arr.end:
                if (p - arr.base) % bs:
                    raise _corrupt(h, f"{arr.which} bucket {i}: overflow pointer {p:#x} points "
                                      "inside a bucket of its own array")
                node = _node(arr.data, p - arr.base, p, layout, p >= prealloc_lo)
            else:
                d = reader.get(p, bs)
                if d is None:
                    raise _corrupt(h, f"{arr.which} bucket {i}: overflow bucket {p:#x} at chain "
                                      f"position {depth} is unreadable",
                                   f"{depth} buckets of that chain were read")
                node = _node(d, 0, p, layout, False)
            seen[p] = (i, depth)
            chain = arr.chains.setdefault(i, [])
            chain.append(node)
            total += 1
            if total > bound:
                raise _corrupt(h, f"{arr.which} array has more than {bound} overflow buckets "
                                  f"(the most its header allows); bucket {i}'s chain is "
                                  f"{len(chain) + 1} long", f"{total} overflow buckets read")
            if node.overflow:
                nxt.append((i, node.overflow))
        frontier = nxt


def read_chain(target: Target, h: Hmap, layout: MapLayout, which: str, index: int) -> list[Node]:
    """One bucket of the new or old array and its overflow chain, read bucket by
    bucket: what a lookup of one key touches, where take_snapshot reads the map.
    The same guards as a snapshot's: unaligned, cyclic or over-long chains and
    unreadable buckets are a corrupt map."""
    bs = layout.bucketsize
    B = h.B if which == "new" or h.flags & SAME_SIZE_GROW else h.B - 1
    base = h.buckets if which == "new" else h.oldbuckets
    bound = overflow_bound(h, which, B)
    chain: list[Node] = []
    p = base + index * bs
    seen: set[int] = set()
    while p:
        depth = len(chain)
        if depth and (p % 8 or p in seen or base <= p < base + (bs << B)):
            raise _corrupt(h, f"{which} bucket {index}: overflow chain is cyclic, shared or unaligned "
                              f"(position {depth} points at {p:#x})", f"{depth} buckets of that chain")
        if depth > bound:
            raise _corrupt(h, f"{which} bucket {index}: chain longer than the {bound} overflow "
                              "buckets its header allows", f"{depth} buckets of that chain")
        try:
            buf = target.read_memory(p, bs)
        except MemoryReadError as e:
            raise _corrupt(h, f"{which} bucket {index}: bucket {p:#x} at chain position {depth} "
                              f"is unreadable: {e}", f"{depth} buckets of that chain") from None
        seen.add(p)
        node = _node(buf, 0, p, layout, False)
        chain.append(node)
        p = node.overflow
    return chain


def take_snapshot(target: Target, ref: MapRef) -> Snapshot:
    layout = ref.layout
    if ref.hmap_addr == 0:
        return Snapshot(layout, None)
    h = read_hmap(target, layout, ref.hmap_addr)
    validate_header(h, layout)
    reader = BulkReader(target)
    snap = Snapshot(layout, h, reader=reader)
    if h.buckets == 0:
        return snap
    arrays = [("new", h.buckets, h.B)]
    if h.oldbuckets:
        oldB = h.B if h.flags & SAME_SIZE_GROW else h.B - 1
        arrays.append(("old", h.oldbuckets, oldB))
        if h.nevacuate > (1 << oldB):
            snap.warnings.append(f"warning: nevacuate = {h.nevacuate} is past the old array's "
                                 f"{1 << oldB} buckets")
    for which, base, B in arrays:
        arr = _read_array(target, h, layout, which, base, B)
        _follow_chains(target, reader, h, layout, arr, overflow_bound(h, which, B))
        setattr(snap, which, arr)
    return snap
