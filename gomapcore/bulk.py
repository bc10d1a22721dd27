"""Few large reads instead of many small ones.

A debugger read costs a round trip (ptrace, or a packet to lldb-server), so reading
a million string headers' bytes one by one would take minutes. BulkReader collects
wanted ranges, sorts them, merges neighbours closer than GAP into spans of at most
MAX_SPAN, and reads each span once; a span that fails is retried range by range so
one bad pointer does not hide its neighbours.
"""
from __future__ import annotations

import bisect
from itertools import repeat
from operator import add, rshift, sub
from typing import Iterable, Optional

from .target import GomapError, Target

GAP = 4096             # merge ranges closer than a page: one read beats two
MAX_SPAN = 64 << 20    # but never more than this at once (gdb and lldb read 64 MiB in ~0.2 s)
MAX_RANGE = 1 << 30    # a single range beyond this is garbage, not a value
PAGE_SHIFT = 12        # fetch_columns groups ranges by the 4 KiB page they touch


class BulkReader:
    def __init__(self, target: Target):
        self.target = target
        self._starts: list[int] = []
        self._spans: list[tuple[int, bytes]] = []  # sorted by start
        self._bad: set[tuple[int, int]] = set()
        self.reads = 0

    def fetch(self, ranges: Iterable[tuple[int, int]]) -> None:
        """Read every (addr, size) not yet cached, in merged spans."""
        if self._spans:
            want = sorted({(a, n) for a, n in ranges if n > 0 and a and n <= MAX_RANGE
                           and self.get(a, n) is None and (a, n) not in self._bad})
        else:
            want = sorted({(a, n) for a, n in ranges if n > 0 and a and n <= MAX_RANGE})
        if not want:
            return
        groups: list[list[tuple[int, int]]] = []
        cur: list[tuple[int, int]] = []
        cs = ce = 0
        for a, n in want:
            e = a + n
            if cur and a - ce <= GAP and (e if e > ce else ce) - cs <= MAX_SPAN:
                cur.append((a, n))
                if e > ce:
                    ce = e
            else:
                if cur:
                    groups.append(cur)
                cur, cs, ce = [(a, n)], a, a + n
        if cur:
            groups.append(cur)
        for g in groups:
            s = g[0][0]
            e = max(a + n for a, n in g)
            try:
                self._add(s, self._read(s, e - s))
            except GomapError:
                if len(g) == 1:
                    self._bad.add(g[0])
                    continue
                for a, n in g:
                    try:
                        self._add(a, self._read(a, n))
                    except GomapError:
                        self._bad.add((a, n))

    def fetch_columns(self, addrs: list[int], sizes: list[int]) -> None:
        """fetch() for a million ranges given as two columns (string headers).

        Sorting a million (addr, size) pairs costs seconds in Python; the set of pages
        they touch is small and built in C. Runs of touched pages (gaps under GAP)
        become spans of at most MAX_SPAN, cut to the lowest start and highest end
        wanted. Ranges on a span that cannot be read go through fetch(), which
        retries them one by one."""
        if not addrs:
            return
        if min(sizes) > 0 and max(sizes) <= MAX_RANGE and min(addrs) > 0:
            starts, lens = addrs, sizes           # the usual case: no filtering loop
        else:
            ok = [(a, n) for a, n in zip(addrs, sizes) if 0 < n <= MAX_RANGE and a]
            if not ok:
                return
            starts, lens = [a for a, _ in ok], [n for _, n in ok]
        ends = list(map(add, starts, lens))
        lo, hi = min(starts), max(ends)
        pages = set(map(rshift, starts, repeat(PAGE_SHIFT)))
        pages.update(map(rshift, map(sub, ends, repeat(1)), repeat(PAGE_SHIFT)))
        if max(lens) > 1 << PAGE_SHIFT:          # long strings: every page they cross
            for a, n in zip(starts, lens):
                if n > 1 << PAGE_SHIFT:
                    pages.update(range((a >> PAGE_SHIFT) + 1, (a + n - 1) >> PAGE_SHIFT))
        gap_pages = max(GAP >> PAGE_SHIFT, 1)
        span_pages = MAX_SPAN >> PAGE_SHIFT
        spans: list[tuple[int, int]] = []     # (first page, last page)
        for pg in sorted(pages):
            if spans and pg - spans[-1][1] <= gap_pages and pg - spans[-1][0] < span_pages:
                spans[-1] = (spans[-1][0], pg)
            else:
                spans.append((pg, pg))
        failed: set[int] = set()
        for p0, p1 in spans:
            s = max(p0 << PAGE_SHIFT, lo)
            e = min((p1 + 1) << PAGE_SHIFT, hi)
            if self.get(s, e - s) is not None:
                continue
            try:
                self._add(s, self._read(s, e - s))
            except GomapError:
                failed.update(range(p0, p1 + 1))
        if failed:
            self.fetch([(a, n) for a, n in zip(starts, lens)
                        if a >> PAGE_SHIFT in failed or (a + n - 1) >> PAGE_SHIFT in failed])

    def index(self) -> tuple[list[int], list[tuple[int, bytes]]]:
        """(starts, spans) sorted by start, for callers that look up many ranges in a loop."""
        return self._starts, self._spans

    def _read(self, addr: int, size: int) -> bytes:
        self.reads += 1
        return self.target.read_memory(addr, size)

    def _add(self, start: int, data: bytes) -> None:
        i = bisect.bisect_left(self._starts, start)
        self._starts.insert(i, start)
        self._spans.insert(i, (start, data))

    def get(self, addr: int, size: int) -> Optional[bytes]:
        """Cached bytes, or None when not fetched (or unreadable)."""
        i = bisect.bisect_right(self._starts, addr) - 1
        if i >= 0:
            s, d = self._spans[i]
            if addr + size <= s + len(d):
                return d[addr - s:addr - s + size]
        # Spans may overlap after retries: look back a little.
        for j in range(i - 1, max(i - 4, -1), -1):
            s, d = self._spans[j]
            if s <= addr and addr + size <= s + len(d):
                return d[addr - s:addr - s + size]
        return None

    def read(self, addr: int, size: int) -> Optional[bytes]:
        """Cached bytes, else one direct read (None when unreadable)."""
        d = self.get(addr, size)
        if d is not None:
            return d
        if (addr, size) in self._bad or not addr or size > MAX_RANGE:
            return None
        self.fetch([(addr, size)])
        return self.get(addr, size)
