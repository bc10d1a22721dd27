#!/usr/bin/env python3
"""How fast gomapcore reads and explains a large heap registry, without a debugger.

    python3 bench/heap_bench.py [--records N] [--maps M] [--reps R]

Builds a registry image of N records (M maps, each with grows, overflow buckets,
garbage and freed arrays) in memory, then times read_registry (header read,
one bulk records read, parse, validation) and each view over it. The peer is a
bare struct.iter_unpack of the same bytes in the same run: the floor any Python
parser of this layout can reach, so the ratio says what validation and record
objects cost. A debugger adds its own memory-read time on top (measured by the
integration tests in gdb and lldb).
"""
from __future__ import annotations

import argparse
import os
import struct
import sys
import time

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))

from gomapcore import heapblock, heaptimeline, heapview  # noqa: E402
from gomapcore.target import MemoryReadError, Target  # noqa: E402

LIVE, UNREACHABLE, FREED = 0, 1, 2
REG, RECS, HMAPS = 0x1000, 0x10_0000_0000, 0x20_0000_0000


class BufferTarget(Target):
    """Memory as a few (base, bytes) pieces: enough for the registry and hmaps."""
    name = "bench"

    def __init__(self, pieces):
        self.pieces = pieces

    def read_memory(self, addr, size):
        for base, data in self.pieces:
            if base <= addr and addr + size <= base + len(data):
                return data[addr - base:addr - base + size]
        raise MemoryReadError(addr, size)

    def symbol_address(self, name):
        return REG if name == "gomap_heap_registry" else None

    def is_running(self):
        return True


def build(n_records: int, n_maps: int) -> BufferTarget:
    """Per map: an hmap, then bucket arrays B = 0, 1, ... each followed by three
    overflow buckets. Arrays before the last two are freed; the second last is
    the OLD array of a grow in progress for even maps, garbage for odd ones."""
    rec = struct.Struct("<7Q4B4x")
    out, seq, heap = bytearray(), 0, 0x30_0000_0000
    hmaps = bytearray(48 * n_maps)
    per_map = max(5, n_records // n_maps)
    totals = [0, 0, 0]
    for m in range(n_maps):
        h = HMAPS + 48 * m
        seq += 1
        out += rec.pack(h, 48, h, seq, 0, 0, 0, 1, LIVE, 0, 0)
        totals[0] += 48
        narrays = (per_map + 2) // 4   # at least n_records in all
        arrays = []
        for i in range(narrays):
            B = i % 13
            size = heapview.roundupsize(144 << B)
            group = [(heap, size, 2, 1 << B, B)]
            heap += size + 64
            for _ in range(3):
                group.append((heap, 144, 3, 0, B))
                heap += 208
            arrays.append(group)
        old = narrays - 2
        for i, group in enumerate(arrays):
            if i < old or (i == old and m % 2):
                state = FREED if i < old else UNREACHABLE
            else:
                state = LIVE
            for addr, size, role, nb, B in group:
                seq += 1
                aseq = seq
                dead = free = 0
                if state != LIVE:
                    seq += 1
                    dead = seq
                if state == FREED:
                    seq += 1
                    free = seq
                totals[state] += size
                out += rec.pack(addr, size, h, aseq, dead, free, nb, role, state, B, 0)
        cur = arrays[-1][0]
        oldb = arrays[old][0][0] if old >= 0 and m % 2 == 0 else 0
        hmaps[48 * m:48 * m + 48] = struct.pack("<qBBHIQQQQ", 100, 0, cur[4], 0, 0, cur[0],
                                                oldb, 0, 0)
    count = len(out) // 64
    hdr = struct.pack("<8sIIQQQQQQQQQQ", b"GOMAPHR1", 2, 64, RECS, count, count, seq, 1,
                      *totals, 0, 0)
    return BufferTarget([(REG, bytes(hdr)), (RECS, bytes(out)), (HMAPS, bytes(hmaps))])


def timed(fn, reps):
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--maps", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    t = build(a.records, a.maps)
    raw = t.pieces[1][1]
    n = len(raw) // 64
    peer, _ = timed(lambda: list(struct.iter_unpack("<7Q3B5x", raw)), a.reps)
    ours, reg = timed(lambda: heapview.read_registry(t), a.reps)
    state, st = timed(lambda: heapview.HeapView(t, reg), a.reps)
    rows = [("read_registry (read + parse + validate)", ours),
            ("peer: bare struct.iter_unpack", peer),
            ("HeapView (owner hmaps, OLD index)", state)]
    for name, fn in (("inuse --by map", lambda: heapview.inuse(st)),
                     ("inuse --by role", lambda: heapview.inuse(st, by="role")),
                     ("allocs", lambda: heapview.allocs(st)),
                     ("block (last record)", lambda: heapblock.block(st, reg.records[-1].addr)),
                     ("timeline (text)", lambda: heaptimeline.timeline(st))):
        rows.append((name, timed(fn, a.reps)[0]))
    print(f"heap registry: {n} records, {a.maps} maps (best of {a.reps})")
    for name, secs in rows:
        print(f"  {name:<42} {secs * 1000:8.1f} ms")
    print(f"  parse rate: {n / ours / 1e6:.2f} M records/s; "
          f"read_registry / bare iter_unpack = {ours / peer:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
