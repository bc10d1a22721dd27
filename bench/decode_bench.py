"""Decode speed of gomapcore on a synthetic 1M-entry map (no debugger).

Builds map[int64]int64 and map[string]int64 images with B = 18 (262144 buckets,
about 4 entries each, like a map that just grew) in a fake Target, then times
`gomap print --json` (every entry) and the default Delve line. Reports reads and
seconds; the peer is a plain Python loop that only unpacks the same int64 keys.
Real-debugger figures (gdb 13, lldb-16 on the grow sample) are in
bench/RESULTS-plugins.md with the commands that produced them.

    python3 bench/decode_bench.py [--entries N]
"""
from __future__ import annotations

import argparse
import os
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "core"))

from fakes import I64, STRING, FakeTarget, MapImage  # noqa: E402
from gomapcore.commands import dispatch  # noqa: E402


def build(n: int, strings: bool):
    t = FakeTarget()
    m = MapImage(t, STRING if strings else I64, I64)
    B = max(0, (n // 4 - 1).bit_length())
    nb = 1 << B
    arr = m.array(nb)
    heap = t.regions[0x10000]
    base = 0x10000
    bs, ko, eo = m.bs, m.ko, m.eo
    strbase = t.alloc(n * 12, 1) if strings else 0
    sp = strbase
    for i in range(n):
        b = arr + (i % nb) * bs - base
        s = i // nb
        heap[b + s] = 0x80 | (i & 0x7F)
        if strings:
            k = b"key%09d" % i
            heap[sp - base:sp - base + len(k)] = k
            struct.pack_into("<Qq", heap, b + ko + s * 16, sp, len(k))
            sp += len(k)
        else:
            struct.pack_into("<q", heap, b + ko + s * 8, i)
        struct.pack_into("<q", heap, b + eo + s * 8, i * 2)
    m.header(n, B, arr)
    m.bind("m")
    return t, arr, nb, m


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=1_000_000)
    a = ap.parse_args()
    for strings in (False, True):
        kind = "map[string]int64" if strings else "map[int64]int64"
        t0 = time.perf_counter()
        t, arr, nb, m = build(a.entries, strings)
        t1 = time.perf_counter()
        t.reads = 0
        out = dispatch(t, "print", "--json m")
        t2 = time.perf_counter()
        reads = t.reads
        line = dispatch(t, "print", "m")
        t3 = time.perf_counter()
        assert out.count("],") >= a.entries - 1, "entries missing"
        # peer: unpack every key and value of the same array in a bare loop
        data = t.read_memory(arr, nb * m.bs)
        t4 = time.perf_counter()
        n = 0
        for b in range(nb):
            o = b * m.bs
            for s in range(8):
                if data[o + s] >= 5:
                    struct.unpack_from("<q", data, o + m.ko + s * m.ks)
                    struct.unpack_from("<q", data, o + m.eo + s * 8)
                    n += 1
        t5 = time.perf_counter()
        print(f"{kind}: {a.entries} entries, build {t1 - t0:.2f}s; print --json (all) "
              f"{t2 - t1:.2f}s in {reads} reads; default line {t3 - t2:.2f}s "
              f"({len(line)} chars); bare unpack loop {t5 - t4:.2f}s "
              f"(ratio {(t2 - t1) / max(t5 - t4, 1e-9):.1f}x)")


if __name__ == "__main__":
    main()
