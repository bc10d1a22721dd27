"""Decode values of a TypeDesc from bytes, printed the way Delve prints them.

A Codec is compiled once per type into closures (no per-value type dispatch), so
decoding a million keys costs a million small calls, not a tree walk each.
Values that live elsewhere (string bytes, keys and elems stored indirectly) are
fetched in bulk: `collect` lists the (address, size) ranges a value needs, the
caller fetches all of them at once with a BulkReader, then `text`/`json` read
from its cache.

Formats follow Delve's pretty printer (service/api/prettyprint.go): ints in
decimal, floats like strconv.FormatFloat(f, 'g', -1, bits), strings quoted like
strconv.Quote (cut after 64 bytes with `...+N more` unless asked for all),
structs `{A: 1, B: "x"}` (with the type name before nested structs), arrays
`[1,2,3]`, nil pointers `nil`, other pointers `(*T)(0xADDR)`.
"""
from __future__ import annotations

import math
import struct
from decimal import Decimal
from typing import Callable, Optional

from .bulk import BulkReader
from .layout import go_type_name
from .target import Kind, TypeDesc

Collect = Callable[[bytes, int, BulkReader, list], None]
Text = Callable[[bytes, int, BulkReader], str]
Json = Callable[[bytes, int, BulkReader], object]

DEFAULT_STRING_LIMIT = 64   # Delve's default MaxStringLen
DEFAULT_ARRAY_LIMIT = 64    # Delve's default MaxArrayValues (applies when strings are cut too)
MAX_DEPTH = 8               # nested types deeper than this print as (...)


# --- Go's number and string formatting ----------------------------------------

def go_float(x: float, bits: int = 64) -> str:
    """strconv.FormatFloat(x, 'g', -1, bits): shortest digits; %e when exp < -4 or >= 6."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    if x == 0:
        return "-0" if math.copysign(1.0, x) < 0 else "0"
    if bits == 32:
        s = None
        for p in range(1, 10):
            cand = f"{x:.{p}e}"
            if struct.unpack("<f", struct.pack("<f", float(cand)))[0] == x:
                s = cand
                break
        s = s or repr(x)
    else:
        s = repr(x)
    sign, digits, exp = Decimal(s).as_tuple()
    ds = "".join(map(str, digits)).rstrip("0") or "0"
    # exp is the decimal exponent of the last digit; dp = position of the decimal point.
    dp = len(digits) + exp
    e = dp - 1
    neg = "-" if sign else ""
    # strconv 'g' with the shortest precision: exponent form when e < -4 or e >= 6.
    if e < -4 or e >= 6:
        mant = ds[0] + ("." + ds[1:] if len(ds) > 1 else "")
        return f"{neg}{mant}e{'-' if e < 0 else '+'}{abs(e):02d}"
    if dp <= 0:
        return f"{neg}0.{'0' * -dp}{ds}"
    if dp >= len(ds):
        return f"{neg}{ds}{'0' * (dp - len(ds))}"
    return f"{neg}{ds[:dp]}.{ds[dp:]}"


_ESC = {0x07: "\\a", 0x08: "\\b", 0x0C: "\\f", 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t",
        0x0B: "\\v", 0x5C: "\\\\", 0x22: '\\"'}


def go_quote(b: bytes) -> str:
    """strconv.Quote of the bytes of a Go string (invalid UTF-8 bytes as \\xHH)."""
    try:
        s = b.decode("ascii")
        if s.isprintable() and '"' not in s and "\\" not in s:
            return '"' + s + '"'
    except UnicodeDecodeError:
        pass
    out = ['"']
    for ch in b.decode("utf-8", "surrogateescape"):
        c = ord(ch)
        if 0xDC80 <= c <= 0xDCFF:          # a byte that is not valid UTF-8
            out.append(f"\\x{c - 0xDC00:02x}")
        elif c in _ESC:
            out.append(_ESC[c])
        elif ch.isprintable():
            out.append(ch)
        elif c < 0x20 or c == 0x7F:
            out.append(f"\\x{c:02x}")
        elif c < 0x10000:
            out.append(f"\\u{c:04x}")
        else:
            out.append(f"\\U{c:08x}")
    out.append('"')
    return "".join(out)


# --- the codec ---------------------------------------------------------------------

_INT_FMT = {(Kind.INT, 1): "<b", (Kind.INT, 2): "<h", (Kind.INT, 4): "<i", (Kind.INT, 8): "<q",
            (Kind.UINT, 1): "<B", (Kind.UINT, 2): "<H", (Kind.UINT, 4): "<I", (Kind.UINT, 8): "<Q"}


def is_string_type(t: TypeDesc) -> bool:
    """Go's string and gomap::String: exactly {str *uint8; len int}."""
    t = t.strip_typedefs()
    if t.kind is not Kind.STRUCT:
        return False
    fs = t.fields
    return len(fs) == 2 and fs[0].name == "str" and fs[1].name == "len" \
        and fs[0].type.strip_typedefs().kind is Kind.POINTER and t.size == 16


