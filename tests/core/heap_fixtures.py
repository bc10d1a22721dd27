"""Registry images for the heap view tests, packed from heap.h's documented layout.

The packing here writes each field at the offset heap.h's static_asserts pin,
byte by byte with int.to_bytes, and shares no code with gomapcore/heapview.py:
a layout mistake in the parser cannot be mirrored by the test.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from fakes import FakeTarget

REGISTRY_ADDR = 0x600000
RECORDS_ADDR = 0x700000

ROLE = {"hmap": 1, "buckets": 2, "overflow": 3, "indirect_key": 4, "indirect_elem": 5,
        "mapextra": 6}
STATE = {"live": 0, "unreachable": 1, "freed": 2}
POISON_WORD = (0xDEADBEEFDEADBEEF).to_bytes(8, "little")


def _put(buf: bytearray, off: int, value: int, size: int) -> None:
    buf[off:off + size] = value.to_bytes(size, "little")


def pack_record(addr, size, owner, alloc_seq, role, state="live", B=0, nbuckets=0,
                dead_seq=0, free_seq=0, flags=0) -> bytes:
    b = bytearray(64)
    for off, v in ((0, addr), (8, size), (16, owner), (24, alloc_seq), (32, dead_seq),
                   (40, free_seq), (48, nbuckets)):
        _put(b, off, v, 8)
    b[56] = ROLE[role] if isinstance(role, str) else role
    b[57] = STATE[state] if isinstance(state, str) else state
    b[58] = B
    b[59] = flags
    b[60:64] = b"\x55" * 4   # reserved bytes: the parser must ignore them
    return bytes(b)


def pack_registry(records_addr, count, capacity, seq=0, gc_cycles=0, live=0, unreachable=0,
                  freed=0, magic=b"GOMAPHR1", version=2, record_size=64, forgotten=0,
                  forgotten_bytes=0) -> bytes:
    b = bytearray(96)
    b[0:8] = magic
    _put(b, 8, version, 4)
    _put(b, 12, record_size, 4)
    for off, v in ((16, records_addr), (24, count), (32, capacity), (40, seq),
                   (48, gc_cycles), (56, live), (64, unreachable), (72, freed),
                   (80, forgotten), (88, forgotten_bytes)):
        _put(b, off, v, 8)
    return bytes(b)


def pack_hmap(count=0, flags=0, B=0, noverflow=0, hash0=0, buckets=0, oldbuckets=0,
              nevacuate=0, extra=0) -> bytes:
    b = bytearray(48)
    _put(b, 0, count, 8)
    b[8], b[9] = flags, B
    _put(b, 10, noverflow, 2)
    _put(b, 12, hash0, 4)
    for off, v in ((16, buckets), (24, oldbuckets), (32, nevacuate), (40, extra)):
        _put(b, off, v, 8)
    return bytes(b)


class HeapTarget(FakeTarget):
    """fakes.FakeTarget plus the registry symbol, logging (addr, size) of every read
    so tests can assert that the registry is read in bulk."""

    def __init__(self):
        super().__init__()
        self.symbols: dict = {}
        self.read_log: list = []

    def read_memory(self, addr: int, size: int) -> bytes:
        self.read_log.append((addr, size))
        return super().read_memory(addr, size)

    def symbol_address(self, name: str) -> Optional[int]:
        return self.symbols.get(name)


@dataclass
class Scene:
    """A registry being built: records in allocation order, memory for each."""
    records: list = field(default_factory=list)   # kwargs of pack_record
    memory: dict = field(default_factory=dict)    # addr -> bytes
    seq: int = 0
    gc_cycles: int = 0

    def alloc(self, addr, size, owner, role, B=0, nbuckets=0, state="live", dead_seq=0,
              free_seq=0, alloc_seq=None, fill: Optional[bytes] = None, flags=0) -> dict:
        if alloc_seq is None:
            self.seq += 1
            alloc_seq = self.seq
        rec = dict(addr=addr, size=size, owner=owner, alloc_seq=alloc_seq, role=role,
                   state=state, B=B, nbuckets=nbuckets, dead_seq=dead_seq, free_seq=free_seq,
                   flags=flags)
        self.records.append(rec)
        self.seq = max(self.seq, alloc_seq, dead_seq, free_seq)
        if state == "freed":
            self.memory[addr] = POISON_WORD * (size // 8)
        elif addr not in self.memory:
            self.memory[addr] = fill if fill is not None else bytes(size)
        return rec

    def target(self, **header) -> HeapTarget:
        t = HeapTarget()
        # Touching pieces become one region, so a coalesced read across them works
        # as it would in a process.
        for a, data in sorted(self.memory.items()):
            last = max(t.regions, default=None)
            if last is not None and last + len(t.regions[last]) == a:
                t.regions[last] += data
            else:
                t.regions[a] = bytearray(data)
        blob = b"".join(pack_record(**r) for r in self.records)
        t.regions[RECORDS_ADDR] = bytearray(blob + bytes(64 * 4))
        totals = {s: sum(r["size"] for r in self.records if r["state"] == s) for s in STATE}
        hdr = dict(records_addr=RECORDS_ADDR, count=len(self.records),
                   capacity=len(self.records) + 4, seq=self.seq, gc_cycles=self.gc_cycles,
                   live=totals["live"], unreachable=totals["unreachable"],
                   freed=totals["freed"])
        hdr.update(header)
        t.regions[REGISTRY_ADDR] = bytearray(pack_registry(**hdr))
        t.symbols["gomap_heap_registry"] = REGISTRY_ADDR
        return t


# map[int64]int64: 144-byte buckets (abi.h bucketSize(8, 8)).
BS = 144
MAP_A, MAP_B, MAP_C = 0x10000, 0x10030, 0x10060   # adjacent: one coalesced read
A_OLD, A_NEW, A_OVF_OLD, A_OVF_NEW = 0x20000, 0x21000, 0x22000, 0x22100
B_FORMER, B_CUR = 0x31000, 0x32000
C_ARR = 0x41000


def grow_scene(b_oldbuckets: int = 0) -> Scene:
    """Three maps:
    A: mid-grow from B=0 to B=1: A_OLD (and its overflow A_OVF_OLD) are OLD.
    B: grew B=1 -> 2 and finished; the former array was collected (freed, poisoned).
       b_oldbuckets lets a test leave a dangling hmap.oldbuckets behind.
    C: dropped by the program: hmap and array unreachable, not yet collected.
    """
    s = Scene()
    s.alloc(MAP_A, 48, MAP_A, "hmap")                                   # seq 1
    s.alloc(A_OLD, BS, MAP_A, "buckets", B=0, nbuckets=1)               # 2
    s.alloc(A_OVF_OLD, BS, MAP_A, "overflow", B=0)                      # 3
    s.alloc(A_NEW, 2 * BS, MAP_A, "buckets", B=1, nbuckets=2)           # 4
    s.alloc(A_OVF_NEW, BS, MAP_A, "overflow", B=1)                      # 5
    s.memory[MAP_A] = pack_hmap(count=10, B=1, buckets=A_NEW, oldbuckets=A_OLD, nevacuate=0)
    s.alloc(MAP_B, 48, MAP_B, "hmap")                                   # 6
    s.alloc(B_FORMER, 2 * BS, MAP_B, "buckets", B=1, nbuckets=2, state="freed",
            dead_seq=9, free_seq=10, alloc_seq=7)
    s.alloc(B_CUR, 4 * BS, MAP_B, "buckets", B=2, nbuckets=4, alloc_seq=8)
    s.memory[MAP_B] = pack_hmap(count=14, B=2, buckets=B_CUR, oldbuckets=b_oldbuckets,
                                nevacuate=2)
    s.alloc(MAP_C, 48, MAP_C, "hmap", state="unreachable", dead_seq=13, alloc_seq=11)
    s.alloc(C_ARR, BS, MAP_C, "buckets", B=0, nbuckets=1, state="unreachable", dead_seq=13,
            alloc_seq=12)
    s.memory[MAP_C] = pack_hmap(count=1, B=0, buckets=C_ARR)
    s.gc_cycles = 1
    return s
