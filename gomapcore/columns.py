"""Column decoding: one field of every live cell at once, for big maps.

Decoding cell by cell costs a few Python calls per entry, which is seconds for a
million entries, more than the debugger needs to read the bytes. Here a field (a
key or an elem) of fixed size is read from a whole bucket array with
memoryview.cast and strided slices: slot s of every bucket is one slice, eight
slices interleaved give every cell in bucket order, and itertools.compress keeps
the live ones with a selector made from the tophash bytes. Only the live values
become Python objects, and the text is joined from pre-made pieces.

Cells come in runs of whole bmaps (grow.live_runs), so the order is exactly
live_entries' order: new bucket j or its pending old bucket, each followed by its
overflow chain. Types without a column decoder (structs, arrays, pointers,
indirect slots) fall back to the Codec, cell by cell, in the same order.
"""
from __future__ import annotations

import functools
import json
import struct
import sys
from bisect import bisect_right
from itertools import chain, compress, islice, repeat
from operator import add, getitem, sub
from typing import Optional

from . import grow
from .bulk import BulkReader
from .layout import BUCKET_CNT, MapLayout
from .values import Codec, go_quote

_LIVE = grow._LIVE
_NATIVE_LITTLE = sys.byteorder == "little"
_encode_json_str = json.encoder.encode_basestring_ascii


@functools.lru_cache(maxsize=64)
def _cells_struct(fmt: str, size: int, off: int, stride: int) -> struct.Struct:
    """The eight cells of one bucket: fmt at off, off + stride, ... (padding between)."""
    gap = f"{stride - size}x" if stride > size else ""
    return struct.Struct(f"<{off}x" + (fmt + gap) * (BUCKET_CNT - 1) + fmt)


