"""`gomap regs`: the arguments of a map runtime call, decoded in map terms.

At the first instruction of mapassign*/mapaccess*/mapdelete* the arguments are
still in registers, and which registers depends on who compiled the callee:

  engine (C++, System V):   t = RDI, h = RSI, key = RDX   (faststr: str RDX, len RCX)
  Go 1.19 (register ABI):   t = RAX, h = RBX, key = RCX   (faststr: str RCX, len RDI)

Past the first instruction the registers are reused, so the same values are
taken from the frame's arguments (t, h, key/ky/s) through the debug info.

From t (the maptype) come the key and elem types and slot sizes, from h the
header, from the key register(s) the key. Then where the key belongs: the hash
is recomputed from h.hash0, giving tophash, the bucket index and the bucket
pointer in the new array and, while growing, the old bucket and whether it is
evacuated. Both runtimes hash as Go 1.19 does (gomapcore/gohash.py: aeshash
keyed by the process's aeskeysched, or hash64.go's fallback keyed by hashkey),
each with its own key material: runtime.* in a Go program, gomap::* in the
engine. For Go the function is picked by comparing maptype.hasher with the
runtime's hash functions, for the engine by the key's kind. Hashers it cannot
redo (the compiler's generated ones for composite keys, interfaces) leave the
key's bucket to a scan of the map, and the report says so.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Optional

from .keys import KeyType, KeyValue, format_key, key_from_int_bytes, read_string
from .layout import MapLayout, MapRef, builtin_type, layout_from_types
from .snapshot import MIN_TOP_HASH, SAME_SIZE_GROW, Hmap, flags_text, read_hmap, take_snapshot
from .target import GomapError, Target

# --- which call are we in -----------------------------------------------------

_FN_RE = re.compile(r"(?:^|[\s:.])(mapassign|mapaccess1|mapaccess2|mapdelete|mapaccessK)"
                    r"(_fast32|_fast64|_faststr|_fast32ptr|_fast64ptr|_fat)?\b")


@dataclass(frozen=True)
class MapCall:
    runtime: str      # "engine" or "go"
    op: str           # "mapassign", "mapaccess1", ...
    variant: str      # "", "_fast32", "_fast64", "_faststr", "_fast64ptr", ...

    @property
    def symbol(self) -> str:
        return ("gomap::" if self.runtime == "engine" else "runtime.") + self.op + self.variant

    @property
    def regs(self) -> tuple[str, str, str, Optional[str]]:
        """(t, h, key, second key word) registers at the entry."""
        if self.runtime == "engine":
            return ("rdi", "rsi", "rdx", "rcx" if self.variant == "_faststr" else None)
        return ("rax", "rbx", "rcx", "rdi" if self.variant == "_faststr" else None)


# The engine's mapassign_fast32/64 etc. are one-line wrappers around shared
# templates (engine/src/fastint.h); inside those, the frame's arguments are the
# same t, h, key.
_ENGINE_BODIES = re.compile(r"gomap::detail_rt::fast(Assign|Access|Delete)<(unsigned (?:long|int))>")
_BODY_OP = {"Assign": "mapassign", "Access": "mapaccess2", "Delete": "mapdelete"}


def classify(function_name: Optional[str]) -> Optional[MapCall]:
    """Is this frame's function a map entry point of the engine or of Go's runtime?"""
    if not function_name:
        return None
    name = function_name.split("(")[0].strip()
    body = _ENGINE_BODIES.match(name)
    if body:
        return MapCall("engine", _BODY_OP[body.group(1)],
                       "_fast64" if body.group(2) == "unsigned long" else "_fast32")
    m = _FN_RE.search(name)
    if m is None:
        return None
    if name.startswith("gomap::") or "gomap::" in name:
        rt = "engine"
    elif name.startswith("runtime."):
        rt = "go"
    else:
        return None
    # Only the entry points themselves, not runtime.mapassign_fast64.func1 etc.
    tail = name[m.end():]
    if tail and not tail.startswith("("):
        return None
    return MapCall(rt, m.group(1), m.group(2) or "")


# --- maptype -------------------------------------------------------------------

# Go's reflect kinds (runtime/typekind.go) that a key or elem can have here.
_GO_KINDS = {1: "bool", 2: "int", 3: "int8", 4: "int16", 5: "int32", 6: "int64", 7: "uint",
             8: "uint8", 9: "uint16", 10: "uint32", 11: "uint64", 12: "uintptr", 13: "float32",
             14: "float64", 15: "complex64", 16: "complex128", 17: "array", 18: "chan", 19: "func",
             20: "interface", 21: "map", 22: "pointer", 23: "slice", 24: "string", 25: "struct",
             26: "unsafe.Pointer"}
_KIND_MASK = 31
# engine KeyKind (maptype.h)
_ENGINE_KEYKIND = {1: "mem32", 2: "mem64", 3: "mem", 4: "string", 5: "float32", 6: "float64"}
_INDIRECTKEY, _INDIRECTELEM = 1, 2


@dataclass
class TypeInfo:
    name: str         # Go spelling when known ("int64", "string"), else "kind N bytes"
    size: int
    kind: str         # Go kind name, or the engine's KeyKind for keys
    addr: int


@dataclass
class MapTypeInfo:
    addr: int
    name: str
    key: TypeInfo
    elem: TypeInfo
    keysize: int
    elemsize: int
    bucketsize: int
    flags: int

    @property
    def indirect_key(self) -> bool:
        return bool(self.flags & _INDIRECTKEY)

    def key_type(self) -> KeyType:
        n, k = self.key.name, self.key.kind
        if n == "string" or k == "string":
            return KeyType("string", 16, "string")
        if n.startswith("float") or k in ("float32", "float64"):
            return KeyType("float", self.key.size, n)
        if n == "bool":
            return KeyType("bool", 1, n)
        if n.startswith("uint") or n == "uintptr":
            return KeyType("uint", self.key.size, n)
        if n.startswith("int") or k in ("mem32", "mem64"):
            return KeyType("int", self.key.size, n if n.startswith("int") else f"int{self.key.size * 8}")
        return KeyType("bytes", self.key.size, n)


def _u(b: bytes, off: int, n: int) -> int:
    return int.from_bytes(b[off:off + n], "little")


def _cstring(target: Target, p: int, limit: int = 256) -> str:
    if not p:
        return ""
    out = bytearray()
    while len(out) < limit:
        try:
            chunk = target.read_memory(p + len(out), 16)
        except GomapError:
            break
        z = chunk.find(b"\0")
        if z >= 0:
            out += chunk[:z]
            break
        out += chunk
    return out.decode("utf-8", "replace")


def read_engine_maptype(target: Target, t: int) -> MapTypeInfo:
    """maptype.h: key*, elem* (typeinfo), hasher, keysize u8, elemsize u8,
    bucketsize u16, flags u32, name char*; typeinfo: size, align, equal, name, kind u8."""
    mt = target.read_memory(t, 40)
    infos = []
    for p in (_u(mt, 0, 8), _u(mt, 8, 8)):
        ti = target.read_memory(p, 34)
        infos.append(TypeInfo(_cstring(target, _u(ti, 24, 8)) or "?", _u(ti, 0, 8),
                              _ENGINE_KEYKIND.get(ti[32], "?"), p))
    return MapTypeInfo(t, _cstring(target, _u(mt, 32, 8)) or "?", infos[0], infos[1],
                       mt[24], mt[25], _u(mt, 26, 2), _u(mt, 28, 4))


def read_go_maptype(target: Target, t: int) -> MapTypeInfo:
    """runtime/type.go: maptype{typ _type (48 bytes); key, elem, bucket *_type;
    hasher; keysize u8 @80; elemsize u8 @81; bucketsize u16 @82; flags u32 @84};
    _type{size @0 ... kind u8 @23}. Names need the module's name table: the kind
    and size say enough for basic types."""
    mt = target.read_memory(t, 88)
    infos = []
    for p in (_u(mt, 48, 8), _u(mt, 56, 8)):
        ty = target.read_memory(p, 24)
        kind = _GO_KINDS.get(ty[23] & _KIND_MASK, "?")
        size = _u(ty, 0, 8)
        name = kind if kind not in ("array", "struct", "pointer", "interface", "?") \
            else f"{kind} ({size} bytes)"
        if kind in ("int", "uint"):
            name = kind
        infos.append(TypeInfo(name, size, kind, p))
    return MapTypeInfo(t, f"map[{infos[0].name}]{infos[1].name}", infos[0], infos[1],
                       mt[80], mt[81], _u(mt, 82, 2), _u(mt, 84, 4))


def layout_for(mti: MapTypeInfo) -> MapLayout:
    """A MapLayout (for snapshot.py) from the maptype's slot sizes."""
    def slot(ti: TypeInfo, size: int):
        t = builtin_type(ti.name) if ti.name in ("int64", "uint64", "int32", "uint32", "string",
                                                 "float64", "float32", "bool", "int", "uint") else None
        if t is None or t.size != size:
            t = builtin_type(f"[{size}]uint8")
        return t
    kt = slot(mti.key, mti.keysize) if mti.keysize == mti.key.size else builtin_type(f"[{mti.key.size}]uint8")
    et = slot(mti.elem, mti.elemsize) if mti.elemsize == mti.elem.size else builtin_type(f"[{mti.elem.size}]uint8")
    lay = layout_from_types(kt, et, mti.name)
    if lay.bucketsize != mti.bucketsize:
        raise GomapError(f"maptype at {mti.addr:#x} says bucketsize {mti.bucketsize}, but key/elem "
                         f"slots of {mti.keysize}/{mti.elemsize} bytes make {lay.bucketsize}: "
                         "not a maptype?")
    return lay