def is_interface_type(t: TypeDesc) -> bool:
    t = t.strip_typedefs()
    if t.kind is Kind.INTERFACE:
        return True
    if t.kind is Kind.STRUCT and t.size == 16:
        names = [f.name for f in t.fields]
        return names in (["_type", "data"], ["tab", "data"])
    return False


class Codec:
    """Compiled decoder for one type. `depth` = rounds of bulk reads a value needs."""

    def __init__(self, t: TypeDesc, string_limit: Optional[int] = DEFAULT_STRING_LIMIT,
                 indirect: bool = False):
        self.type = t
        self.string_limit = string_limit
        c, tx, js, d = self._compile(t, top=True, level=0)
        # How columns.py can decode a whole column of this type without the closures:
        # ("int", fmt), ("bool", fmt), ("float", fmt, bits), ("string", str_off, len_off).
        self.column: Optional[tuple] = None if indirect else _column_plan(t)
        if indirect:
            c, tx, js, d = self._indirect(t, c, tx, js, d)
        self.collect: Optional[Collect] = c
        self.text: Text = tx
        self.json: Json = js
        self.depth = d

    # Each _compile returns (collect or None, text, json, depth).
    def _compile(self, t: TypeDesc, top: bool, level: int):
        name = go_type_name(t)
        s = t.strip_typedefs()
        k = s.kind
        if level > MAX_DEPTH:
            return None, (lambda b, o, m: "(...)"), (lambda b, o, m: None), 0
        if (k, s.size) in _INT_FMT:
            st = struct.Struct(_INT_FMT[(k, s.size)])
            up = st.unpack_from
            return None, (lambda b, o, m: str(up(b, o)[0])), (lambda b, o, m: up(b, o)[0]), 0
        if k in (Kind.CHAR, Kind.ENUM) and s.size in (1, 2, 4, 8):
            st = struct.Struct(_INT_FMT[(Kind.INT, s.size)])
            up = st.unpack_from
            return None, (lambda b, o, m: str(up(b, o)[0])), (lambda b, o, m: up(b, o)[0]), 0
        if k is Kind.BOOL:
            return None, (lambda b, o, m: "true" if b[o] else "false"), (lambda b, o, m: bool(b[o])), 0
        if k is Kind.FLOAT and s.size in (4, 8):
            up = struct.Struct("<f" if s.size == 4 else "<d").unpack_from
            bits = s.size * 8
            return (None, (lambda b, o, m: go_float(up(b, o)[0], bits)),
                    (lambda b, o, m: _json_float(up(b, o)[0])), 0)
        if k is Kind.COMPLEX and s.size in (8, 16):
            half = s.size // 2
            up = struct.Struct("<ff" if half == 4 else "<dd").unpack_from
            bits = half * 8
            return (None, (lambda b, o, m: "({} + {}i)".format(*(go_float(x, bits) for x in up(b, o)))),
                    (lambda b, o, m: [_json_float(x) for x in up(b, o)]), 0)
        if is_string_type(s):
            return self._string(s)
        if is_interface_type(s):
            return self._interface(name)
        if k is Kind.POINTER:
            tname = name if name.startswith("*") else "*" + name

            def ptext(b, o, m, top=top):
                p = int.from_bytes(b[o:o + 8], "little")
                if p == 0:
                    return f"{tname} nil" if top is None else "nil"
                return f"({tname})({p:#x})"

            def pjson(b, o, m):
                p = int.from_bytes(b[o:o + 8], "little")
                return None if p == 0 else f"{p:#x}"
            return None, ptext, pjson, 0
        if k is Kind.ARRAY and s.target is not None:
            return self._array(s, name, top, level)
        if k is Kind.STRUCT:
            return self._struct(s, name, top, level)
        label = f"(unknown {name})"
        return None, (lambda b, o, m: label), (lambda b, o, m: label), 0

    def _string(self, s: TypeDesc):
        fo = s.field("str").offset
        lo = s.field("len").offset
        limit = self.string_limit

        def collect(b, o, m, out):
            p = int.from_bytes(b[o + fo:o + fo + 8], "little")
            n = int.from_bytes(b[o + lo:o + lo + 8], "little", signed=True)
            if n > 0:
                # no cache check: BulkReader.fetch drops what it already holds
                out.append((p, n if limit is None or n < limit else limit))

        def raw(b, o, m):
            p = int.from_bytes(b[o + fo:o + fo + 8], "little")
            n = int.from_bytes(b[o + lo:o + lo + 8], "little", signed=True)
            if n == 0:
                return b"", 0, p
            if n < 0:
                return None, n, p
            want = n if limit is None else min(n, limit)
            return m.read(p, want), n, p

        def text(b, o, m):
            data, n, p = raw(b, o, m)
            if data is None:
                return f"(unreadable string of length {n} at {p:#x})"
            if len(data) < n:
                return go_quote(data + f"...+{n - len(data)} more".encode())
            return go_quote(data)

        def js(b, o, m):
            data, n, p = raw(b, o, m)
            if data is None:
                return f"(unreadable string of length {n} at {p:#x})"
            return data.decode("utf-8", "replace")
        return collect, text, js, 1

    def _interface(self, name: str):
        def text(b, o, m):
            t = int.from_bytes(b[o:o + 8], "little")
            d = int.from_bytes(b[o + 8:o + 16], "little")
            if t == 0:
                return "nil"
            return f"{name}(type at {t:#x}, data {d:#x}: dynamic type not decoded)"
        return None, text, text, 0

    def _array(self, s: TypeDesc, name: str, top: bool, level: int):
        el = s.target
        n = s.count or (s.size // el.size if el.size else 0)
        esz = el.size
        ec, et, ej, d = self._compile(el, top=False, level=level + 1)
        prefix = "" if top else name + " "
        if s.count == 0 and s.size == 0:
            n = 0

        # Delve shows at most MaxArrayValues elements, then `...+N more`; an
        # unlimited print (string_limit None: --all, JSON) shows every element.
        shown = n if self.string_limit is None else min(n, DEFAULT_ARRAY_LIMIT)
        more = "" if shown == n else ("," if shown else "") + f"...+{n - shown} more"

        def text(b, o, m):
            return (prefix + "[" + ",".join(et(b, o + i * esz, m) for i in range(shown))
                    + more + "]")

        def js(b, o, m):
            return [ej(b, o + i * esz, m) for i in range(n)]
        collect = None
        if ec is not None:
            def collect(b, o, m, out):
                for i in range(n):
                    ec(b, o + i * esz, m, out)
        return collect, text, js, d

    def _struct(self, s: TypeDesc, name: str, top: bool, level: int):
        parts = []
        for f in s.fields:
            c, t, j, d = self._compile(f.type, top=False, level=level + 1)
            parts.append((f.name, f.offset, c, t, j, d))
        prefix = "" if top else name + " "

        def text(b, o, m):
            return prefix + "{" + ", ".join(f"{fn}: {t(b, o + fo, m)}"
                                            for fn, fo, _, t, _, _ in parts) + "}"

        def js(b, o, m):
            return {fn: j(b, o + fo, m) for fn, fo, _, _, j, _ in parts}
        cs = [(fo, c) for _, fo, c, _, _, _ in parts if c is not None]
        collect = None
        if cs:
            def collect(b, o, m, out):
                for fo, c in cs:
                    c(b, o + fo, m, out)
        return collect, text, js, max([p[5] for p in parts], default=0)

    def _indirect(self, t: TypeDesc, c, tx, js, d):
        """A slot holding *K for a K over 128 bytes: read K where it points."""
        size = t.size

        def collect(b, o, m, out):
            p = int.from_bytes(b[o:o + 8], "little")
            data = m.get(p, size)
            if data is None:
                if p:
                    out.append((p, size))
            elif c is not None:
                c(data, 0, m, out)

        def text(b, o, m):
            p = int.from_bytes(b[o:o + 8], "little")
            data = m.read(p, size) if p else None
            return tx(data, 0, m) if data is not None else f"(unreadable {go_type_name(t)} at {p:#x})"

        def jsn(b, o, m):
            p = int.from_bytes(b[o:o + 8], "little")
            data = m.read(p, size) if p else None
            return js(data, 0, m) if data is not None else f"(unreadable at {p:#x})"
        return collect, text, jsn, d + 1


_COLUMN_INT = {1: "b", 2: "h", 4: "i", 8: "q"}
_COLUMN_UINT = {1: "B", 2: "H", 4: "I", 8: "Q"}


def _column_plan(t: TypeDesc) -> Optional[tuple]:
    """The column decoder of a top-level type, mirroring _compile's first cases."""
    s = t.strip_typedefs()
    k, n = s.kind, s.size
    if k is Kind.INT and n in _COLUMN_INT:
        return "int", _COLUMN_INT[n]
    if k is Kind.UINT and n in _COLUMN_UINT:
        return "int", _COLUMN_UINT[n]
    if k in (Kind.CHAR, Kind.ENUM) and n in _COLUMN_INT:
        return "int", _COLUMN_INT[n]
    if k is Kind.BOOL:
        return "bool", "B"
    if k is Kind.FLOAT and n in (4, 8):
        return "float", "f" if n == 4 else "d", n * 8
    if is_string_type(s):
        return "string", s.field("str").offset, s.field("len").offset
    return None


def _json_float(x: float):
    if math.isnan(x) or math.isinf(x):
        return go_float(x)
    return x


def prefetch(codecs_and_places: list[tuple[Codec, list[tuple[bytes, int]]]], reader: BulkReader) -> None:
    """Bulk-read everything the listed values point at, round by round."""
    rounds = max((c.depth for c, _ in codecs_and_places if c.collect is not None), default=0)
    for _ in range(rounds):
        out: list[tuple[int, int]] = []
        for c, places in codecs_and_places:
            if c.collect is None:
                continue
            col = c.collect
            for b, o in places:
                col(b, o, reader, out)
        if not out:
            break
        reader.fetch(out)