class Cells:
    """The live cells of some runs, gathered column by column."""

    def __init__(self, layout: MapLayout, runs: list, limit: Optional[int] = None,
                 small: bool = False):
        self.layout = layout
        self.runs = runs
        self._cols: dict = {}
        self._bufs: dict[int, bytes] = {}   # keeps every buf alive while its id is a key
        raw = [self._tophash(buf)[BUCKET_CNT * a:BUCKET_CNT * e] for buf, a, e in runs]
        # every cell's tophash byte in run order (live or not): `buckets --json` writes them all
        self.tophash = raw[0] if len(raw) == 1 else b"".join(raw)
        sel = [r.translate(_LIVE) for r in raw]
        self.selector = sel[0] if len(sel) == 1 else b"".join(sel)
        self.total = self.selector.count(1)
        self.limit = limit
        self.count = self.total if limit is None else min(limit, self.total)
        # A few entries wanted (the default 64, a pretty-printer): keep the runs that
        # hold them and decode those buckets one by one instead of whole arrays.
        # small: a few buckets picked out of big arrays (`buckets m 3`): decode them
        # one by one rather than whole-array columns
        self.small = small
        if limit is not None and limit < self.total:
            self._trim(sel, limit)

    def _trim(self, sel: list[bytes], limit: int) -> None:
        runs, pieces, got = [], [], 0
        for (buf, a, e), piece in zip(self.runs, sel):
            n = piece.count(1)
            if got + n >= limit:
                # cut this run after the bucket holding the limit-th live cell
                k = a
                while got < limit:
                    got += piece[BUCKET_CNT * (k - a):BUCKET_CNT * (k - a + 1)].count(1)
                    k += 1
                runs.append((buf, a, k))
                pieces.append(piece[:BUCKET_CNT * (k - a)])
                break
            got += n
            runs.append((buf, a, e))
            pieces.append(piece)
        self.runs = runs
        self.selector = b"".join(pieces)
        self.small = sum(e - a for _, a, e in runs) <= 4 * limit + 64

    def _nbk(self, buf: bytes) -> int:
        return len(buf) // self.layout.bucketsize

    def _tophash(self, buf: bytes) -> bytes:
        """The 8 tophash bytes of every bucket of buf, back to back."""
        key = (id(buf), "tophash")
        th = self._cols.get(key)
        if th is None:
            self._bufs[id(buf)] = buf
            bs, to = self.layout.bucketsize, self.layout.tophash_off
            n = self._nbk(buf)
            if n == 1:
                th = buf[to:to + BUCKET_CNT]
            elif to % 8 == 0 and bs % 8 == 0 and _NATIVE_LITTLE:
                th = memoryview(buf)[:n * bs].cast("Q")[to // 8::bs // 8].tobytes()
            else:
                th = b"".join(buf[o + to:o + to + BUCKET_CNT] for o in range(0, n * bs, bs))
            self._cols[key] = th
        return th

    def _gather(self, per_buf, per_bucket) -> list:
        """The live cells' values in order; per_buf(buf) gives every cell's value of
        buf, per_bucket(buf, k) the eight of bucket k."""
        pieces = []
        for buf, a, e in self.runs:
            if self.small:
                pieces.extend(per_bucket(buf, k) for k in range(a, e))
                continue
            vals = per_buf(buf)
            pieces.append(vals if a == 0 and BUCKET_CNT * e == len(vals)
                          else vals[BUCKET_CNT * a:BUCKET_CNT * e])
        it = compress(pieces[0] if len(pieces) == 1 else chain.from_iterable(pieces), self.selector)
        return list(it if self.limit is None else islice(it, self.limit))

    def column(self, fmt: str, off: int, stride: int) -> list:
        """Field of struct format `fmt` (one native item) at off + slot * stride."""
        size = struct.calcsize(fmt)
        unpack = _cells_struct(fmt, size, off, stride).unpack_from
        bs = self.layout.bucketsize
        two = 2 * bs

        def per_buf(buf):
            # an overflow bucket read on its own: one unpack of its eight cells
            return unpack(buf, 0) if len(buf) < two else self._column(buf, fmt, off, stride)
        return self._gather(per_buf, lambda buf, k: unpack(buf, k * bs))

    def _column(self, buf: bytes, fmt: str, off: int, stride: int) -> list:
        key = (id(buf), fmt, off, stride)
        vals = self._cols.get(key)
        if vals is not None:
            return vals
        self._bufs[id(buf)] = buf
        size = struct.calcsize(fmt)
        bs = self.layout.bucketsize
        n = self._nbk(buf)
        if n == 1:
            # an overflow bucket read on its own: one unpack of its eight cells
            vals = list(_cells_struct(fmt, size, off, stride).unpack_from(buf, 0))
        elif _NATIVE_LITTLE and bs % size == 0 and off % size == 0 and stride % size == 0:
            vals = [None] * (BUCKET_CNT * n)
            mv = memoryview(buf)[:n * bs].cast(fmt)
            for s in range(BUCKET_CNT):
                vals[s::BUCKET_CNT] = mv[(off + s * stride) // size::bs // size].tolist()
        else:
            vals = [None] * (BUCKET_CNT * n)
            up = struct.Struct("<" + fmt).unpack_from
            for s in range(BUCKET_CNT):
                vals[s::BUCKET_CNT] = [up(buf, o)[0] for o in range(off + s * stride, n * bs, bs)]
        self._cols[key] = vals
        return vals

    def places(self, off: int, stride: int) -> list[tuple[bytes, int]]:
        """(buf, offset) of the field of every live cell, for the Codec fallback."""
        bs = self.layout.bucketsize

        def per_buf(buf):
            key = (id(buf), "places", off, stride)
            vals = self._cols.get(key)
            if vals is None:
                self._bufs[id(buf)] = buf
                n = self._nbk(buf)
                offs = [0] * (BUCKET_CNT * n)
                for s in range(BUCKET_CNT):
                    offs[s::BUCKET_CNT] = range(off + s * stride, n * bs, bs)
                vals = self._cols[key] = [(buf, o) for o in offs]
            return vals

        def per_bucket(buf, k):
            o = k * bs + off
            return [(buf, o + s * stride) for s in range(BUCKET_CNT)]
        return self._gather(per_buf, per_bucket)


# --- the fields of a codec, column-wise ---------------------------------------------

class Field:
    """One side of the entries (keys or elems): raw column values, then text or JSON."""

    def __init__(self, cells: Cells, codec: Codec, off: int, stride: int):
        self.cells, self.codec, self.off, self.stride = cells, codec, off, stride
        self.plan = codec.column
        self.places = None
        self.raw = None
        if self.plan is None:
            self.places = cells.places(off, stride)
        elif self.plan[0] == "string":
            _, fo, lo = self.plan
            self.ptrs = cells.column("Q", off + fo, stride)
            self.lens = cells.column("q", off + lo, stride)
        else:
            self.raw = cells.column(self.plan[1], off, stride)

    def _cut_lens(self) -> list[int]:
        """String lengths cut at the codec's limit: the bytes worth reading."""
        limit = self.codec.string_limit
        if limit is None or not self.lens or max(self.lens) <= limit:
            return self.lens
        return [n if n < limit else limit for n in self.lens]

    def wanted(self) -> tuple[list, list]:
        """String bytes to read: (addresses, sizes)."""
        if self.plan is None or self.plan[0] != "string":
            return [], []
        return self.ptrs, self._cut_lens()

    def _strings(self, reader: BulkReader) -> list:
        """The bytes of every string (None when unreadable), cut at the codec's limit."""
        ptrs, lens = self.ptrs, self._cut_lens()
        starts, spans = reader.index()
        if lens and spans and min(lens) >= 0 and any(lens):
            # Find each string's span and slice it, all in C (map over builtins).
            bases = [sp[0] for sp in spans]
            datas = [sp[1] for sp in spans]
            idx = list(map(sub, map(bisect_right, repeat(starts), ptrs), repeat(1)))
            rel = list(map(sub, ptrs, map(bases.__getitem__, idx)))
            ends = list(map(add, rel, lens))
            # a string of length 0 may point anywhere: only the others must fit
            if min(compress(idx, lens)) >= 0 and min(compress(rel, lens)) >= 0 and \
                    all(map(int.__le__, ends, map(len, map(datas.__getitem__, idx)))):
                return list(map(getitem, map(datas.__getitem__, idx),
                                map(slice, rel, ends)))
        out = []
        app = out.append
        rd = reader.read
        for p, n in zip(ptrs, lens):
            if n <= 0:
                app(b"" if n == 0 else None)
                continue
            i = bisect_right(starts, p) - 1
            if i >= 0:
                s, d = spans[i]
                if p + n <= s + len(d):
                    app(d[p - s:p - s + n])
                    continue
            app(rd(p, n))
        return out

    def texts(self, reader: BulkReader) -> list[str]:
        spec, args = self.spec(reader)
        return args if spec == "%s" else [spec % a for a in args]

    def _string_spec(self, reader: BulkReader, as_json: bool) -> tuple[str, list]:
        datas = self._strings(reader)
        whole = self.lens is self._cut_lens()
        if whole and None not in datas:
            s = b"".join(datas)
            if s.isascii():
                s = s.decode("ascii")
                if s.isprintable() and '"' not in s and "\\" not in s:
                    # Quote and JSON both write these as they are, between quotes.
                    return '"%s"', list(map(bytes.decode, datas))
        if as_json:
            return "%s", [_encode_json_str(v) for v in self._json_strings(datas)]
        out = []
        app = out.append
        for d, n, p in zip(datas, self.lens, self.ptrs):
            if d is None:
                app(f"(unreadable string of length {n} at {p:#x})")
            elif len(d) < n:
                app(go_quote(d + f"...+{n - len(d)} more".encode()))
            else:
                app(go_quote(d))
        return "%s", out

    def _json_strings(self, datas: list) -> list[str]:
        return [f"(unreadable string of length {n} at {p:#x})" if d is None
                else d.decode("utf-8", "replace") for d, n, p in zip(datas, self.lens, self.ptrs)]

    def json_values(self, reader: BulkReader) -> list:
        plan = self.plan
        if plan is None:
            f = self.codec.json
            return [f(b, o, reader) for b, o in self.places]
        kind = plan[0]
        if kind == "int":
            return self.raw
        if kind == "bool":
            return [bool(v) for v in self.raw]
        if kind == "float":
            from .values import _json_float
            return [_json_float(v) for v in self.raw]
        return self._json_strings(self._strings(reader))

    def spec(self, reader: BulkReader, as_json: bool = False) -> tuple[str, list]:
        """(printf spec, arguments) that write every value (as JSON text when as_json):
        "%d" and the raw ints for ints, so one C-level format writes the whole map."""
        plan = self.plan
        kind = plan[0] if plan is not None else None
        if kind == "int":
            return "%d", self.raw
        if kind == "string":
            return self._string_spec(reader, as_json)
        if not as_json:
            if kind == "bool":
                return "%s", ["true" if v else "false" for v in self.raw]
            if kind == "float":
                from .values import go_float
                bits = plan[2]
                return "%s", [go_float(v, bits) for v in self.raw]
            f = self.codec.text
            return "%s", [f(b, o, reader) for b, o in self.places]
        return "%s", [json.dumps(v) for v in self.json_values(reader)]


def join_pairs(pattern: str, keys: tuple[str, list], elems: tuple[str, list], sep: str = "") -> str:
    """pattern with {k} and {v} (no other %), once per entry, joined by sep."""
    (ks, kv), (es, ev) = keys, elems
    n = len(kv)
    if n == 0:
        return ""
    args: list = [None] * (2 * n)
    args[0::2] = kv
    args[1::2] = ev
    one = pattern.format(k=ks, v=es)
    fmt = (one + sep) * (n - 1) + one
    return fmt % tuple(args)


def prefetch_fields(fields: list[Field], reader: BulkReader) -> None:
    """One bulk fetch for every string the fields point at; the Codec fallback's own
    rounds for the others."""
    addrs: list[int] = []
    sizes: list[int] = []
    for f in fields:
        a, s = f.wanted()
        addrs.extend(a)
        sizes.extend(s)
    if addrs:
        reader.fetch_columns(addrs, sizes)
    from .values import prefetch
    prefetch([(f.codec, f.places) for f in fields if f.plan is None], reader)


def fields_of(cells: Cells, codecs) -> tuple[Field, Field]:
    lay = cells.layout
    return (Field(cells, codecs.key, lay.keys_off, lay.keysize),
            Field(cells, codecs.elem, lay.elems_off, lay.elemsize))