# --- the hash -------------------------------------------------------------------

def tophash(h: int) -> int:
    top = (h >> 56) & 0xFF
    return top + MIN_TOP_HASH if top < MIN_TOP_HASH else top


def key_hash(target: Target, runtime: str, mti: MapTypeInfo, key_raw: bytes, seed: int,
             hashers: Optional[dict] = None) -> tuple[int, str]:
    """(hash, which hash) of a key as its runtime computes it (gohash.py): the
    engine's by the key's kind, Go's through the maptype's hasher (GomapError
    when that is one not recomputed here). hashers, when given, keeps each
    maptype's GoHasher for the next call with the same key material (a new
    run of the program has new keys)."""
    from . import gohash
    keys = gohash.read_keys(target, runtime)
    gh = hashers.get((mti.addr, keys)) if hashers is not None else None
    if gh is None:
        gh = gohash.engine_hasher(target, mti.key.kind, mti.key.size, keys) if runtime == "engine" \
            else gohash.hasher_for(target, mti.addr, mti.key.size, keys)
        if hashers is not None:
            hashers[(mti.addr, keys)] = gh
    return gh.fn(key_raw, seed) & gohash.M64, \
        f"{gh.name}, {'aeshash' if gh.keys.use_aes else 'hash64.go fallback'}"


