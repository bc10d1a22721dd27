"""The engine's allocation registry: what map memory is live, garbage or freed.

The engine (engine/include/gomap/heap.h) records every allocation it makes for a
map -- hmap, bucket arrays, overflow buckets, indirect keys/elems, mapextra --
as a 64-byte HeapRecord in an array that a debugger finds through the exported
symbol `gomap_heap_registry`. This module reads that array with one bulk read
and answers the questions below, each as text for the terminal and a dict for --json:

  inuse     what the maps hold now (like `go tool pprof -inuse_space`), with the
            old array of an unfinished grow marked OLD and memory the maps have
            dropped but the collector has not yet freed marked GARBAGE;
  allocs    everything allocated, freed included, and how it differs from
            inuse (the registry forgets the oldest freed allocations whose memory
            was reused, past its history limit, and counts them);
  block     what one address belongs to (heapblock.py);
  timeline  allocation, death and free over sequence numbers (heaptimeline.py).

The parser depends only on the documented byte layout, never on the engine's
code, so a registry written by a different build (other version, torn by a stop
inside the allocator, overwritten) is detected here and reported in one line.

Why OLD needs the hmap: a record knows its owner and its B, but whether an array
is the map's `oldbuckets` is the map's state, not the allocator's. So the views
read the owning hmaps' 48-byte headers too, batched into few large reads.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Iterable, NamedTuple, Optional

from .sizeclasses import roundupsize
from .snapshot import Hmap
from .target import GomapError, MemoryReadError, Target

REGISTRY_SYMBOL = "gomap_heap_registry"
HEAP_MAGIC = b"GOMAPHR1"
HEAP_VERSION = 2
POISON = 0xDEADBEEFDEADBEEF

# HeapRegistry: magic[8], version u32, record_size u32, then 10 u64 words.
_HEADER = struct.Struct("<8sIIQQQQQQQQQQ")
# HeapRecord: addr size owner alloc_seq dead_seq free_seq nbuckets, role state B flags, 4 reserved.
_RECORD = struct.Struct("<7Q4B4x")
assert _HEADER.size == 96 and _RECORD.size == 64
# HeapRecord.flags: the freed memory was given back to the allocator (may be reused).
REUSED = 1

# A registry larger than this is taken as a corrupted count rather than read:
# 16M records is a 1 GiB read, far past any sample and past what a debugger can
# move in reasonable time.
MAX_RECORDS = 1 << 24

ROLES = {1: "hmap", 2: "buckets", 3: "overflow", 4: "indirect_key", 5: "indirect_elem",
         6: "mapextra"}
ROLE_IDS = {v: k for k, v in ROLES.items()}
LIVE, UNREACHABLE, FREED = 0, 1, 2
STATES = {LIVE: "live", UNREACHABLE: "unreachable", FREED: "freed"}

HMAP_SIZE = 48
_HMAP = struct.Struct("<qBBHIQQQQ")   # count flags B noverflow hash0 buckets oldbuckets nevacuate extra
BUCKET_CNT = 8
DATA_OFFSET = 8
# tophash[0] of an evacuated old bucket lies in (emptyOne, minTopHash).
EMPTY_ONE, MIN_TOP_HASH = 1, 5
SAME_SIZE_GROW = 8

class HeapRecord(NamedTuple):
    addr: int
    size: int
    owner: int
    alloc_seq: int
    dead_seq: int
    free_seq: int
    nbuckets: int
    role: int
    state: int
    B: int
    flags: int = 0

    @property
    def reused(self) -> bool:
        return bool(self.flags & REUSED)

    @property
    def end(self) -> int:
        return self.addr + self.size

    @property
    def role_name(self) -> str:
        return ROLES.get(self.role, f"role{self.role}")

    @property
    def state_name(self) -> str:
        return STATES.get(self.state, f"state{self.state}")

    def to_json(self) -> dict:
        return {"addr": self.addr, "size": self.size, "owner": self.owner,
                "role": self.role_name, "state": self.state_name, "B": self.B,
                "nbuckets": self.nbuckets, "alloc_seq": self.alloc_seq,
                "dead_seq": self.dead_seq, "free_seq": self.free_seq, "reused": self.reused}


@dataclass
class Registry:
    address: int          # of the HeapRegistry header
    version: int
    records_addr: int
    count: int
    capacity: int
    seq: int
    gc_cycles: int
    live_bytes: int
    unreachable_bytes: int
    freed_bytes: int
    forgotten: int        # freed records the engine has dropped from the registry
    forgotten_bytes: int
    records: list

    def totals_note(self) -> Optional[str]:
        """The header keeps running totals; records that disagree mean the program
        stopped inside the allocator (or the registry is damaged)."""
        sums = [0, 0, 0]
        for r in self.records:
            if r.state <= FREED:
                sums[r.state] += r.size
        want = (self.live_bytes, self.unreachable_bytes, self.freed_bytes)
        if tuple(sums) == want:
            return None
        return ("note: registry totals (live %d, unreachable %d, freed %d bytes) disagree with its "
                "records (%d, %d, %d): stopped inside the allocator?" % (*want, *sums))


def _corrupt(addr: int, why: str) -> GomapError:
    return GomapError(f"heap registry at {addr:#x} is corrupted: {why}")


def parse_header(data: bytes, addr: int) -> Registry:
    """Validate and decode the 96-byte HeapRegistry header (records not read)."""
    if len(data) < _HEADER.size:
        raise _corrupt(addr, f"header is {len(data)} bytes, expected {_HEADER.size}")
    (magic, version, rsize, recs, count, cap, seq, gcs, live, unreach,
     freed, forgotten, forgotten_bytes) = _HEADER.unpack_from(data)
    if magic == b"\0" * 8:
        raise GomapError(f"heap registry at {addr:#x} is not initialised yet (magic is zero): "
                         "let the program start the gomap engine first")
    if magic != HEAP_MAGIC:
        raise _corrupt(addr, f"magic {magic!r}, expected {HEAP_MAGIC.decode()!r}")
    if version != HEAP_VERSION:
        raise GomapError(f"heap registry at {addr:#x} has version {version}; this gomapdbg "
                         f"reads version {HEAP_VERSION} (plugin and engine differ)")
    if rsize != _RECORD.size:
        raise _corrupt(addr, f"record_size {rsize}, expected {_RECORD.size}")
    if count > cap:
        raise _corrupt(addr, f"count {count} exceeds capacity {cap}")
    if count > MAX_RECORDS:
        raise _corrupt(addr, f"count {count} exceeds the reader's limit of {MAX_RECORDS}")
    if count and not recs:
        raise _corrupt(addr, f"{count} records but a null records pointer")
    return Registry(addr, version, recs, count, cap, seq, gcs, live, unreach, freed,
                    forgotten, forgotten_bytes, [])


def parse_records(data: bytes, reg_addr: int = 0) -> list:
    """Decode a packed HeapRecord array. struct.iter_unpack keeps 100,000 records
    at a few tens of milliseconds (bench/heap_bench.py)."""
    if len(data) % _RECORD.size:
        raise _corrupt(reg_addr, f"records array of {len(data)} bytes is not a multiple of 64")
    # role and state are bytes 56 and 57 of each record: checked on the raw bytes
    # with two slices before any record object exists.
    roles_seen, states_seen = set(data[56::64]), set(data[57::64])
    records = list(map(HeapRecord._make, _RECORD.iter_unpack(data)))
    if not roles_seen <= ROLES.keys() or not states_seen <= STATES.keys():
        i = next(i for i, r in enumerate(records) if r.role not in ROLES or r.state not in STATES)
        r = records[i]
        raise _corrupt(reg_addr, f"record #{i} at {r.addr:#x} has role {r.role}, state {r.state}")
    return records


def read_registry(target: Target, symbol: str = REGISTRY_SYMBOL) -> Registry:
    """The registry with all its records: one header read, one records read."""
    addr = target.symbol_address(symbol)
    if not addr:
        raise GomapError(f"no heap registry: symbol {symbol} not found (heap lifetimes need a "
                         "program built on the gomap engine; for a Go program use "
                         "`gomap heap inuse --map EXPR`)")
    try:
        reg = parse_header(target.read_memory(addr, _HEADER.size), addr)
    except MemoryReadError as e:
        raise GomapError(f"cannot read the heap registry header at {addr:#x}: {e}") from None
    if reg.count:
        try:
            data = target.read_memory(reg.records_addr, reg.count * _RECORD.size)
        except MemoryReadError as e:
            raise _corrupt(addr, f"cannot read its {reg.count} records at "
                                 f"{reg.records_addr:#x} ({e})") from None
        reg.records = parse_records(data, addr)
    return reg


# --- the maps that own the records ----------------------------------------------

def decode_hmap(addr: int, data: bytes) -> Hmap:
    return Hmap(addr, *_HMAP.unpack_from(data))


# Headers closer than this are read together: one read of a few KiB costs less in
# a debugger than two round trips.
_COALESCE_GAP = 4096
_COALESCE_SPAN = 1 << 16


def read_hmaps(target: Target, addrs: Iterable[int]) -> dict:
    """hmap headers at `addrs`, read in coalesced ranges; unreadable ones are left out."""
    out: dict = {}
    todo = sorted({a for a in addrs if a})
    i = 0
    while i < len(todo):
        j = i
        while (j + 1 < len(todo) and todo[j + 1] - todo[j] <= _COALESCE_GAP
               and todo[j + 1] + HMAP_SIZE - todo[i] <= _COALESCE_SPAN):
            j += 1
        start, group = todo[i], todo[i:j + 1]
        try:
            blob = target.read_memory(start, group[-1] + HMAP_SIZE - start)
            for a in group:
                out[a] = decode_hmap(a, blob[a - start:a - start + HMAP_SIZE])
        except MemoryReadError:
            for a in group:   # one bad page: fall back to single reads
                try:
                    out[a] = decode_hmap(a, target.read_memory(a, HMAP_SIZE))
                except MemoryReadError:
                    pass
        i = j + 1
    return out


class HeapView:
    """The registry plus the live owners' headers, and the classifications built on them."""

    def __init__(self, target: Target, reg: Registry):
        self.target, self.reg = target, reg
        # A freed hmap is poison; an unreachable one still holds the map's last state.
        self.hmap_state = {r.addr: r.state for r in reg.records if r.role == 1}
        dead_hmaps = {a for a, s in self.hmap_state.items() if s == FREED}
        owners = {r.owner for r in reg.records if r.state != FREED} - dead_hmaps
        self.hmaps = read_hmaps(target, owners)
        # The array a map allocated in its most recent grow: overflow buckets
        # allocated before it belong to the old array (hashGrow moves
        # extra.overflow to extra.oldoverflow).
        self.current_array_seq: dict = {}
        for r in reg.records:
            h = self.hmaps.get(r.owner)
            if r.role == 2 and h is not None and r.addr == h.buckets and r.state == LIVE:
                self.current_array_seq[r.owner] = max(r.alloc_seq,
                                                      self.current_array_seq.get(r.owner, 0))

    def is_old(self, r: HeapRecord) -> bool:
        """Memory of the old array of an unfinished grow (the array or its overflow)."""
        if r.state != LIVE:
            return False
        h = self.hmaps.get(r.owner)
        if h is None or not h.oldbuckets:
            return False
        if r.role == 2:
            return r.addr == h.oldbuckets
        if r.role == 3:
            return r.alloc_seq < self.current_array_seq.get(r.owner, 0)
        return False


