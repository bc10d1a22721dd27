"""`gomap heap block ADDR`: what one address of map memory belongs to.

The registry says which allocation holds the address and when it was allocated,
dropped and freed. Turning that into "old array, bucket 5, key[3]" needs the
bucket size: exact from the map's type when the caller knows it, otherwise
inferred from the record itself -- the sizes makeBucketArray could have asked
the allocator for to get exactly this many bytes (size-class rounding can leave
several; the bucket index is reported only when they all agree). Whether the
memory is still referenced is read from the owning hmap and its mapextra, so a
freed array that hmap.oldbuckets still points at shows as DANGLING.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Iterable, Optional

from .heapview import (BUCKET_CNT, DATA_OFFSET, EMPTY_ONE, FREED, HMAP_SIZE, LIVE,
                       MIN_TOP_HASH, POISON, UNREACHABLE, HeapRecord, HeapView, Hmap)
from .sizeclasses import bucket_array_len, roundupsize
from .target import GomapError, MemoryReadError, Target


@dataclass
class BucketGeometry:
    """Slot sizes of a map's buckets (after indirection), as abi.h's bucketSize
    lays them out. gomapcore.layout.MapLayout has the same attributes and can be
    passed wherever a geometry is taken."""
    keysize: int
    elemsize: int

    @property
    def bucketsize(self) -> int:
        raw = DATA_OFFSET + BUCKET_CNT * (self.keysize + self.elemsize)
        return (raw + 7) // 8 * 8 + 8

    @property
    def keys_off(self) -> int:
        return DATA_OFFSET

    @property
    def elems_off(self) -> int:
        return DATA_OFFSET + BUCKET_CNT * self.keysize

    @property
    def overflow_off(self) -> int:
        return self.bucketsize - 8


def array_bucket_count(r: HeapRecord, bucketsize: int) -> int:
    """Buckets in an array record: 2^B, plus for B >= 4 the preallocated overflow
    buckets that makeBucketArray adds (2^(B-4), grown to fill the size class)."""
    return bucket_array_len(r.B, bucketsize)


def bucket_size_candidates(r: HeapRecord, overflow_sizes: Iterable[int] = ()) -> list:
    """Bucket sizes that would make makeBucketArray allocate exactly r.size bytes
    (and one overflow bucket exactly the sizes seen for the same map). Size-class
    rounding can leave more than one."""
    n = max(1, r.nbuckets) + ((r.nbuckets >> 4) if r.B >= 4 else 0)
    ovf = set(overflow_sizes)
    # The largest possible bucket: 8 tophash + 8 * 2 * 128-byte slots + overflow.
    top = min(r.size // n, DATA_OFFSET + 2 * BUCKET_CNT * 128 + 8)
    return [bs for bs in range(16, top + 1, 8)
            if roundupsize(bs * n) == r.size and (not ovf or roundupsize(bs) in ovf)]


_HMAP_FIELDS = ((0, "count"), (8, "flags"), (9, "B"), (10, "noverflow"), (12, "hash0"),
                (16, "buckets"), (24, "oldbuckets"), (32, "nevacuate"), (40, "extra"))


def _hmap_field(off: int) -> str:
    name = "?"
    for o, n in _HMAP_FIELDS:
        if off >= o:
            name = n
    return name if off < HMAP_SIZE else "past the 48-byte header"


def _read_word(target: Target, addr: int) -> Optional[int]:
    try:
        return int.from_bytes(target.read_memory(addr, 8), "little")
    except MemoryReadError:
        return None


def _slice_items(target: Target, slice_ptr: int) -> list:
    """The *bmap entries of a mapextra overflow slice (*[]*bmap), or [] when unreadable."""
    if not slice_ptr:
        return []
    try:
        arr, ln, cap = struct.unpack("<Qqq", target.read_memory(slice_ptr, 24))
        if not arr or ln <= 0 or ln > cap or ln > (1 << 24):
            return []
        return [w for (w,) in struct.iter_unpack("<Q", target.read_memory(arr, ln * 8))]
    except MemoryReadError:
        return []


def _references(st: HeapView, r: HeapRecord) -> list:
    """Fields of the owning map that still point at (into) this allocation."""
    h = st.hmaps.get(r.owner)
    if h is None or r.role == 1:
        return []
    refs = []
    if h.buckets == r.addr:
        refs.append(f"hmap.buckets of {h.addr:#x}")
    if h.oldbuckets == r.addr:
        refs.append(f"hmap.oldbuckets of {h.addr:#x}")
    if h.extra and r.role in (2, 3):
        try:
            ovf, oldovf, nextovf = struct.unpack("<QQQ", st.target.read_memory(h.extra, 24))
        except MemoryReadError:
            return refs
        if r.addr <= nextovf < r.end:
            refs.append(f"mapextra.nextOverflow of {h.addr:#x}")
        if r.role == 3:
            for name, sp in (("overflow", ovf), ("oldoverflow", oldovf)):
                items = _slice_items(st.target, sp)
                if r.addr in items:
                    refs.append(f"mapextra.{name}[{items.index(r.addr)}] of {h.addr:#x}")
    return refs


# The engine's list of active iterators (engine/src/iter.cpp links each hiter
# from mapiterinit until the iteration ends): `extern "C" hiter*
# gomap_active_iterators`, once the engine exports it. Offsets are runtime.h's
# hiter: Go's fields, then the engine's next_active right after checkBucket.
ACTIVE_ITERATORS = "gomap_active_iterators"
HITER_BUCKETS, HITER_BPTR, HITER_NEXT_ACTIVE = 32, 40, 96
# A bound on the walk: a corrupted or cyclic list must still end.
MAX_ITERATORS = 4096


def active_iterators(target: Target) -> Optional[list]:
    """(hiter address, buckets, bptr) of every active iterator, or None when
    the program does not export the list (an engine without it, a Go program).
    Stops at a repeated node, an unreadable one, or MAX_ITERATORS."""
    head_sym = target.symbol_address(ACTIVE_ITERATORS)
    if head_sym is None:
        return None
    out, seen = [], set()
    it = _read_word(target, head_sym)
    while it and it not in seen and len(out) < MAX_ITERATORS:
        seen.add(it)
        try:
            raw = target.read_memory(it + HITER_BUCKETS, HITER_NEXT_ACTIVE + 8 - HITER_BUCKETS)
        except MemoryReadError:
            break
        word = lambda off: int.from_bytes(raw[off - HITER_BUCKETS:off - HITER_BUCKETS + 8], "little")
        out.append((it, word(HITER_BUCKETS), word(HITER_BPTR)))
        it = word(HITER_NEXT_ACTIVE)
    return out


def _iterator_references(target: Target, r: HeapRecord) -> Optional[list]:
    """`iterator at 0x… (hiter.buckets)` for each active iterator whose buckets
    or current bucket lies in this allocation; None when the list is not exported."""
    iters = active_iterators(target)
    if iters is None:
        return None
    refs = []
    for it, buckets, bptr in iters:
        fields = [n for n, v in (("hiter.buckets", buckets), ("hiter.bptr", bptr))
                  if v and r.addr <= v < r.end]
        if fields:
            refs.append(f"iterator at {it:#x} ({' / '.join(fields)})")
    return refs


def _locate_in_bucket(off: int, g) -> tuple:
    """(field, slot) for a byte offset inside one bucket."""
    if off < DATA_OFFSET:
        return "tophash", off
    if off >= g.overflow_off:
        return "overflow", None
    if g.keysize and off < g.elems_off:
        return "key", (off - g.keys_off) // g.keysize
    if g.elemsize and off < g.elems_off + BUCKET_CNT * g.elemsize:
        return "elem", (off - g.elems_off) // g.elemsize
    return "padding", None


def block(st: HeapView, addr: int, geometry=None) -> tuple:
    """(text, data) describing the allocation that contains `addr`. `geometry`
    (a BucketGeometry or MapLayout of the owning map) makes bucket and slot exact;
    without it the bucket size is inferred from the record's size."""
    hits = [r for r in st.reg.records if r.addr <= addr < r.end]
    if not hits:
        forgot = (f"; or freed long ago: {st.reg.forgotten} old freed allocations are "
                  "forgotten" if st.reg.forgotten else "")
        raise GomapError(f"{addr:#x} is in no allocation the heap registry knows "
                         f"(not map memory of the gomap engine{forgot})")
    # Freed memory may be handed out again after quarantine: the newest record wins,
    # older ones are history.
    hits.sort(key=lambda r: (r.state == FREED, -r.alloc_seq))
    r, earlier = hits[0], hits[1:]
    h = st.hmaps.get(r.owner)
    d: dict = {"addr": addr, "record": r.to_json(), "map": r.owner, "role": r.role_name,
               "state": r.state_name, "offset": addr - r.addr, "array": None, "bucket": None,
               "bucket_kind": None, "field": None, "slot": None, "bucket_size": None,
               "bucket_size_source": None, "evacuated": None}
    where = f"{r.role_name} of map {r.owner:#x}"
    if r.role == 1:
        d["field"] = _hmap_field(addr - r.addr)
        where = f"hmap {r.addr:#x}, field {d['field']}"
    elif r.role in (2, 3):
        _place_in_bucket(st, r, addr, h, geometry, d)
        where = _bucket_words(r, d)
    lines = [f"{addr:#x}: {where}",
             f"  allocation {r.addr:#x}..{r.end:#x} ({r.size} bytes, +{addr - r.addr}), "
             f"{r.state_name.upper() if r.state != UNREACHABLE else 'GARBAGE (unreachable)'}",
             "  " + _lifetime(r)]
    word = _read_word(st.target, addr & ~7)
    d["poisoned"] = None if word is None else word == POISON
    if word is not None:
        if d["poisoned"]:
            lines.append(f"  memory is poisoned ({POISON:#x})")
        elif r.state == FREED and r.reused:
            lines.append(f"  freed, and its memory given back for reuse (word {word:#x})")
        elif r.state == FREED:
            lines.append(f"  freed and still quarantined, but NOT poisoned (word {word:#x}): "
                         "written after it was freed")
        else:
            lines.append("  not poisoned")
    refs = _references(st, r)
    d["references"] = refs
    # A pointer from a map that is itself garbage dangles nowhere the program can reach.
    owner_live = st.hmap_state.get(r.owner, LIVE) == LIVE
    d["dangling"] = bool(refs) and r.state != LIVE and owner_live
    if refs:
        lines.append(("  DANGLING: " if d["dangling"] else "  referenced by ") + ", ".join(refs)
                     + ("" if owner_live else " (that hmap is itself unreachable)"))
    elif r.role != 1:
        lines.append("  no pointer of its map refers to it"
                     + ("" if h is not None else " (owner hmap not readable or freed)"))
    iter_refs = _iterator_references(st.target, r) if r.role in (2, 3) else None
    d["iterators"] = iter_refs  # None: the program does not export its iterators
    for ref in iter_refs or ():
        lines.append(("  DANGLING: " if r.state == FREED else "  ") + f"{ref} still refers to it")
    d["earlier"] = [e.to_json() for e in earlier]
    for e in earlier:
        lines.append(f"  earlier here: {e.role_name} of map {e.owner:#x}, {_lifetime(e)}")
    return "\n".join(lines), d