def old_bucket_of(target: Target, hm: Hmap, hv: int, bucketsize: int) -> tuple[int, int, bool]:
    """While growing: (index, address, evacuated?) of the old bucket of hash hv."""
    nold = 1 << hm.B if hm.flags & SAME_SIZE_GROW else 1 << max(hm.B - 1, 0)
    oi = hv & (nold - 1)
    addr = hm.oldbuckets + oi * bucketsize
    return oi, addr, 1 < target.read_memory(addr, 1)[0] < MIN_TOP_HASH


# --- decoding a call ------------------------------------------------------------

@dataclass
class RegsReport:
    call: MapCall
    source: str                      # "registers at entry" or "frame arguments"
    t: int
    h: int
    key_words: tuple[int, ...]
    maptype: MapTypeInfo
    hmap: Optional[Hmap]
    key: Optional[KeyValue]
    key_type: KeyType
    hash: Optional[int] = None
    tophash: Optional[int] = None
    bucket_index: Optional[int] = None
    bucket_addr: Optional[int] = None
    old_index: Optional[int] = None
    old_bucket_addr: Optional[int] = None
    old_evacuated: Optional[bool] = None
    hash_name: str = ""              # which hash computed `hash`
    lands_in: str = ""               # which array the operation will use
    found: Optional[str] = None      # where the key is now (scan), or why not
    notes: list[str] = field(default_factory=list)


def argument_words(target: Target, call: MapCall) -> tuple[str, int, int, tuple[int, ...]]:
    """(source, t, h, key words) from registers at the entry, else from the frame."""
    at_entry = False
    from .stops import function_address
    entry = function_address(target, call.symbol)
    try:
        pc = target.pc()
    except GomapError:
        pc = None
    if entry is not None and pc == entry:
        at_entry = True
    rt, rh, rk, rk2 = call.regs
    if at_entry:
        words = (target.register(rk),) + ((target.register(rk2),) if rk2 else ())
        return f"registers at entry ({rt.upper()}, {rh.upper()}, {rk.upper()}"\
               f"{', ' + rk2.upper() if rk2 else ''})", target.register(rt), target.register(rh), words
    # Inside the function: the debug info says where the arguments live now.
    def arg(*names: str) -> bytes:
        for n in names:
            try:
                return target.evaluate(n).data
            except GomapError:
                continue
        raise GomapError(f"not at the entry of {call.symbol} and its argument "
                         f"{names[0]!r} is not readable from the frame")
    t = _u(arg("t"), 0, 8)
    h = _u(arg("h"), 0, 8)
    kd = arg("key", "ky", "s")
    words = (_u(kd, 0, 8), _u(kd, 8, 8)) if call.variant == "_faststr" else (_u(kd, 0, 8),)
    return "frame arguments (t, h, key)", t, h, words