def load(target: Target) -> HeapView:
    return HeapView(target, read_registry(target))


# --- inuse / allocs ---------------------------------------------------------------

BY_CHOICES = ("map", "role", "B")


def _group_key(r: HeapRecord, by: str):
    if by == "map":
        return r.owner
    if by == "role":
        return r.role_name
    return r.B


def _key_label(key, by: str, st: HeapView) -> str:
    if by == "map":
        h = st.hmaps.get(key)
        if h is None:
            return f"map {key:#x}"
        grow = (" same-size grow" if h.flags & SAME_SIZE_GROW else " growing") if h.growing else ""
        return f"map {key:#x} len={h.count} B={h.B}{grow}"
    if by == "B":
        return f"B={key}"
    return str(key)


def _json_key(key, by: str):
    return f"{key:#x}" if by == "map" else key


# HeapRecord fields by position: in _group's loop r[i] costs less than r.name.
_SIZE, _OWNER, _ROLE, _STATE, _B = (HeapRecord._fields.index(f)
                                    for f in ("size", "owner", "role", "state", "B"))


def _group(records: Iterable[HeapRecord], by: str, st: HeapView) -> list:
    # Hot with 100k records: tally on the raw ints (group key, role) and name
    # the roles once per group afterwards. Only a live bucket array or overflow
    # bucket can be OLD (see HeapView.is_old), so only those ask.
    # The tally key is raw << 8 | role (a role is one byte in the record):
    # one int hashes faster than a tuple.
    tally: dict = {}   # raw key << 8 | role -> [count, bytes, old_count, old_bytes]
    is_old = st.is_old
    field = {"map": _OWNER, "role": _ROLE}.get(by, _B)
    for r in records:
        role = r[_ROLE]
        k = r[field] << 8 | role
        t = tally.get(k)
        if t is None:
            t = tally[k] = [0, 0, 0, 0]
        t[0] += 1
        t[1] += r[_SIZE]
        if (role == 2 or role == 3) and r[_STATE] == LIVE and is_old(r):
            t[2] += 1
            t[3] += r[_SIZE]
    rows: dict = {}
    for k, (count, size, old_count, old_size) in tally.items():
        raw, role = k >> 8, k & 0xFF
        name = ROLES.get(role, f"role{role}")
        key = name if by == "role" else raw
        row = rows.get(key)
        if row is None:
            row = rows[key] = {"key": key, "bytes": 0, "count": 0, "old_bytes": 0,
                               "old_count": 0, "roles": {}}
        row["bytes"] += size
        row["count"] += count
        row["old_bytes"] += old_size
        row["old_count"] += old_count
        named = row["roles"].setdefault(name, {"count": 0, "bytes": 0})
        named["count"] += count
        named["bytes"] += size
    return sorted(rows.values(), key=lambda x: (-x["bytes"], str(x["key"])))