def _lifetime(r: HeapRecord) -> str:
    s = f"allocated at seq {r.alloc_seq}"
    if r.dead_seq:
        s += f", unreachable at seq {r.dead_seq}"
    if r.free_seq:
        s += f", freed at seq {r.free_seq}"
    return s


def owner_bucket_sizes(st: HeapView, r: HeapRecord) -> list:
    """Bucket sizes consistent with every allocation of r's map: each of its bucket
    arrays (a grow keeps the bucket size, so earlier and later arrays narrow it) and
    its overflow buckets. The hmap cannot settle the rest: like Go's, it does not
    record its maptype (every map call is handed the type instead)."""
    mine = [o for o in st.reg.records if o.owner == r.owner]
    ovf = {o.size for o in mine if o.role == 3}
    sizes = bucket_size_candidates(r, ovf)
    for o in mine:
        if o.role == 2 and o is not r and len(sizes) > 1:
            narrowed = [bs for bs in sizes if bs in bucket_size_candidates(o, ovf)]
            sizes = narrowed or sizes    # a record that fits none is not evidence
    return sizes


def _coarse_part(off: int, bs: int) -> tuple:
    """(field, slot) that a bucket of bs bytes gives offset off without its type."""
    if off >= bs:
        return "slack", None
    if off < DATA_OFFSET:
        return "tophash", off
    if off >= bs - 8:
        return "overflow", None
    return "keys/elems", None