def decode_call(target: Target) -> RegsReport:
    if not target.is_running():
        from .target import NotRunningError
        raise NotRunningError()
    fn = target.function_name()
    call = classify(fn)
    if call is None:
        raise GomapError(f"not stopped in a map runtime call (mapassign*, mapaccess*, mapdelete*): "
                         f"the selected frame is {fn or 'unknown'}")
    source, t, h, words = argument_words(target, call)
    if not t:
        raise GomapError(f"{call.symbol}: the maptype argument is nil")
    mti = read_engine_maptype(target, t) if call.runtime == "engine" else read_go_maptype(target, t)
    kt = mti.key_type()
    lay = layout_for(mti)
    # The key: by value for fast32/fast64, {str,len} for faststr, else a pointer to it.
    key: Optional[KeyValue]
    key_raw = b""
    if call.variant in ("_fast64", "_fast32"):
        n = 8 if call.variant == "_fast64" else 4
        key_raw = (words[0] & ((1 << (8 * n)) - 1)).to_bytes(n, "little")
        key = key_from_int_bytes(kt, key_raw)
    elif call.variant == "_faststr":
        key = read_string(target, words[0], words[1] if words[1] < 1 << 63 else words[1] - (1 << 64))
        key_raw = words[0].to_bytes(8, "little") + words[1].to_bytes(8, "little")
    elif call.variant in ("_fast64ptr", "_fast32ptr"):
        key_raw = words[0].to_bytes(8, "little")
        key = words[0]
    else:
        p = words[0]
        key_raw = target.read_memory(p, mti.key.size) if p else b""
        key = read_string(target, _u(key_raw, 0, 8), _u(key_raw, 8, 8)) if kt.kind == "string" \
            else key_from_int_bytes(kt, key_raw)
    rep = RegsReport(call, source, t, h, tuple(words), mti, None, key, kt)
    if not h:
        rep.notes.append("h is nil: " + ("assigning panics (assignment to entry in nil map)"
                                         if call.op == "mapassign" else "a nil map has no entries"))
        return rep
    hm = read_hmap(target, lay, h)
    rep.hmap = hm
    if not hm.buckets:
        rep.notes.append("no bucket array yet (B = 0 maps allocate it on the first assign)")
    growing = hm.oldbuckets != 0
    hv = None
    try:
        hv, rep.hash_name = key_hash(target, call.runtime, mti, key_raw, hm.hash0)
    except GomapError as e:
        rep.notes.append(f"{'the engine' if call.runtime == 'engine' else 'Go'}'s hash not "
                         f"recomputed: {e}; the key's bucket is found by scanning the map")
    if hv is not None:
        rep.hash = hv
        rep.tophash = tophash(hv)
        rep.bucket_index = hv & ((1 << hm.B) - 1)
        if hm.buckets:
            rep.bucket_addr = hm.buckets + rep.bucket_index * mti.bucketsize
        if growing:
            rep.old_index, rep.old_bucket_addr, rep.old_evacuated = \
                old_bucket_of(target, hm, hv, mti.bucketsize)
        rep.lands_in = _lands_in(call, rep, growing)
    if hm.buckets:
        rep.found = _scan_for_key(target, MapRef(lay, h), kt, key, rep)
    return rep


def _lands_in(call: MapCall, rep: RegsReport, growing: bool) -> str:
    if not growing:
        return f"new bucket {rep.bucket_index}"
    if call.op in ("mapassign", "mapdelete"):
        return (f"new bucket {rep.bucket_index} (growWork evacuates old bucket {rep.old_index} first)"
                if not rep.old_evacuated else f"new bucket {rep.bucket_index}")
    return (f"old bucket {rep.old_index} (not evacuated yet: lookups read the old array)"
            if not rep.old_evacuated else f"new bucket {rep.bucket_index}")