def _filter(st: HeapView, map_addr: Optional[int]) -> list:
    if map_addr is None:
        return st.reg.records
    return [r for r in st.reg.records if r.owner == map_addr]


def _rows_text(rows: list, by: str, st: HeapView, total: int) -> list:
    lines = [f"{'bytes':>12} {'%':>6} {'sum%':>6} {'count':>7}  {by}"]
    acc = 0
    for row in rows:
        acc += row["bytes"]
        pct = 100.0 * row["bytes"] / total if total else 0.0
        spct = 100.0 * acc / total if total else 0.0
        parts = ", ".join(f"{n} {v['count']}x/{v['bytes']}" for n, v in sorted(row["roles"].items()))
        old = f"  OLD {row['old_bytes']} bytes in {row['old_count']}" if row["old_count"] else ""
        detail = f"  [{parts}]" if by != "role" else ""
        lines.append(f"{row['bytes']:>12} {pct:>5.1f}% {spct:>5.1f}% {row['count']:>7}  "
                     f"{_key_label(row['key'], by, st)}{old}{detail}")
    return lines


def _rows_json(rows: list, by: str) -> list:
    return [dict(row, key=_json_key(row["key"], by)) for row in rows]


def inuse(st: HeapView, map_addr: Optional[int] = None, by: str = "map") -> tuple:
    """(text, data): live allocations grouped `by`, then the garbage separately."""
    if by not in BY_CHOICES:
        raise GomapError(f"--by must be one of {', '.join(BY_CHOICES)}, not {by!r}")
    recs = _filter(st, map_addr)
    live = [r for r in recs if r.state == LIVE]
    garbage = [r for r in recs if r.state == UNREACHABLE]
    live_rows, garbage_rows = _group(live, by, st), _group(garbage, by, st)
    lb, gb = sum(r.size for r in live), sum(r.size for r in garbage)
    ob = sum(row["old_bytes"] for row in live_rows)
    oc = sum(row["old_count"] for row in live_rows)
    scope = f" of map {map_addr:#x}" if map_addr is not None else ""
    lines = [f"heap in use{scope}: {len(live)} live allocations, {lb} bytes"
             + (f" ({ob} bytes in {oc} OLD: old array of an unfinished grow)" if oc else "")]
    lines += _rows_text(live_rows, by, st, lb)
    lines.append(f"GARBAGE (unreachable, not yet collected): {len(garbage)} allocations, "
                 f"{gb} bytes")
    if garbage_rows:
        lines += _rows_text(garbage_rows, by, st, gb)
    if map_addr is not None and not recs:
        lines.append(f"note: no allocations recorded for {map_addr:#x} "
                     "(not a map allocated by the gomap engine?)")
    note = st.reg.totals_note() if map_addr is None else None
    if note:
        lines.append(note)
    data = {"view": "inuse", "by": by, "map": map_addr, "seq": st.reg.seq,
            "gc_cycles": st.reg.gc_cycles,
            "live": {"count": len(live), "bytes": lb, "old_count": oc, "old_bytes": ob,
                     "groups": _rows_json(live_rows, by)},
            "garbage": {"count": len(garbage), "bytes": gb,
                        "groups": _rows_json(garbage_rows, by)},
            "note": note}
    return "\n".join(lines), data