def _place_in_bucket(st: HeapView, r: HeapRecord, addr: int, h: Optional[Hmap], g,
                     d: dict) -> None:
    if r.role == 2:
        if h is not None and h.oldbuckets == r.addr:
            d["array"] = "old"
        elif h is not None and h.buckets == r.addr:
            d["array"] = "new" if h.growing else "current"
        else:
            d["array"] = "former"
    off = addr - r.addr
    if g is not None:
        sizes, d["bucket_size_source"] = [g.bucketsize], "type"
    elif r.role == 2:
        sizes = owner_bucket_sizes(st, r)
        d["bucket_size_source"] = "registry" if len(sizes) == 1 else "ambiguous"
    else:
        sizes, d["bucket_size_source"] = [], None
    if r.role == 3:
        d["bucket"], d["bucket_kind"] = None, "overflow"
        d["bucket_offset"] = off
        if g is not None:
            d["bucket_size"] = g.bucketsize
            d["field"], d["slot"] = _locate_in_bucket(off, g)
        return
    if not sizes:
        return
    idxs = {off // bs for bs in sizes}
    d["bucket_sizes"] = sizes
    if len(idxs) != 1:
        return
    bs = sizes[0] if len(sizes) == 1 else None
    d["bucket_size"] = bs
    idx = idxs.pop()
    d["bucket"] = idx
    if idx < r.nbuckets:
        d["bucket_kind"] = "bucket"
    elif bs is not None and idx < array_bucket_count(r, bs):
        d["bucket_kind"] = "preallocated overflow"
    elif bs is not None:
        d["bucket_kind"] = "slack"   # size-class rounding past the last bucket
    if g is None and d["bucket_kind"] in ("bucket", "preallocated overflow"):
        # Without the type, the sizes still left may agree on the part of the bucket:
        # tophash lies first and the overflow pointer last, whatever the key and elem
        # sizes; only the split between keys and elems needs the type.
        parts = {_coarse_part(off - idx * b, b) for b in sizes}
        if len(parts) == 1 and next(iter(parts))[0] != "slack":
            d["field"], d["slot"] = parts.pop()
    if bs is None:
        return
    d["bucket_offset"] = off - idx * bs
    if g is not None and d["bucket_kind"] != "slack":
        d["field"], d["slot"] = _locate_in_bucket(off - idx * bs, g)
    if d["array"] == "old" and d["bucket_kind"] == "bucket" and r.state == LIVE:
        # Buckets below nevacuate are evacuated; later ones may be too (growWork
        # evacuates the bucket being written first): tophash[0] tells.
        try:
            top = st.target.read_memory(r.addr + idx * bs, 1)[0]
        except MemoryReadError:
            top = None
        d["evacuated"] = idx < h.nevacuate or (top is not None and EMPTY_ONE < top < MIN_TOP_HASH)


def _bucket_words(r: HeapRecord, d: dict) -> str:
    if r.role == 3:
        s = f"overflow bucket {r.addr:#x} of map {r.owner:#x} (B={r.B} when allocated)"
    else:
        arr = {"old": "OLD array", "new": "NEW array", "current": "bucket array",
               "former": "former bucket array"}[d["array"]]
        s = f"{arr} {r.addr:#x} of map {r.owner:#x}, B={r.B} ({r.nbuckets} buckets)"
        if d["bucket"] is None:
            sizes = d.get("bucket_sizes") or []
            s += (", bucket unknown: bucket size could be " + "/".join(map(str, sizes))
                  + " (neither the registry nor the hmap records the map's type;"
                  + " give it with --map EXPR)") if sizes else ", bucket size unknown"
        else:
            kind = d["bucket_kind"] or "bucket"
            s += f", {kind} {d['bucket']}"
            if d["bucket_size"] is None:
                s += (" (bucket size " + " or ".join(map(str, d.get("bucket_sizes") or []))
                      + ": neither the registry nor the hmap records the map's type;"
                      + " give it with --map EXPR)")
            if d["evacuated"] is not None:
                s += " (evacuated)" if d["evacuated"] else " (not yet evacuated)"
    if d["field"] == "keys/elems":
        s += ", in the keys/elems area" + (
            f" +{d['bucket_offset']} in the bucket" if d.get("bucket_offset") is not None else "")
        s += " (key or elem, and which slot, need the map's type: --map EXPR)"
    elif d["field"] is not None:
        s += f", {d['field']}" + (f"[{d['slot']}]" if d["slot"] is not None else "")
    elif d.get("bucket_offset") is not None:
        s += f", +{d['bucket_offset']} in the bucket (slot needs the map's type: --map EXPR)"
    return s