def _scan_for_key(target: Target, ref: MapRef, kt: KeyType, key, rep: RegsReport) -> str:
    from .follow import find_key
    try:
        snap = take_snapshot(target, ref)
        place = find_key(target, snap, kt, key)
    except GomapError as e:
        return f"not scanned: {e}"
    if place is None:
        return "not in the map" + (" (an assign inserts it)" if rep.call.op == "mapassign" else "")
    if rep.hash is None:
        # No hash: the scan is what says where the key is.
        bs = ref.layout.bucketsize
        if place.which == "new":
            rep.bucket_index, rep.bucket_addr = place.index, snap.hmap.buckets + place.index * bs
        else:
            rep.old_index, rep.old_bucket_addr = place.index, snap.hmap.oldbuckets + place.index * bs
            rep.old_evacuated = False
        rep.tophash = target.read_memory(place.tophash_addr, 1)[0]
    return f"present in {place.describe()}"


# --- output ------------------------------------------------------------------------

def render_text(r: RegsReport) -> str:
    m = r.maptype
    rt, rh, rk, rk2 = r.call.regs
    lines = [f"{r.call.symbol}: arguments from {r.source}"]
    lines.append(f"  t   = {r.t:#x}  maptype {m.name}: key {m.key.name} ({m.key.size} bytes), "
                 f"elem {m.elem.name} ({m.elem.size} bytes), slots {m.keysize}/{m.elemsize}, "
                 f"bucketsize {m.bucketsize}" + (", indirect key" if m.indirect_key else "")
                 + (", indirect elem" if m.flags & _INDIRECTELEM else ""))
    if r.hmap is None:
        lines.append(f"  h   = {r.h:#x}  nil map")
    else:
        h = r.hmap
        grow = "not growing"
        if h.oldbuckets:
            kind = "same-size grow" if h.flags & SAME_SIZE_GROW else "doubling grow"
            grow = f"growing ({kind}, oldbuckets {h.oldbuckets:#x}, nevacuate {h.nevacuate})"
        lines.append(f"  h   = {r.h:#x}  hmap count {h.count}, B {h.B} ({1 << h.B} buckets), "
                     f"buckets {h.buckets:#x}, flags {flags_text(h.flags)}, {grow}")
    kw = ", ".join(f"{w:#x}" for w in r.key_words)
    lines.append(f"  key = {kw}  {format_key(r.key, r.key_type) if r.key is not None else '?'}"
                 f" ({r.key_type.describe()})")
    if r.hash is not None:
        lines.append(f"  hash {r.hash:#018x} ({r.hash_name}, seed hash0 {r.hmap.hash0:#x}), "
                     f"tophash {r.tophash:#04x}")
    if r.bucket_index is not None and r.hmap is not None:
        lines.append(f"  bucket {r.bucket_index} of {1 << r.hmap.B} (new array)"
                     + (f" at {r.bucket_addr:#x}" if r.bucket_addr else ""))
    if r.old_index is not None:
        ev = "evacuated" if r.old_evacuated else ("not evacuated" if r.old_evacuated is False else "")
        lines.append(f"  old bucket {r.old_index} at {r.old_bucket_addr:#x}" + (f": {ev}" if ev else ""))
    if r.lands_in:
        lines.append(f"  this call uses {r.lands_in}")
    if r.found:
        lines.append(f"  key is {r.found}")
    for n in r.notes:
        lines.append(f"  note: {n}")
    return "\n".join(lines)


def render_json(r: RegsReport) -> str:
    m = r.maptype
    h = r.hmap
    d = {
        "function": r.call.symbol, "runtime": r.call.runtime, "source": r.source,
        "t": r.t, "h": r.h, "key_words": list(r.key_words),
        "maptype": {"name": m.name, "key": m.key.name, "key_size": m.key.size, "elem": m.elem.name,
                    "elem_size": m.elem.size, "keysize": m.keysize, "elemsize": m.elemsize,
                    "bucketsize": m.bucketsize, "flags": m.flags},
        "hmap": None if h is None else {
            "count": h.count, "B": h.B, "flags": h.flags, "hash0": h.hash0, "buckets": h.buckets,
            "oldbuckets": h.oldbuckets, "nevacuate": h.nevacuate, "growing": bool(h.oldbuckets)},
        "key": (r.key.decode("utf-8", "backslashreplace") if isinstance(r.key, bytes) else r.key),
        "hash": r.hash, "hash_function": r.hash_name or None, "tophash": r.tophash, "bucket_index": r.bucket_index,
        "bucket": r.bucket_addr, "old_bucket_index": r.old_index, "old_bucket": r.old_bucket_addr,
        "old_evacuated": r.old_evacuated, "lands_in": r.lands_in, "found": r.found, "notes": r.notes,
    }
    return json.dumps(d)