def _allocs_row_json(row: dict, by: str) -> dict:
    out = {k: v for k, v in row.items() if k != "unreachable"}
    out["key"] = _json_key(row["key"], by)
    out["garbage"] = row["unreachable"]
    return out


def allocs(st: HeapView, map_addr: Optional[int] = None, by: str = "map") -> tuple:
    """(text, data): everything ever allocated, split into live, garbage and freed."""
    if by not in BY_CHOICES:
        raise GomapError(f"--by must be one of {', '.join(BY_CHOICES)}, not {by!r}")
    recs = _filter(st, map_addr)
    # One pass with plain tuple keys: 100,000 records in a fraction of a second.
    acc: dict = {}
    keyf = {"map": lambda r: r.owner, "role": lambda r: r.role_name, "B": lambda r: r.B}[by]
    for r in recs:
        k = (keyf(r), r.state)
        c = acc.get(k)
        if c is None:
            acc[k] = [1, r.size]
        else:
            c[0] += 1
            c[1] += r.size
    rows: dict = {}
    tot = {s: [0, 0] for s in STATES.values()}
    for (k, state), (n, b) in acc.items():
        row = rows.setdefault(k, {"key": k, "count": 0, "bytes": 0,
                                  **{s: {"count": 0, "bytes": 0} for s in STATES.values()}})
        name = STATES[state]
        row["count"] += n
        row["bytes"] += b
        row[name]["count"] += n
        row[name]["bytes"] += b
        tot[name][0] += n
        tot[name][1] += b
    ordered = sorted(rows.values(), key=lambda x: (-x["bytes"], str(x["key"])))
    ab = sum(r.size for r in recs)
    scope = f" of map {map_addr:#x}" if map_addr is not None else ""
    lines = [f"heap allocs{scope}: {len(recs)} allocations, {ab} bytes allocated; "
             f"in use {tot['live'][1]} live + {tot['unreachable'][1]} garbage; "
             f"allocs - inuse = {tot['freed'][1]} bytes freed in {tot['freed'][0]} "
             f"({st.reg.gc_cycles} collections)",
             f"{'alloc bytes':>12} {'count':>7} {'live':>10} {'garbage':>10} {'freed':>10}  {by}"]
    if st.reg.forgotten:
        lines.insert(1, f"  not shown: {st.reg.forgotten} older freed allocations "
                        f"({st.reg.forgotten_bytes} bytes{', all maps' if map_addr is not None else ''}) "
                        "the registry has forgotten (it keeps a bounded history of freed "
                        "memory that was reused)")
    for row in ordered:
        lines.append(f"{row['bytes']:>12} {row['count']:>7} {row['live']['bytes']:>10} "
                     f"{row['unreachable']['bytes']:>10} {row['freed']['bytes']:>10}  "
                     f"{_key_label(row['key'], by, st)}")
    data = {"view": "allocs", "by": by, "map": map_addr, "seq": st.reg.seq,
            "gc_cycles": st.reg.gc_cycles, "count": len(recs), "bytes": ab,
            "live": {"count": tot["live"][0], "bytes": tot["live"][1]},
            "garbage": {"count": tot["unreachable"][0], "bytes": tot["unreachable"][1]},
            "freed": {"count": tot["freed"][0], "bytes": tot["freed"][1]},
            "forgotten": {"count": st.reg.forgotten, "bytes": st.reg.forgotten_bytes},
            "groups": [_allocs_row_json(row, by) for row in ordered]}
    return "\n".join(lines), data


