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

import json
import sys
from bisect import bisect_right
from itertools import chain, compress, islice
from typing import Optional

from . import grow
from .bulk import BulkReader
from .layout import BUCKET_CNT, MapLayout
from .values import Codec, go_quote

_LIVE = grow._LIVE
_NATIVE_LITTLE = sys.byteorder == "little"
_encode_json_str = json.encoder.encode_basestring_ascii


class Cells:
    """The live cells of some runs, gathered column by column."""

    def __init__(self, layout: MapLayout, runs: list, limit: Optional[int] = None):
        self.layout = layout
        self.runs = runs
        self._cols: dict = {}
        self._bufs: dict[int, bytes] = {}   # keeps every buf alive while its id is a key
        sel = [self._tophash(buf)[BUCKET_CNT * a:BUCKET_CNT * e].translate(_LIVE)
               for buf, a, e in runs]
        self.selector = sel[0] if len(sel) == 1 else b"".join(sel)
        self.total = self.selector.count(1)
        self.limit = limit
        self.count = self.total if limit is None else min(limit, self.total)

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
            if to % 8 == 0 and bs % 8 == 0 and _NATIVE_LITTLE:
                th = memoryview(buf)[:n * bs].cast("Q")[to // 8::bs // 8].tobytes()
            else:
                th = b"".join(buf[o + to:o + to + BUCKET_CNT] for o in range(0, n * bs, bs))
            self._cols[key] = th
        return th

    def _gather(self, per_buf) -> list:
        """The live cells' values in order; per_buf(buf) gives every cell's value of buf."""
        pieces = []
        for buf, a, e in self.runs:
            vals = per_buf(buf)
            pieces.append(vals if a == 0 and BUCKET_CNT * e == len(vals)
                          else vals[BUCKET_CNT * a:BUCKET_CNT * e])
        it = compress(pieces[0] if len(pieces) == 1 else chain.from_iterable(pieces), self.selector)
        return list(it if self.limit is None else islice(it, self.limit))

    def column(self, fmt: str, off: int, stride: int) -> list:
        """Field of struct format `fmt` (one native item) at off + slot * stride."""
        return self._gather(lambda buf: self._column(buf, fmt, off, stride))

    def _column(self, buf: bytes, fmt: str, off: int, stride: int) -> list:
        key = (id(buf), fmt, off, stride)
        vals = self._cols.get(key)
        if vals is not None:
            return vals
        self._bufs[id(buf)] = buf
        import struct
        size = struct.calcsize(fmt)
        bs = self.layout.bucketsize
        n = self._nbk(buf)
        vals = [None] * (BUCKET_CNT * n)
        if _NATIVE_LITTLE and bs % size == 0 and off % size == 0 and stride % size == 0:
            mv = memoryview(buf)[:n * bs].cast(fmt)
            for s in range(BUCKET_CNT):
                vals[s::BUCKET_CNT] = mv[(off + s * stride) // size::bs // size].tolist()
        else:
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
        return self._gather(per_buf)


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

    def wanted(self, limit: Optional[int]) -> tuple[list, list]:
        """String bytes to read: (addresses, sizes)."""
        if self.plan is None or self.plan[0] != "string":
            return [], []
        if limit is None:
            return self.ptrs, self.lens
        return self.ptrs, [n if n < limit else limit for n in self.lens]

    def _strings(self, reader: BulkReader) -> list:
        """The bytes of every string (None when unreadable), cut at the codec's limit."""
        limit = self.codec.string_limit
        starts, spans = reader.index()
        out = []
        app = out.append
        rd = reader.read
        for p, n in zip(self.ptrs, self.lens):
            if n <= 0:
                app(b"" if n == 0 else None)
                continue
            if limit is not None and n > limit:
                n = limit
            i = bisect_right(starts, p) - 1
            if i >= 0:
                s, d = spans[i]
                if p + n <= s + len(d):
                    app(d[p - s:p - s + n])
                    continue
            app(rd(p, n))
        return out

    def texts(self, reader: BulkReader) -> list[str]:
        plan = self.plan
        if plan is None:
            f = self.codec.text
            return [f(b, o, reader) for b, o in self.places]
        kind = plan[0]
        if kind == "int":
            return list(map(str, self.raw))
        if kind == "bool":
            return ["true" if v else "false" for v in self.raw]
        if kind == "float":
            from .values import go_float
            bits = plan[2]
            return [go_float(v, bits) for v in self.raw]
        return self._string_texts(reader)

    def _string_texts(self, reader: BulkReader) -> list[str]:
        datas = self._strings(reader)
        blob = b"".join(d for d in datas if d is not None)
        simple = blob.isascii()
        if simple:
            s = blob.decode("ascii")
            simple = s.isprintable() and '"' not in s and "\\" not in s
        out = []
        app = out.append
        for d, n, p in zip(datas, self.lens, self.ptrs):
            if d is None:
                app(f"(unreadable string of length {n} at {p:#x})")
            elif len(d) < n:
                app(go_quote(d + f"...+{n - len(d)} more".encode()))
            elif simple:
                app('"' + d.decode("ascii") + '"')
            else:
                app(go_quote(d))
        return out

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
        out = []
        app = out.append
        for d, n, p in zip(self._strings(reader), self.lens, self.ptrs):
            app(f"(unreadable string of length {n} at {p:#x})" if d is None
                else d.decode("utf-8", "replace"))
        return out

    def json_texts(self, reader: BulkReader) -> list[str]:
        """Each value as json.dumps would write it."""
        plan = self.plan
        vals = self.json_values(reader)
        if plan is not None and plan[0] == "int":
            return list(map(str, vals))
        if plan is not None and plan[0] == "string":
            return list(map(_encode_json_str, vals))
        return [json.dumps(v) for v in vals]


def prefetch_fields(fields: list[Field], reader: BulkReader) -> None:
    """One bulk fetch for every string the fields point at; the Codec fallback's own
    rounds for the others."""
    addrs: list[int] = []
    sizes: list[int] = []
    for f in fields:
        a, s = f.wanted(f.codec.string_limit)
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