# --- a real Go program: no registry, only what the map reaches now -------------------

def has_registry(target: Target) -> bool:
    return bool(target.symbol_address(REGISTRY_SYMBOL))


def reachable(target: Target, snap) -> tuple:
    """(text, data): the memory a map reaches now, from a gomapcore Snapshot -- for a
    program without the engine's registry (a Go binary), where only the present is
    known: hmap, bucket arrays with their preallocated overflow (as allocated, size
    class included), overflow buckets from the chains and from mapextra's
    overflow/oldoverflow slices (with the slices themselves), and out-of-line keys
    and elems of live slots."""
    from .snapshot import MIN_TOP_HASH as LIVE_TOP   # the snapshot's tophash facts
    h = snap.hmap
    items: list = []   # (role, addr, bytes, old)
    if h is not None:
        lay = snap.layout
        bs = lay.bucketsize
        items.append(("hmap", h.addr, roundupsize(HMAP_SIZE), False))
        arrays = [a for a in (snap.new, snap.old) if a is not None]
        for arr in arrays:
            items.append(("buckets", arr.base, roundupsize(arr.nalloc * bs), arr.which == "old"))
        inside = [(a.base, a.base + a.nalloc * bs) for a in arrays]
        seen_ovf: set = set()
        ind_keys: set = set()
        ind_elems: set = set()
        for arr in arrays:
            for b in arr.buckets:
                for pos, node in enumerate(b.chain):
                    if pos and not any(lo <= node.addr < hi for lo, hi in inside) \
                            and node.addr not in seen_ovf:
                        seen_ovf.add(node.addr)
                        items.append(("overflow", node.addr, roundupsize(bs), arr.which == "old"))
                    for i, top in enumerate(node.tophash):
                        if top < LIVE_TOP:
                            continue
                        base = node.off + lay.keys_off + i * lay.keysize
                        if lay.indirect_key:
                            ind_keys.add(int.from_bytes(node.buf[base:base + 8], "little"))
                        base = node.off + lay.elems_off + i * lay.elemsize
                        if lay.indirect_elem:
                            ind_elems.add(int.from_bytes(node.buf[base:base + 8], "little"))
        for p in sorted(ind_keys - {0}):
            items.append(("indirect_key", p, roundupsize(lay.key_type.size), False))
        for p in sorted(ind_elems - {0}):
            items.append(("indirect_elem", p, roundupsize(lay.elem_type.size), False))
        if h.extra:
            items.append(("mapextra", h.extra, roundupsize(24), False))
            try:
                ovf, oldovf, _ = struct.unpack("<QQQ", target.read_memory(h.extra, 24))
            except MemoryReadError:
                ovf = oldovf = 0
            for sp, old in ((ovf, False), (oldovf, True)):
                if not sp:
                    continue
                try:
                    arr_p, ln, cap = struct.unpack("<Qqq", target.read_memory(sp, 24))
                except MemoryReadError:
                    continue
                items.append(("mapextra", sp, roundupsize(24), old))
                if arr_p and 0 < ln <= cap <= 1 << 24:
                    items.append(("mapextra", arr_p, roundupsize(cap * 8), old))
                    try:
                        ptrs = struct.iter_unpack("<Q", target.read_memory(arr_p, ln * 8))
                    except MemoryReadError:
                        continue
                    for (p,) in ptrs:
                        if p and p not in seen_ovf:
                            seen_ovf.add(p)
                            items.append(("overflow", p, roundupsize(bs), old))
    groups: dict = {}
    for role, _, size, old in items:
        g = groups.setdefault(role, {"key": role, "count": 0, "bytes": 0, "old_count": 0,
                                     "old_bytes": 0})
        g["count"] += 1
        g["bytes"] += size
        if old:
            g["old_count"] += 1
            g["old_bytes"] += size
    rows = sorted(groups.values(), key=lambda g: (-g["bytes"], g["key"]))
    total = sum(g["bytes"] for g in rows)
    note = ("lifetimes (garbage, freed, sequence numbers) need the gomap engine's heap "
            "registry; this is what the map reaches now (string bytes not counted)")
    addr = h.addr if h is not None else 0
    lines = [f"map {addr:#x}{' (nil)' if h is None else ''}: {total} bytes reachable in "
             f"{len(items)} allocations (no heap registry: {note})",
             f"{'bytes':>12} {'%':>6} {'count':>7}  role"]
    for g in rows:
        pct = 100.0 * g["bytes"] / total if total else 0.0
        old = f"  OLD {g['old_bytes']} bytes in {g['old_count']}" if g["old_count"] else ""
        lines.append(f"{g['bytes']:>12} {pct:>5.1f}% {g['count']:>7}  {g['key']}{old}")
    data = {"view": "inuse", "registry": False, "by": "role", "map": addr,
            "live": {"count": len(items), "bytes": total,
                     "old_count": sum(g["old_count"] for g in rows),
                     "old_bytes": sum(g["old_bytes"] for g in rows), "groups": rows},
            "allocations": [{"role": r, "addr": a, "size": s, "old": o} for r, a, s, o in items],
            "note": note}
    return "\n".join(lines), data
